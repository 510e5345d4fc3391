/**
 * `secrets import` runs set's creation-rule checks (issue 13 point 6), through the
 * built binary with real age keys: a file whose own encryption rule drifted from its
 * creation rule is warned about, a value that would land in clear only because of
 * that drift is refused (nothing written, also on --dry-run) unless --allow-clear,
 * and a key the creation rule itself leaves in clear (unencrypted_suffix) goes in
 * without the flag. A new file is made with its creation rule.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 180_000 }
const SECRET = "s3cret-VALUE-never-in-clear"
const DRIFTED = "secrets/x.yaml"
const WARNING =
    `secrets: warning: "${DRIFTED}": its encryption rule (unencrypted_regex .*) differs from its creation rule (unencrypted_suffix _unencrypted) ` +
    `in ".sops.yaml"; re-encrypt it to apply the rule: secrets rotate -i --strict ${DRIFTED}`
const REFUSAL =
    `secrets: error: "${DRIFTED}": ["db"]["password"] would be written in clear: the file's encryption rule (unencrypted_regex .*) ` +
    `leaves it unencrypted, its creation rule (unencrypted_suffix _unencrypted) encrypts it`
const HINT = `secrets: hint: apply the creation rule first with \`secrets rotate -i --strict ${DRIFTED}\`, or write it in clear anyway with \`secrets import --allow-clear\``

/**
 * The repository of test/e2e/rule-drift.test.ts: secrets/ files get sops' default
 * rule, weak/ files encrypt only `password`; secrets/x.yaml was committed with
 * `unencrypted_regex: .*` in its metadata, secrets/ok.yaml as its rule says.
 */
async function repo() {
    const dir = tempDir()
    const key = ageKeygen(dir, "alice")
    writeFileSync(
        join(dir, ".sops.yaml"),
        ["creation_rules:", "  - path_regex: ^weak/", "    encrypted_regex: ^password$", `    age: ${key.recipient}`, "  - path_regex: ^secrets/", `    age: ${key.recipient}`, ""].join(
            "\n",
        ),
    )
    mkdirSync(join(dir, "secrets"))
    mkdirSync(join(dir, "weak"))
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    writeFileSync(join(dir, DRIFTED), "db:\n    user: app\n    password: old\n")
    expect((await cli(["encrypt", "-i", "--unencrypted-regex", ".*", DRIFTED])).code).toBe(0)
    writeFileSync(join(dir, "secrets/ok.yaml"), "db:\n    password: old\n")
    expect((await cli(["encrypt", "-i", "secrets/ok.yaml"])).code).toBe(0)
    writeFileSync(join(dir, "password.json"), JSON.stringify({ db: { password: SECRET } }))
    writeFileSync(join(dir, "note.json"), JSON.stringify({ db: { note_unencrypted: "hello" } }))
    const read = (f: string) => readFileSync(join(dir, f), "utf8")
    return { cli, read }
}

describe("import on a file whose rule drifted", () => {
    it("refuses a value the drifted rule would write in clear, also on --dry-run; --allow-clear writes it with a warning", SLOW, async () => {
        const { cli, read } = await repo()
        const before = read(DRIFTED)

        const refused = await cli(["import", "password.json", "--into", DRIFTED])
        expect(refused.code, refused.stderr).toBe(1)
        expect(refused.stderr.split("\n")).toEqual([WARNING, REFUSAL, HINT, ""])
        expect(refused.stdout).toBe("")
        expect(read(DRIFTED)).toBe(before)

        // A dry run says what the real run would do: refused, exit 1, no "would" summary.
        for (const flags of [["--dry-run"], ["--dry-run", "--json"]]) {
            const dry = await cli(["import", "password.json", "--into", DRIFTED, ...flags])
            expect(dry.code, dry.stderr).toBe(1)
            expect(dry.stderr.split("\n")).toEqual([WARNING, REFUSAL, HINT, ""])
            expect(dry.stdout).toBe("")
        }
        expect(read(DRIFTED)).toBe(before)

        const allowed = await cli(["import", "password.json", "--into", DRIFTED, "--allow-clear"])
        expect(allowed.code, allowed.stderr).toBe(0)
        expect(allowed.stderr).toBe(
            `${WARNING}\nsecrets: warning: "${DRIFTED}": ["db"]["password"] written in clear (--allow-clear), although its creation rule would encrypt it\n`,
        )
        expect(read(DRIFTED)).toContain(`password: ${SECRET}`)

        // The same import into a file in step with its rule: no warning, value encrypted.
        const ok = await cli(["import", "password.json", "--into", "secrets/ok.yaml"])
        expect(ok.code, ok.stderr).toBe(0)
        expect(ok.stderr).toBe("")
        expect(read("secrets/ok.yaml")).not.toContain(SECRET)
    })

    it("imports a key the creation rule also leaves in clear without --allow-clear, with the drift warning only", SLOW, async () => {
        const { cli, read } = await repo()
        const note = await cli(["import", "note.json", "--into", DRIFTED])
        expect(note.code, note.stderr).toBe(0)
        expect(note.stderr).toBe(`${WARNING}\n`)
        expect(note.stdout).toBe(`"${DRIFTED}": 1 added, 0 updated, 0 unchanged\n  added   ["db"]["note_unencrypted"]\n`)
        expect(read(DRIFTED)).toMatch(/^ {4}note_unencrypted: hello$/m)
        // A run that changes nothing still shows the drift, as set does.
        const again = await cli(["import", "note.json", "--into", DRIFTED])
        expect([again.code, again.stderr]).toEqual([0, `${WARNING}\nsecrets: "${DRIFTED}" already has these values: not written\n`])
    })
})

describe("import into a new file", () => {
    it("uses its creation rule, and a later import under that rule needs no --allow-clear", SLOW, async () => {
        const { cli, read } = await repo()
        const weak = await cli(["import", "password.json", "--into", "weak/new.yaml"])
        expect(weak.code, weak.stderr).toBe(0)
        expect(read("weak/new.yaml")).toMatch(/^ {4}password: ENC\[/m)
        expect(read("weak/new.yaml")).toContain("encrypted_regex: ^password$")

        const made = await cli(["import", "note.json", "--into", "secrets/new.yaml"])
        expect(made.code, made.stderr).toBe(0)
        expect(made.stderr).toBe("")
        expect(read("secrets/new.yaml")).toMatch(/^ {4}note_unencrypted: hello$/m)
        expect(read("secrets/new.yaml")).toContain("unencrypted_suffix: _unencrypted")

        const more = await cli(["import", "password.json", "--into", "secrets/new.yaml"])
        expect(more.code, more.stderr).toBe(0)
        expect(more.stderr).toBe("")
        expect(read("secrets/new.yaml")).toMatch(/^ {4}password: ENC\[/m)
        expect(read("secrets/new.yaml")).toMatch(/^ {4}note_unencrypted: hello$/m)
    })
})
