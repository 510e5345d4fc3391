/**
 * The Node API (src/api, issue 13 §7) against real encrypted files: keys made by
 * Debian's age-keygen, files encrypted by the program itself (in-process main()),
 * decrypted by load() and get() with identities found as the CLI finds them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable, Writable } from "node:stream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { get, load, SecretsError } from "../../../src/api/index.js"
import { main } from "../../../src/main.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"

const SECRET = "s3cr3t-never-in-a-message"

/** Write `plain` to dir/name and encrypt it in place for `recipient`, as `secrets encrypt -i` does. */
async function encrypted(dir: string, name: string, plain: string, recipient: string, extra: string[] = []): Promise<string> {
    writeFileSync(join(dir, name), plain)
    let err = ""
    const io = {
        cwd: dir,
        env: { HOME: dir },
        stdin: Readable.from([]),
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr: { write: (s: string | Uint8Array) => ((err += String(s)), true) },
        now: () => new Date(0),
    }
    const code = await main(["encrypt", "--age", recipient, ...extra, "-i", name], io)
    if (code !== 0) throw new Error(`encrypt ${name} exited ${code}: ${err}`)
    return name
}

/** The rejection of `p`, which must be a SecretsError. */
async function failure(p: Promise<unknown>): Promise<SecretsError> {
    const e = await p.then(() => undefined, (err: unknown) => err)
    expect(e).toBeInstanceOf(SecretsError)
    const error = e as SecretsError
    // Never a value in what a program would log.
    expect(`${error.message}\n${error.hints.join("\n")}\n${error.stack ?? ""}`).not.toContain(SECRET)
    return error
}

