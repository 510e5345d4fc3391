/**
 * `secrets render` through the built binary (issue 12 point 3): real files encrypted
 * with real age keys, the stand-in op for op:// placeholders. A placeholder that
 * cannot be resolved renders nothing: no stdout, -o left as it was, a non-zero exit,
 * and never a value in a message or an op argv.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { item, makeOpStandin, seedStore, vault } from "../helpers/op-standin.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 120_000 }
const DB_PASSWORD = "hunter2-db"
const API_TOKEN = "tok-9f8e7d"
const OP_PASSWORD = "correct-horse-op"

/**
 * A repo with app.yaml and api.json encrypted to a fresh key, and a stand-in op
 * holding Prod/db/password. The stored value of `tricky` looks like placeholders.
 */
async function setup() {
    const dir = tempDir()
    const repo = join(dir, "repo")
    mkdirSync(join(repo, "secrets"), { recursive: true })
    const key = ageKeygen(dir, "key")
    writeFileSync(join(repo, "secrets/app.yaml"), `db:\n    password: ${DB_PASSWORD}\n    port: 5432\n    tls: true\n    hosts: [a, b]\ntricky: '{{ op://Prod/db/password }} {{ secrets/app.yaml#["db"]["port"] }}'\nempty: null\n`)
    writeFileSync(join(repo, "secrets/api.json"), JSON.stringify({ api: { token: API_TOKEN } }))
    for (const f of ["secrets/app.yaml", "secrets/api.json"]) {
        const r = await runCli(["encrypt", "--age", key.recipient, "-i", f], { cwd: repo })
        expect(r.code).toBe(0)
    }
    const op = await makeOpStandin(dir, seedStore({ vaults: [vault("Prod", [item({ title: "db", fields: [{ label: "password", value: OP_PASSWORD }] })])] }))
    const cli = (args: string[], input?: string) =>
        runCli(args, { cwd: repo, env: { ...op.env, SOPS_AGE_KEY_FILE: key.file }, ...(input !== undefined ? { input } : {}) })
    return { dir, repo, key, op, cli }
}

const TEMPLATE = [
    "[db]",
    'password = "{{ secrets/app.yaml#["db"]["password"] }}"',
    "port = {{secrets/app.yaml#['db']['port']}}",
    'tls = {{ ./secrets/app.yaml#["db"]["tls"] }}',
    'token = "{{ secrets/api.json#["api"]["token"] }}"',
    'admin = "{{ op://Prod/db/password }}" # again: {{ op://Prod/db/password }}',
    'literal = {{ "{{ not a placeholder }}" }}',
    "",
].join("\n")

const RENDERED = [
    "[db]",
    `password = "${DB_PASSWORD}"`,
    "port = 5432",
    "tls = true",
    `token = "${API_TOKEN}"`,
    `admin = "${OP_PASSWORD}" # again: ${OP_PASSWORD}`,
    "literal = {{ not a placeholder }}",
    "",
].join("\n")

