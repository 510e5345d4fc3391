/**
 * Rule drift is visible (issue 10 §4), through the built binary: a file whose own
 * encryption rule (in its metadata, not covered by the MAC) differs from its
 * creation rule is warned about by set, edit and rotate and fails `status --check`;
 * a value that would land in clear only because of that drift is refused unless
 * `--allow-clear`; `rotate -i --strict` applies the creation rule.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "s3cret-VALUE-never-in-clear"
const DRIFTED = "secrets/x.yaml"
const WARNING =
    `secrets: warning: "${DRIFTED}": its encryption rule (unencrypted_regex .*) differs from its creation rule (unencrypted_suffix _unencrypted) ` +
    `in ".sops.yaml"; re-encrypt it to apply the rule: secrets rotate -i --strict ${DRIFTED}`
const REFUSAL =
    `secrets: error: "${DRIFTED}": ["db"]["password"] would be written in clear: the file's encryption rule (unencrypted_regex .*) ` +
    `leaves it unencrypted, its creation rule (unencrypted_suffix _unencrypted) encrypts it`

/**
 * A repository whose rules encrypt everything under secrets/ (sops' default suffix
 * rule) and only `password` under weak/. secrets/x.yaml was committed with
 * `unencrypted_regex: .*` in its metadata (every value in clear), secrets/ok.yaml
 * as its rule says.
 */
async function repo() {
    const dir = tempDir()
    const key = ageKeygen(dir, "alice")
    writeFileSync(
        join(dir, ".sops.yaml"),
        [
            "creation_rules:",
            "  - path_regex: ^weak/",
            "    encrypted_regex: ^password$",
            `    age: ${key.recipient}`,
            "  - path_regex: ^secrets/",
            `    age: ${key.recipient}`,
            "",
        ].join("\n"),
    )
    mkdirSync(join(dir, "secrets"))
    const cli = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
        runCli(args, { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file, ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}) })
    writeFileSync(join(dir, DRIFTED), "db:\n    user: app\n    password: old\n")
    expect((await cli(["encrypt", "-i", "--unencrypted-regex", ".*", DRIFTED])).code).toBe(0)
    writeFileSync(join(dir, "secrets/ok.yaml"), "db:\n    password: old\n")
    expect((await cli(["encrypt", "-i", "secrets/ok.yaml"])).code).toBe(0)
    const read = (f: string) => readFileSync(join(dir, f), "utf8")
    return { dir, key, cli, read }
}

/** An editor script that sets db.password to SECRET in the file it is given. */
function passwordEditor(dir: string): string {
    const p = join(dir, "editor.sh")
    writeFileSync(p, `#!/bin/sh\nsed -i 's/^    password: .*/    password: ${SECRET}/' "$1"\n`)
    chmodSync(p, 0o755)
    return p
}

describe("set and edit on a file whose rule drifted", () => {
    it("set refuses a value the drifted rule would write in clear; --allow-clear writes it with a warning; no drift, no warning", async () => {
        const { cli, read } = await repo()
        const before = read(DRIFTED)
        const setPassword = (file: string, flags: string[] = []) => cli(["set", ...flags, "--value-stdin", file, '["db"]["password"]'], { input: JSON.stringify(SECRET) })

        const refused = await setPassword(DRIFTED)
        expect(refused.code, refused.stderr).toBe(1)
        expect(refused.stderr.split("\n")).toEqual([
            WARNING,
            REFUSAL,
            `secrets: hint: apply the creation rule first with \`secrets rotate -i --strict ${DRIFTED}\`, or write it in clear anyway with \`secrets set --allow-clear\``,
            "",
        ])
        expect(read(DRIFTED)).toBe(before)

        // A key the creation rule leaves in clear too: written, with the drift warning only.
        const note = await cli(["set", DRIFTED, '["db"]["note_unencrypted"]', '"hello"'])
        expect(note.code, note.stderr).toBe(0)
        expect(note.stderr).toBe(`${WARNING}\n`)

        const allowed = await setPassword(DRIFTED, ["--allow-clear"])
        expect(allowed.code, allowed.stderr).toBe(0)
        expect(allowed.stderr).toContain(`secrets: warning: "${DRIFTED}": ["db"]["password"] written in clear (--allow-clear), although its creation rule would encrypt it`)
        expect(allowed.stderr).not.toContain(SECRET)
        expect(read(DRIFTED)).toContain(`password: ${SECRET}`)

        const ok = await setPassword("secrets/ok.yaml")
        expect(ok.code, ok.stderr).toBe(0)
        expect(ok.stderr).toBe("")
        expect(read("secrets/ok.yaml")).not.toContain(SECRET)
    })

    it("edit warns before the editor, refuses to save such a value without a terminal, and saves it with --allow-clear", async () => {
        const { dir, cli, read } = await repo()
        const before = read(DRIFTED)
        const env = { EDITOR: passwordEditor(dir) }
        const refused = await cli(["edit", DRIFTED], { env })
        expect(refused.code, refused.stderr).toBe(1)
        expect(refused.stderr).toContain(`${WARNING}\n`)
        expect(refused.stderr).toContain(REFUSAL)
        expect(refused.stderr).not.toContain(SECRET)
        expect(read(DRIFTED)).toBe(before)

        const allowed = await cli(["edit", "--allow-clear", DRIFTED], { env })
        expect(allowed.code, allowed.stderr).toBe(0)
        expect(read(DRIFTED)).toContain(`password: ${SECRET}`)

        // The same edit on a file in step with its rule: no warning, value encrypted.
        const ok = await cli(["edit", "secrets/ok.yaml"], { env })
        expect(ok.code, ok.stderr).toBe(0)
        expect(ok.stderr).toBe("")
        expect(read("secrets/ok.yaml")).not.toContain(SECRET)
    })
})

