/**
 * `secrets ls` through the built binary with real age keys (Debian age-keygen):
 * every encrypted file under the config listed with masked values, --grep on key
 * paths, --json, --reveal refused without a terminal unless --yes, and a file the
 * key cannot open reported on its own line while the others are still listed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen } from "../helpers/tmp.js"

const SLOW = { timeout: 120_000 }
const TOKEN = "tok-abcdefghijklmnopqrstx9"
const PIN = "4711ab"

let dir = ""
let env: Record<string, string> = {}
const cli = (args: string[]): Promise<CliResult> => runCli(args, { cwd: dir, env })

function noValues(r: CliResult): void {
    for (const out of [r.stdout, r.stderr]) {
        expect(out).not.toContain(TOKEN.slice(0, -2))
        expect(out).not.toContain(PIN)
        expect(out).not.toContain("hunter22")
    }
    expect(r.stderr).not.toMatch(/\n\s+at /)
}

beforeAll(async () => {
    // One project for the whole file (tempDir is per test): every test only reads it.
    dir = mkdtempSync(join(tmpdir(), "secrets-test-"))
    const key = ageKeygen(dir, "key")
    const stranger = ageKeygen(dir, "stranger")
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: theirs\n    age: ${stranger.recipient}\n  - age: ${key.recipient}\n`)
    env = { SOPS_AGE_KEY_FILE: key.file }
    mkdirSync(join(dir, "secrets"))
    writeFileSync(join(dir, "secrets/app.yaml"), `api:\n  token: ${TOKEN}\n  pin: "${PIN}"\n  port: 8443\nhosts:\n  - db1\ndebug: false\n`)
    writeFileSync(join(dir, "secrets/db.env"), "DB_PASSWORD=hunter22\n")
    writeFileSync(join(dir, "secrets/theirs.yaml"), "other: value-they-keep\n")
    for (const f of ["secrets/app.yaml", "secrets/db.env", "secrets/theirs.yaml"]) {
        const r = await cli(["encrypt", "-i", f])
        expect(r.code, r.stderr).toBe(0)
    }
}, 120_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("secrets ls", () => {
    it("lists every key path of every openable file masked; the one it cannot open is reported and the exit is non-zero", SLOW, async () => {
        const r = await cli(["ls"])
        noValues(r)
        expect(r.stdout).toBe(
            [
                "FILE              KEY               VALUE",
                `secrets/app.yaml  ["api"]["token"]  str(${TOKEN.length}) …x9`,
                'secrets/app.yaml  ["api"]["pin"]    str(6)',
                'secrets/app.yaml  ["api"]["port"]   int',
                'secrets/app.yaml  ["hosts"][0]      str(3)',
                'secrets/app.yaml  ["debug"]         bool',
                'secrets/db.env    ["DB_PASSWORD"]   str(8) …22',
                "",
            ].join("\n"),
        )
        expect(r.stderr).toMatch(/^secrets: error: "secrets\/theirs\.yaml": .*$/m)
        expect(r.stderr).toContain("secrets: error: 1 of 3 files could not be opened")
        expect(r.code).not.toBe(0)
        expect(r.stdout + r.stderr).not.toContain("value-they-keep")
    })

    it("lists the named files only, exit 0 when all open; --grep matches key paths, not values", SLOW, async () => {
        const all = await cli(["ls", "secrets/app.yaml", "secrets/db.env"])
        expect(all.code, all.stderr).toBe(0)
        const byKey = await cli(["ls", "secrets/app.yaml", "secrets/db.env", "--grep", "(?i)pass|pin"])
        noValues(byKey)
        expect(byKey.code).toBe(0)
        expect(byKey.stdout.split("\n").slice(1, -1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['["api"]["pin"]', '["DB_PASSWORD"]'])
        // "hunter" is in a value only: nothing matches.
        const byValue = await cli(["ls", "secrets/db.env", "--grep", "hunter"])
        expect([byValue.code, byValue.stdout]).toEqual([0, ""])
    })

    it("--json gives the masked values", SLOW, async () => {
        const r = await cli(["ls", "secrets/app.yaml", "--json", "--grep", "api"])
        noValues(r)
        expect(r.code).toBe(0)
        expect(JSON.parse(r.stdout)).toEqual({
            revealed: false,
            keys: [
                { file: "secrets/app.yaml", profile: null, path: '["api"]["token"]', value: { type: "str", length: TOKEN.length, tail: "x9" } },
                { file: "secrets/app.yaml", profile: null, path: '["api"]["pin"]', value: { type: "str", length: 6 } },
                { file: "secrets/app.yaml", profile: null, path: '["api"]["port"]', value: { type: "int" } },
            ],
        })
    })

    it("--reveal is refused when stdout is not a terminal, before anything is decrypted; with --yes it shows the values", SLOW, async () => {
        const refused = await cli(["ls", "secrets/app.yaml", "--reveal"])
        noValues(refused)
        expect(refused.code).toBe(1)
        expect(refused.stdout).toBe("")
        expect(refused.stderr).toContain("secrets: error: not revealing values: stdout is not a terminal")

        const shown = await cli(["ls", "secrets/app.yaml", "secrets/db.env", "--reveal", "--yes", "--json"])
        expect(shown.code, shown.stderr).toBe(0)
        expect(JSON.parse(shown.stdout)).toEqual({
            revealed: true,
            keys: [
                { file: "secrets/app.yaml", profile: null, path: '["api"]["token"]', value: TOKEN },
                { file: "secrets/app.yaml", profile: null, path: '["api"]["pin"]', value: PIN },
                { file: "secrets/app.yaml", profile: null, path: '["api"]["port"]', value: 8443 },
                { file: "secrets/app.yaml", profile: null, path: '["hosts"][0]', value: "db1" },
                { file: "secrets/app.yaml", profile: null, path: '["debug"]', value: false },
                { file: "secrets/db.env", profile: null, path: '["DB_PASSWORD"]', value: "hunter22" },
            ],
        })
        const text = await cli(["ls", "secrets/db.env", "--reveal", "-y"])
        expect(text.stdout).toContain('["DB_PASSWORD"]  "hunter22"')
    })

    it("an invalid --grep pattern is one clear error and lists nothing", SLOW, async () => {
        const r = await cli(["ls", "--grep", "(?=x)"])
        expect(r.code).not.toBe(0)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain("secrets: error: --grep: lookahead and lookbehind are not supported")
    })
})
