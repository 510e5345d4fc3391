/**
 * `secrets set FILE INDEX op://…` (issue 5 §2) through the built binary and the
 * stand-in `op`: the value is read with op read and encrypted, never on any op argv
 * nor on our output; a JSON-quoted reference stays literal; op failures name the
 * reference and leave the file as it was.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { loginItem, makeOpStandin, seedStore } from "../helpers/op-standin.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 120_000 }
const VALUE = "pa55-w0rd\\with \"quotes\" and ünïcode"
const NOW = "2030-01-02T03:04:05Z"

async function setup() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "s.yaml"), "db:\n    user: app\n")
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "s.yaml"], { cwd: dir })
    expect(enc.code).toBe(0)
    const store = seedStore()
    store.vaults[0]!.items.push(loginItem("db", "app", VALUE))
    const op = await makeOpStandin(dir, store)
    const cli = (args: string[], env: Record<string, string> = {}, input?: string) =>
        runCli(args, { cwd: dir, env: { ...op.env, SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: NOW, ...env }, ...(input !== undefined ? { input } : {}) })
    return { dir, op, cli, path: join(dir, "s.yaml"), before: readFileSync(join(dir, "s.yaml")) }
}

describe("set with an op:// value", () => {
    it("resolves the reference, encrypts the value, and the value is on no op argv and no output", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["set", "s.yaml", '["db"]["password"]', "op://Dev/db/password"])
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe("")
        const file = readFileSync(s.path, "utf8")
        expect(file).not.toContain("pa55")
        expect(file).not.toContain("op://")
        const d = await s.cli(["decrypt", "--extract", '["db"]["password"]', "s.yaml"])
        expect(d.stdout).toBe(VALUE)
        const log = await s.op.readLog()
        expect(log.map((c) => c.argv.filter((a) => !a.startsWith("-")))).toEqual([["read", "op://Dev/db/password"]])
        for (const c of log) expect(JSON.stringify(c)).not.toContain("pa55")
    })

    it("reads the reference from --value-stdin and --value-file too (whitespace trimmed)", SLOW, async () => {
        const s = await setup()
        expect((await s.cli(["set", "--value-stdin", "s.yaml", '["a"]'], {}, "  op://Dev/db/username\n")).code).toBe(0)
        writeFileSync(join(s.dir, "ref.txt"), "op://Dev/db/password\n")
        expect((await s.cli(["set", "--value-file", "s.yaml", '["b"]', "ref.txt"])).code).toBe(0)
        expect((await s.cli(["decrypt", "--extract", '["a"]', "s.yaml"])).stdout).toBe("app")
        expect((await s.cli(["decrypt", "--extract", '["b"]', "s.yaml"])).stdout).toBe(VALUE)
    })

    it("keeps a JSON-quoted reference as literal text, without running op", SLOW, async () => {
        const s = await setup()
        expect((await s.cli(["set", "s.yaml", '["ref"]', '"op://Dev/db/password"'])).code).toBe(0)
        expect((await s.cli(["decrypt", "--extract", '["ref"]', "s.yaml"])).stdout).toBe("op://Dev/db/password")
        expect(await s.op.readLog()).toEqual([])
    })

    it("a missing field: one error naming the reference, op's hint, the file untouched", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["set", "s.yaml", '["db"]["password"]', "op://Dev/db/nope"])
        expect(r.code).toBe(1)
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("secrets: error:"))
        expect(errors).toEqual(['secrets: error: 1Password item "Dev/db" has no field "nope" (needed for "op://Dev/db/nope")'])
        expect(r.stderr).toContain("secrets: hint: check the field label")
        expect(readFileSync(s.path)).toEqual(s.before)
    })

    it("a 429: a clear error, the file untouched", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["set", "s.yaml", '["db"]["password"]', "op://Dev/db/password"], { OP_STANDIN_FAIL: "ratelimit" })
        expect(r.code).not.toBe(0)
        expect(r.stderr).toContain('secrets: error: 1Password rate limit reached (needed for "op://Dev/db/password")')
        expect(r.stderr).toMatch(/secrets: hint: the hourly request limit is used up; retry in \d+ minutes/)
        expect(readFileSync(s.path)).toEqual(s.before)
    })

    it("a hung op: stopped after SECRETS_OP_TIMEOUT, the file untouched", SLOW, async () => {
        const s = await setup()
        // The stand-in hangs for an hour: only the timeout's kill ends this within the test's limit.
        const r = await s.cli(["set", "s.yaml", '["db"]["password"]', "op://Dev/db/password"], { OP_STANDIN_FAIL: "timeout", SECRETS_OP_TIMEOUT: "1000" })
        expect(r.code).not.toBe(0)
        expect(r.stderr).toContain('secrets: error: op read timed out after 1 s (needed for "op://Dev/db/password")')
        expect(readFileSync(s.path)).toEqual(s.before)
    })

    it("signed out: the error names the reference and says how to sign in", SLOW, async () => {
        const s = await setup()
        const store = await s.op.readStore()
        store.auth.mode = "none"
        await s.op.writeStore(store)
        const r = await s.cli(["set", "s.yaml", '["db"]["password"]', "op://Dev/db/password"])
        expect(r.code).not.toBe(0)
        expect(r.stderr).toContain('secrets: error: the 1Password CLI is not signed in (needed for "op://Dev/db/password")')
        expect(r.stderr).toContain("OP_SERVICE_ACCOUNT_TOKEN")
        expect(readFileSync(s.path)).toEqual(s.before)
    })
})