describe("status --check and rotate", () => {
    it("status --check fails naming the file; rotate warns and keeps the rule; rotate --strict applies the creation rule", async () => {
        const { cli, read } = await repo()
        const status = await cli(["status", "--check"])
        expect(status.code, status.stderr).toBe(1)
        expect(status.stderr).toContain(
            `secrets: warning: ${DRIFTED}: its encryption rule (unencrypted_regex .*) differs from its creation rule (unencrypted_suffix _unencrypted)\n`,
        )
        expect(status.stderr).toContain("secrets: error: status check failed: 1 problem in 1 file")
        expect(status.stderr).toContain("secrets: hint: apply the creation rule's encryption rule with `secrets rotate -i --strict FILE`")
        const json = JSON.parse((await cli(["status", "--json"])).stdout) as { files: { path: string; problems: string[] }[] }
        expect(json.files.find((f) => f.path === "secrets/ok.yaml")?.problems).toEqual([])

        const plain = await cli(["rotate", "-i", DRIFTED])
        expect(plain.code, plain.stderr).toBe(0)
        expect(plain.stderr).toBe(`${WARNING}\n`)
        expect(read(DRIFTED)).toContain("password: old")

        const strict = await cli(["rotate", "-i", "--strict", DRIFTED])
        expect(strict.code, strict.stderr).toBe(0)
        expect(strict.stderr).toBe(`secrets: "${DRIFTED}": encryption rule unencrypted_suffix _unencrypted from its creation rule, was unencrypted_regex .*\n`)
        const text = read(DRIFTED)
        expect(text).toMatch(/^ {4}password: ENC\[/m)
        expect(text).toMatch(/^ {4}user: ENC\[/m)
        expect(text).toContain("unencrypted_suffix: _unencrypted")
        expect(text).not.toContain("unencrypted_regex")
        expect((await cli(["decrypt", DRIFTED])).stdout).toBe("db:\n    user: app\n    password: old\n")
        const again = await cli(["status", "--check"])
        expect(again.code, again.stderr).toBe(0)
    })

    it("rotate --strict names the values its creation rule leaves in clear", async () => {
        const { dir, cli, read } = await repo()
        // Encrypted under the default rule elsewhere, then moved under weak/ (values are bound to key paths, not file names).
        mkdirSync(join(dir, "weak"))
        writeFileSync(join(dir, "secrets/w.yaml"), "db:\n    user: app\n    password: pw\n")
        expect((await cli(["encrypt", "--output", "weak/w.yaml", "secrets/w.yaml"])).code).toBe(0)
        const r = await cli(["rotate", "-i", "--strict", "weak/w.yaml"])
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain(`secrets: warning: "weak/w.yaml": ["db"]["user"] now in clear: its creation rule leaves it unencrypted\n`)
        expect(read("weak/w.yaml")).toMatch(/^ {4}user: app$/m)
        expect(read("weak/w.yaml")).toMatch(/^ {4}password: ENC\[/m)
    })
})
