/**
 * bash completion in real bash (Debian bash + bash-completion): the script from
 * completions/ is sourced, `complete -p` shows it registered, and the completion
 * function is called with COMP_WORDS / COMP_CWORD / COMP_LINE / COMP_POINT set as
 * readline sets them; COMPREPLY is what bash would offer.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ENCRYPTED, EXAMPLE_KEY_PATHS, ROOT, completionRepo } from "./completion-fixture.js"

const SCRIPT = join(ROOT, "completions/secrets.bash")
const BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

/** COMPREPLY for each command line (completed at its end), one array per line. */
function bashComplete(lines: string[], opts: { bashCompletion?: boolean } = {}): { registered: string; replies: string[][] } {
    const repo = completionRepo()
    const script = [
        opts.bashCompletion === false ? "" : `source ${BASH_COMPLETION}`,
        `source ${SCRIPT}`,
        "complete -p secrets",
        // COMP_WORDS split on blanks as readline does for these simple lines; an
        // empty last word when the line ends in a space.
        `t() { COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}; read -ra COMP_WORDS <<<"$1"; [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _secrets_completion; echo "@@"; [[ \${#COMPREPLY[@]} -gt 0 ]] && printf '%s\\n' "\${COMPREPLY[@]}"; true; }`,
        ...lines.map((l) => `t ${shellQuote(l)}`),
    ].join("\n")
    const out = execFileSync("bash", ["--norc", "--noprofile", "-c", script], { cwd: repo.dir, env: repo.env, encoding: "utf8" })
    const [registered = "", ...parts] = out.split("@@\n")
    return { registered: registered.trim(), replies: parts.map((p) => p.split("\n").filter((l) => l !== "")) }
}

function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`
}

describe("bash completion (real bash + bash-completion)", () => {
    it("registers the function and completes commands, subcommands, flags and choices", () => {
        const { registered, replies } = bashComplete([
            "secrets ed",
            "secrets e",
            "secrets keys r",
            "secrets decrypt --output-t",
            "secrets decrypt --output-type ",
            "secrets decrypt --output-type=j",
            "secrets completion ",
            "secrets updatekeys --",
            "secrets g",
            "secrets git d",
        ])
        expect(registered).toBe("complete -F _secrets_completion secrets")
        expect(replies).toEqual([
            ["edit"],
            ["encrypt", "edit", "exec-env", "exec-file", "export"],
            ["remove", "revoke", "rotate", "retired", "restore"],
            ["--output-type"],
            ["yaml", "json", "dotenv", "ini", "binary"],
            // readline replaces the text after the `=` only.
            ["json"],
            ["bash", "zsh", "fish"],
            replies[7],
            ["get", "groups", "git"],
            ["diff-text"],
        ])
        // Other flags may join updatekeys (issue 5 adds some); these must be there, long forms only.
        expect(replies[7]).toEqual(expect.arrayContaining(["--yes", "--dry-run", "--input-type", "--shamir-secret-sharing-threshold", "--help"]))
        expect(replies[7]?.every((f) => f.startsWith("--"))).toBe(true)
    })

    it("offers the encrypted files (not plaintext, not node_modules) for edit, and key names for keys remove", () => {
        const { replies } = bashComplete(["secrets edit ", "secrets edit dep", "secrets keys remove ", "secrets keys revoke w"])
        expect(replies).toEqual([ENCRYPTED, ["deploy/app.enc.env", "deploy/app.json"], ["web1", "alice", "recovery"], ["web1"]])
    })

    it("offers the key paths of FILE for set, quoted for the shell, without decrypting", () => {
        const { replies } = bashComplete(["secrets set secrets.yaml ", "secrets unset deploy/app.enc.env ", `secrets set secrets.yaml '["app2"]["d`])
        expect(replies[0]).toEqual(EXAMPLE_KEY_PATHS.map((p) => `'${p}'`))
        expect(replies[1]).toEqual([`'["secret"]'`, `'["another_secret"]'`])
        // Inside the quote the user opened, readline quotes; the candidates come bare.
        expect(replies[2]).toEqual(['["app2"]["db"]', '["app2"]["db"]["user"]', '["app2"]["db"]["password"]'])
    })

    it("works without bash-completion too (COMP_LINE split on blanks)", () => {
        const { registered, replies } = bashComplete(["secrets ed", "secrets edit ", "secrets decrypt --output-type=y"], { bashCompletion: false })
        expect(registered).toBe("complete -F _secrets_completion secrets")
        expect(replies).toEqual([["edit"], ENCRYPTED, ["yaml"]])
    })
})