describe("secrets render", () => {
    it("fills file and op:// placeholders, opening each file once and reading each reference once", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, "app.conf.tmpl"), TEMPLATE)
        const r = await s.cli(["--verbose", "render", "app.conf.tmpl"])
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(RENDERED)
        // app.yaml is named three ways (one with ./): decrypted once; api.json once.
        expect(r.stderr.match(/file: "secrets\/app\.yaml" as yaml/g)?.length).toBe(1)
        expect(r.stderr.match(/file: "secrets\/api\.json" as json/g)?.length).toBe(1)
        expect(r.stderr).toContain("template: 2 files and 1 op reference to resolve")
        const log = await s.op.readLog()
        expect(log.map((c) => c.argv.filter((a) => !a.startsWith("-")))).toEqual([["read", "op://Prod/db/password"]])
        for (const secret of [DB_PASSWORD, API_TOKEN, OP_PASSWORD]) expect(r.stderr).not.toContain(secret)
    })

    it("does not expand placeholders inside a value (single pass)", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["render", "-"], 'x={{ secrets/app.yaml#["tricky"] }}\n')
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('x={{ op://Prod/db/password }} {{ secrets/app.yaml#["db"]["port"] }}\n')
        expect(await s.op.readLog()).toEqual([])
    })

    it("-o writes the result 0600, and an existing 0644 file loses its group and other bits", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, "t.tmpl"), TEMPLATE)
        const fresh = await s.cli(["render", "t.tmpl", "-o", join(s.dir, "app.conf")])
        expect(fresh.code).toBe(0)
        expect(fresh.stdout).toBe("")
        expect(readFileSync(join(s.dir, "app.conf"), "utf8")).toBe(RENDERED)
        expect(statSync(join(s.dir, "app.conf")).mode & 0o777).toBe(0o600)

        writeFileSync(join(s.dir, "shared.conf"), "old\n")
        chmodSync(join(s.dir, "shared.conf"), 0o644)
        const over = await s.cli(["render", "t.tmpl", "--output", join(s.dir, "shared.conf")])
        expect(over.code).toBe(0)
        expect(readFileSync(join(s.dir, "shared.conf"), "utf8")).toBe(RENDERED)
        expect(statSync(join(s.dir, "shared.conf")).mode & 0o777).toBe(0o600)
    })

    it("a placeholder that cannot be resolved renders nothing: no stdout, -o untouched, a non-zero exit", SLOW, async () => {
        const s = await setup()
        const cases: [string, number, string][] = [
            ['{{ secrets/app.yaml#["db"]["nope"] }}', 1, 't.tmpl:2:5: {{ secrets/app.yaml#["db"]["nope"] }}: the file has no value at this key path'],
            ['{{ secrets/app.yaml#["db"] }}', 1, 't.tmpl:2:5: {{ secrets/app.yaml#["db"] }}: the value is a mapping'],
            ['{{ secrets/app.yaml#["db"]["hosts"] }}', 1, 't.tmpl:2:5: {{ secrets/app.yaml#["db"]["hosts"] }}: the value is a list'],
            ['{{ secrets/app.yaml#["empty"] }}', 1, 't.tmpl:2:5: {{ secrets/app.yaml#["empty"] }}: the value is null'],
            ['{{ secrets/gone.yaml#["a"] }}', 100, 't.tmpl:2:5: "secrets/gone.yaml": no such file'],
            ["{{ op://Prod/nope/password }}", 1, `t.tmpl:2:5: 1Password item "nope" not found in vault "Prod" (needed for "op://Prod/nope/password")`],
            ['{{ secrets/app.yaml#"db" }}', 1, 't.tmpl:2:5: invalid tree path: expected ["key"] or [index] at ""db""'],
            ["{{ secrets/app.yaml }}", 1, 't.tmpl:2:5: "secrets/app.yaml" is not a placeholder: expected FILE#["key"] or op://vault/item/field'],
            ["{{ op://Prod/db/password", 1, 't.tmpl:2:5: unclosed placeholder: no "}}" after "{{" on the same line'],
        ]
        writeFileSync(join(s.dir, "out.conf"), "previous\n")
        chmodSync(join(s.dir, "out.conf"), 0o600)
        for (const [placeholder, code, message] of cases) {
            // A good placeholder comes first: its value, resolved before the failure, must not come out either.
            writeFileSync(join(s.repo, "t.tmpl"), `a={{ secrets/app.yaml#["db"]["password"] }}\nb = ${placeholder}\n`)
            for (const args of [["render", "t.tmpl"], ["render", "t.tmpl", "-o", join(s.dir, "out.conf")]]) {
                const r = await s.cli(args)
                expect(r.code, placeholder).toBe(code)
                expect(r.stdout).toBe("")
                expect(r.stderr.split("\n")[0], placeholder).toContain(`secrets: error: ${message}`)
                expect(r.stderr).not.toContain(DB_PASSWORD)
                expect(r.stderr).not.toContain("    at ")
                expect(readFileSync(join(s.dir, "out.conf"), "utf8")).toBe("previous\n")
            }
        }
    })

    it("exits 128 when no identity opens a placeholder's file, naming the placeholder", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, "t.tmpl"), 'x={{ secrets/app.yaml#["db"]["password"] }}\n')
        const r = await runCli(["render", "t.tmpl"], { cwd: s.repo, env: s.op.env })
        expect(r.code).toBe(128)
        expect(r.stdout).toBe("")
        expect(r.stderr).toMatch(/^secrets: error: t\.tmpl:1:3: "secrets\/app\.yaml": /)
    })

    it("names only sops files inside the working directory", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, "plain.yaml"), "password: plain-secret\n")
        writeFileSync(join(s.dir, "outside.yaml"), readFileSync(join(s.repo, "secrets/app.yaml")))
        symlinkSync(join(s.dir, "outside.yaml"), join(s.repo, "link.yaml"))
        symlinkSync("/etc", join(s.repo, "etc"))
        const cases: [string, string][] = [
            ['{{ /etc/passwd#["root"] }}', "an absolute path is not accepted"],
            ['{{ ../outside.yaml#["db"]["password"] }}', "the path leads out of the base directory"],
            ['{{ secrets/../../outside.yaml#["db"]["password"] }}', "the path leads out of the base directory"],
            ['{{ link.yaml#["db"]["password"] }}', "the file is a symbolic link (or lies under one) that leads out of the base directory"],
            ['{{ etc/passwd#["root"] }}', "the file is a symbolic link (or lies under one) that leads out of the base directory"],
            ['{{ plain.yaml#["password"] }}', '"plain.yaml": sops metadata not found'],
        ]
        for (const [placeholder, why] of cases) {
            const r = await s.cli(["render", "-"], `x=${placeholder}\n`)
            expect(r.code, placeholder).toBe(1)
            expect(r.stdout).toBe("")
            expect(r.stderr.split("\n")[0]).toContain(why)
            expect(r.stderr).not.toContain("plain-secret")
            expect(r.stderr).not.toContain(DB_PASSWORD)
        }
    })

    it("refuses -o onto the template itself", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, "t.tmpl"), TEMPLATE)
        const r = await s.cli(["render", "t.tmpl", "-o", "./t.tmpl"])
        expect(r.code).toBe(8)
        expect(r.stderr).toContain('secrets: error: --output "./t.tmpl" is the template itself')
        expect(readFileSync(join(s.repo, "t.tmpl"), "utf8")).toBe(TEMPLATE)
    })
})
