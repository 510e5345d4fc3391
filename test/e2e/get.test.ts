/**
 * `secrets get NAME` (issue 13 point 4) through the built binary: real age keys,
 * a .sops.yaml profile with a 1Password item, the stand-in `op`. The value comes
 * out with exactly the bytes `decrypt --extract` gives; --source and --json say
 * where it came from without it; the environment wins without op being run; an
 * identity variable is never printed; not found is one error line and exit 1.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { item, makeOpStandin, seedStore, vault } from "../helpers/op-standin.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 180_000 }
const PASSWORD = "pa55 w0rd 'quoted' $(not run)"

async function setup() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(
        join(dir, ".sops.yaml"),
        `creation_rules:\n  - path_regex: ^secrets/\n    age: ${key.recipient}\nsecrets:\n  profiles:\n    dev:\n      op: { vault: Dev, item: app }\n`,
    )
    mkdirSync(join(dir, "secrets/dev"), { recursive: true })
    writeFileSync(join(dir, "secrets/dev/app.yaml"), `DB_PASSWORD: "${PASSWORD}"\nCERT: |\n    line 1\n    line 2\ndb:\n    port: 5432\n`)
    const store = seedStore({ vaults: [vault("Dev", [item({ title: "app", category: "API_CREDENTIAL", fields: [{ label: "API_TOKEN", value: "tok-from-op", type: "CONCEALED" }] })])] })
    const op = await makeOpStandin(dir, store)
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { ...op.env, SOPS_AGE_KEY_FILE: key.file, ...env } })
    const enc = await cli(["encrypt", "-i", "secrets/dev/app.yaml"])
    expect(enc.stderr).toBe("")
    expect(enc.code).toBe(0)
    return { dir, key, op, cli }
}

describe("secrets get", () => {
    it("prints a file's value with the bytes decrypt --extract gives, and says where values come from", SLOW, async () => {
        const s = await setup()
        const got = await s.cli(["get", "CERT", "--profile", "dev"])
        const extract = await s.cli(["decrypt", "--extract", '["CERT"]', "secrets/dev/app.yaml"])
        expect(got.stderr).toBe("")
        expect(got.code).toBe(0)
        expect(got.stdoutBytes).toEqual(Buffer.from("line 1\nline 2\n"))
        expect(got.stdoutBytes).toEqual(extract.stdoutBytes)

        const source = await s.cli(["get", "db__port", "--source"], { SECRETS_PROFILE: "dev" })
        expect(source.stdout).toBe('file secrets/dev/app.yaml#["db"]["port"]\n')
        // The env and the file lack it: 1Password (the stand-in) answers, read once.
        const fromOp = await s.cli(["get", "API_TOKEN", "--profile", "dev", "--json"])
        expect(fromOp.stderr).toBe("")
        expect(JSON.parse(fromOp.stdout)).toEqual({ name: "API_TOKEN", loader: "op", source: "op op://Dev/app/API_TOKEN" })
        expect(fromOp.stdout).not.toContain("tok-from-op")
        expect((await s.op.readLog()).map((c) => c.argv.slice(0, 3))).toEqual([["item", "get", "app"]])
    })

    it("takes the environment first without running op, and never prints an identity variable", SLOW, async () => {
        const s = await setup()
        // op would fail (signed out) if it were run at all.
        const env = await s.cli(["get", "API_TOKEN", "--profile", "dev"], { API_TOKEN: "tok-from-env", OP_STANDIN_FAIL: "signedout" })
        expect(env.stderr).toBe("")
        expect(env.stdout).toBe("tok-from-env")
        expect(await s.op.readLog()).toEqual([])

        const secretKey = s.key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!
        const refused = await s.cli(["get", "SOPS_AGE_KEY", "--profile", "dev", "--order", "env,files"], { SOPS_AGE_KEY: secretKey })
        expect(refused.code).toBe(1)
        expect(refused.stdout).toBe("")
        expect(refused.stderr).not.toContain(secretKey)
        expect(refused.stderr.split("\n")).toEqual([
            'secrets: error: "SOPS_AGE_KEY" not found: looked in env, files (1 of profile "dev")',
            "secrets: hint: the environment is never searched for SOPS_AGE_KEY: it holds an identity or a 1Password credential, which get does not print",
            "secrets: hint: names are case-sensitive; secrets ls FILE lists the key paths of a file",
            "",
        ])
    })

    it("not found: exit 1, one error line naming the loaders, no value anywhere", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["get", "db_password", "--profile", "dev"])
        expect(r.code).toBe(1)
        expect(r.stdout).toBe("")
        expect(r.stderr).not.toContain("pa55")
        expect(r.stderr.split("\n").filter((l) => l.startsWith("secrets: error:"))).toEqual([
            'secrets: error: "db_password" not found: looked in env, files (1 of profile "dev"), op (item "app" in vault "Dev")',
        ])
    })
})
