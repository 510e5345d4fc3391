/**
 * fish and zsh completion in the real shells: fish through `complete -C` after
 * sourcing completions/secrets.fish; zsh in an interactive session under tmux, with
 * completions/ on $fpath and compinit, pressing TAB and reading the screen.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { describe, expect, it } from "vitest"
import { ENCRYPTED, EXAMPLE_KEY_PATHS, ROOT, completionRepo } from "./completion-fixture.js"

describe("fish completion (complete -C)", () => {
    function fishComplete(lines: string[]): string[][] {
        const repo = completionRepo()
        const script = [`source ${join(ROOT, "completions/secrets.fish")}`, ...lines.map((l) => `echo @@; complete -C ${JSON.stringify(l)}`)].join("\n")
        const out = execFileSync("fish", ["--no-config", "-c", script], { cwd: repo.dir, env: repo.env, encoding: "utf8" })
        return out
            .split("@@\n")
            .slice(1)
            .map((p) => p.split("\n").filter((l) => l !== ""))
    }

    it("completes commands with descriptions, flags, choices, files, key paths and key names", () => {
        const [ed, keys, choices, edit, set, remove, encrypt] = fishComplete([
            "secrets ed",
            "secrets keys re",
            "secrets decrypt --output-type ",
            "secrets edit ",
            "secrets set secrets.yaml '[\"app2\"]",
            "secrets keys remove ",
            "secrets encrypt pla",
        ])
        expect(ed).toEqual(["edit\tedit an encrypted file in $EDITOR (a new file starts from an example)"])
        expect(keys?.map((l) => l.split("\t")[0])).toEqual(["remove", "restore", "retired", "revoke"])
        // fish sorts what it shows.
        expect(choices).toEqual(["binary", "dotenv", "ini", "json", "yaml"])
        expect(edit).toEqual(ENCRYPTED.map((f) => `${f}\tencrypted ${f.endsWith(".yaml") ? "yaml" : f.endsWith(".json") ? "json" : "dotenv"}`))
        expect(set).toEqual(
            EXAMPLE_KEY_PATHS.filter((p) => p.startsWith('["app2"]'))
                .sort()
                .map((p) => `${p}\t${p === '["app2"]' || p === '["app2"]["db"]' ? "map" : "str"}`),
        )
        expect(remove).toEqual(["alice\tuser key", "recovery\trecovery key", "web1\thost key"])
        // encrypt takes a plaintext file: fish's own file names, not the sops files.
        expect(encrypt).toEqual(["plain.yaml"])
    })
})

describe("zsh completion (interactive zsh under tmux)", () => {
    /** Start zsh in tmux in the fixture repo, type `keys`, wait until `want` is on screen; the screen. */
    async function zshScreen(keys: string[], want: RegExp): Promise<string> {
        const repo = completionRepo()
        const zdot = join(repo.dir, ".zdot")
        mkdirSync(zdot)
        writeFileSync(join(zdot, ".zshrc"), `PS1='%% '\nfpath=(${join(ROOT, "completions")} $fpath)\nautoload -Uz compinit && compinit -u -D\n`)
        const socket = `secrets-zsh-${process.pid}-${Math.random().toString(36).slice(2)}`
        const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8", cwd: repo.dir })
        const env = `env -i PATH=${repo.env.PATH} HOME=${repo.dir} ZDOTDIR=${zdot} TERM=xterm zsh -i`
        let screen = ""
        try {
            tmux("new-session", "-d", "-s", "z", "-x", "200", "-y", "50", "-c", repo.dir, env)
            // capture-pane drops trailing blanks: the prompt reads "%".
            await waitFor(() => (screen = tmux("capture-pane", "-p", "-t", "z")), /^%/m)
            for (const k of keys) {
                tmux("send-keys", "-t", "z", k)
                await sleep(500)
            }
            await waitFor(() => (screen = tmux("capture-pane", "-p", "-t", "z")), want)
        } finally {
            tmux("kill-server")
        }
        return screen
    }

    async function waitFor(read: () => string, want: RegExp): Promise<void> {
        // 60 s: a hang guard; the caller's assertions show the screen (issue 10 §16).
        const end = Date.now() + 60_000
        while (!want.test(read())) {
            if (Date.now() > end) return
            await sleep(200)
        }
    }

    it("lists the commands with their descriptions for `secrets <TAB>`", async () => {
        const screen = await zshScreen(["secrets ", "Tab"], /view +--/)
        for (const [name, description] of [
            ["decrypt", "decrypt a file and print it"],
            ["edit", "edit an encrypted file in $EDITOR"],
            ["keys", "manage named keys"],
            ["completion", "print the shell completion script for bash, zsh or fish"],
            ["view", "decrypt a file to stdout"],
        ]) {
            expect(screen).toMatch(new RegExp(`^${name} +-- ${description!.replace(/[$()]/g, "\\$&")}`, "m"))
        }
        expect(screen).not.toContain("__complete")
    })

    it("lists the format choices after --output-type", async () => {
        const screen = await zshScreen(["secrets decrypt --output-type ", "Tab"], /binary/)
        expect(screen).toMatch(/^binary +dotenv +ini +json +yaml *$/m)
    })

    it("lists the encrypted files for edit and the key names for keys remove", async () => {
        expect(await zshScreen(["secrets edit ", "Tab"], /secrets\.yaml/)).toMatch(/deploy\/app\.enc\.env +-- encrypted dotenv\s+deploy\/app\.json +-- encrypted json\s+secrets\.yaml +-- encrypted yaml/)
        const names = await zshScreen(["secrets keys remove ", "Tab"], /web1/)
        expect(names).toMatch(/alice +-- user key/)
        expect(names).toMatch(/recovery +-- recovery key/)
        expect(names).toMatch(/web1 +-- host key/)
    })

    it("inserts the common start of the key paths, quoted, then lists them", async () => {
        const screen = await zshScreen(["secrets set secrets.yaml ", "Tab", "Tab"], /nested_unencrypted/)
        expect(screen).toContain(`% secrets set secrets.yaml \\[\\"`)
        // zsh groups the paths that share a description (the type) before it.
        const listed = screen.split("\n").slice(1).join(" ").split(/\s+/).filter((w) => w.startsWith("["))
        expect(listed.sort()).toEqual([...EXAMPLE_KEY_PATHS].sort())
        for (const type of ["str", "map", "list", "float", "bool"]) expect(screen).toMatch(new RegExp(` -- ${type}$`, "m"))
    })
})