describe("load() and get()", () => {
    let dir: string
    let key: ReturnType<typeof ageKeygen>
    let env: Record<string, string>

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "secrets-api-"))
        key = ageKeygen(dir, "me")
        env = { HOME: dir, SOPS_AGE_KEY_FILE: key.file }
        await encrypted(dir, "app.yaml", `DB_PASSWORD: ${SECRET}\nPORT: 5432\nRATIO: 1.0\nDEBUG: false\nEMPTY: ""\n`, key.recipient)
        await encrypted(dir, "override.env", `PORT=6543\nEXTRA=x y\n`, key.recipient)
        await encrypted(dir, "nested.yaml", `db:\n    password: ${SECRET}\n    hosts:\n        - a.example\n        - b.example\nTOP: t\n`, key.recipient)
        await encrypted(dir, "nulls.yaml", `GONE: null\nKEPT: k\n`, key.recipient)
        // PATH left in clear by the creator's regex: anyone could have written it.
        await encrypted(dir, "path-clear.yaml", `PATH: /tmp/evil\nLD_PRELOAD: /x.so\nOK: yes\n`, key.recipient, ["--unencrypted-regex", "^PATH$"])
        await encrypted(dir, "path-encrypted.yaml", `PATH: /opt/app/bin\nOK: yes\n`, key.recipient)
        await encrypted(dir, "collide.yaml", `a__b: flat\na:\n    b: nested\n`, key.recipient)
        await encrypted(dir, "proto.json", `{"__proto__": "p", "constructor": "c"}\n`, key.recipient)
    }, 60_000)
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it("returns the top-level values as strings, as exec-env would set them", async () => {
        const values = await load({ files: "app.yaml", cwd: dir, env })
        expect({ ...values }).toEqual({ DB_PASSWORD: SECRET, PORT: "5432", RATIO: "1.0", DEBUG: "false", EMPTY: "" })
    })

    it("reads several files in order, a later file's name replacing an earlier one", async () => {
        const values = await load({ files: [join(dir, "app.yaml"), "override.env"], cwd: dir, env })
        expect(values.PORT).toBe("6543")
        expect(values.EXTRA).toBe("x y")
        expect(values.DB_PASSWORD).toBe(SECRET)
    })

    it("assigns to `into` without replacing names it has, unless override", async () => {
        const into: Record<string, string | undefined> = { PORT: "80" }
        const values = await load({ files: "app.yaml", cwd: dir, env, into })
        expect(into.PORT).toBe("80")
        expect(into.DB_PASSWORD).toBe(SECRET)
        expect(values.PORT).toBe("5432")
        await load({ files: "app.yaml", cwd: dir, env, into, override: true })
        expect(into.PORT).toBe("5432")
    })

    it("adds a key named __proto__ as a name, without touching the prototype of `into`", async () => {
        const into: Record<string, string | undefined> = {}
        const values = await load({ files: "proto.json", cwd: dir, env, into })
        expect(Object.getPrototypeOf(into)).toBe(Object.prototype)
        expect(Object.getOwnPropertyDescriptor(into, "__proto__")?.value).toBe("p")
        expect(into.constructor).toBe("c")
        expect(Object.keys(values).sort()).toEqual(["__proto__", "constructor"])
    })

    it("refuses a nested value unless flatten, which names it PARENT__CHILD", async () => {
        const e = await failure(load({ files: "nested.yaml", cwd: dir, env }))
        expect(e.code).toBe(1)
        expect(e.message).toBe(`"nested.yaml": the value of "db" is a mapping; only top-level scalar values can be environment variables`)
        const values = await load({ files: "nested.yaml", cwd: dir, env, flatten: true })
        expect({ ...values }).toEqual({ db__password: SECRET, db__hosts__0: "a.example", db__hosts__1: "b.example", TOP: "t" })
    })

    it("leaves out a null, and a dangerous name whose value was not encrypted, with a warning naming the key", async () => {
        const warnings: string[] = []
        const values = await load({ files: ["nulls.yaml", "path-clear.yaml"], cwd: dir, env, onWarning: (w) => warnings.push(w) })
        expect({ ...values }).toEqual({ KEPT: "k", LD_PRELOAD: "/x.so", OK: "yes" })
        expect(warnings).toEqual([
            `secrets: warning: "nulls.yaml": "GONE" is null and was left out`,
            expect.stringMatching(/^secrets: warning: "path-clear.yaml": "PATH" was left out: it changes .*its value is not encrypted/),
        ])
    })

    it("sets a dangerous name from an encrypted value, with or without flatten (its key path is its AAD)", async () => {
        const warnings: string[] = []
        for (const flatten of [false, true]) {
            expect((await load({ files: "path-encrypted.yaml", cwd: dir, env, flatten, onWarning: (w) => warnings.push(w) })).PATH).toBe("/opt/app/bin")
            expect((await load({ files: "path-clear.yaml", cwd: dir, env, flatten, onWarning: (w) => warnings.push(w) })).PATH).toBeUndefined()
        }
        expect(warnings.filter((w) => w.includes('"PATH" was left out'))).toHaveLength(2)
    })

    it("refuses two key paths that flatten to one name, naming both", async () => {
        const e = await failure(load({ files: "collide.yaml", cwd: dir, env, flatten: true }))
        expect([e.code, e.message]).toEqual([1, `"collide.yaml": ["a__b"] and ["a"]["b"] both flatten to the name "a__b"`])
    })

    it("fails with the CLI's exit code and message when no identity opens the file", async () => {
        const other = ageKeygen(tempDir(), "other")
        const e = await failure(load({ files: "app.yaml", cwd: dir, env: { HOME: dir, SOPS_AGE_KEY_FILE: other.file } }))
        expect(e.code).toBe(128)
        expect(e.message).toMatch(/^"app.yaml": /)
    })

    it("fails with exit 100 for a missing file and writes nothing to `into`", async () => {
        const into: Record<string, string | undefined> = {}
        const e = await failure(load({ files: ["app.yaml", "missing.yaml"], cwd: dir, env, into }))
        expect(e.code).toBe(100)
        expect(e.message).toBe(`"missing.yaml" does not exist`)
        expect(into).toEqual({})
    })

    it("refuses a call without files", async () => {
        expect((await failure(load({ files: [], cwd: dir, env }))).code).toBe(100)
    })

    it("loads a profile's files in its order (by option or SECRETS_PROFILE), then the files given", async () => {
        const repo = join(dir, "repo")
        const { cpSync, mkdirSync } = await import("node:fs")
        mkdirSync(join(repo, "secrets", "dev"), { recursive: true })
        cpSync(join(dir, "app.yaml"), join(repo, "secrets", "dev", "a.yaml"))
        cpSync(join(dir, "override.env"), join(repo, "secrets", "dev", "b.env"))
        cpSync(join(dir, "nested.yaml"), join(repo, "nested.yaml"))
        writeFileSync(join(repo, ".sops.yaml"), "creation_rules: []\nsecrets:\n  profiles:\n    dev: {}\n    flat:\n      files: [nested.yaml]\n      flatten: true\n")
        const byOption = await load({ profile: "dev", cwd: repo, env })
        expect({ ...byOption }).toEqual({ DB_PASSWORD: SECRET, PORT: "6543", RATIO: "1.0", DEBUG: "false", EMPTY: "", EXTRA: "x y" })
        const byEnv = await load({ files: "nested.yaml", flatten: true, cwd: repo, env: { ...env, SECRETS_PROFILE: "dev" } })
        expect(byEnv.PORT).toBe("6543")
        expect(byEnv.db__password).toBe(SECRET)
        // The profile's own flatten: nested values without asking.
        expect((await load({ profile: "flat", cwd: repo, env })).db__hosts__1).toBe("b.example")
        const unknown = await failure(load({ profile: "prod", cwd: repo, env }))
        expect(unknown.message).toBe('.sops.yaml has no profile "prod"')
        expect(unknown.hints).toEqual(["its profiles: dev, flat"])
    })

    it("get() takes a plain top-level name or a sops index path", async () => {
        expect(await get("app.yaml", "DB_PASSWORD", { cwd: dir, env })).toBe(SECRET)
        expect(await get("app.yaml", "PORT", { cwd: dir, env })).toBe("5432")
        expect(await get("nested.yaml", '["db"]["password"]', { cwd: dir, env })).toBe(SECRET)
        expect(await get(join(dir, "nested.yaml"), '["db"]["hosts"][1]', { env })).toBe("b.example")
    })

    it("get() refuses a missing key, a mapping and a malformed path, with sops' exit codes", async () => {
        const missing = await failure(get("app.yaml", "NOPE", { cwd: dir, env }))
        expect([missing.code, missing.message]).toEqual([1, `"app.yaml" has no value at NOPE`])
        const mapping = await failure(get("nested.yaml", '["db"]', { cwd: dir, env }))
        expect([mapping.code, mapping.message]).toEqual([1, `"nested.yaml": the value at ["db"] is a mapping, not one value`])
        expect((await failure(get("nested.yaml", '["db"', { cwd: dir, env }))).code).toBe(91)
    })
})
