/**
 * The loaders of `secrets get` (src/run/get-value.ts, issue 13 point 4) against
 * real files: keys from Debian's age-keygen, files encrypted by the program
 * itself (in-process main()), a .sops.yaml with a profile, and the stand-in `op`
 * for the 1Password loader through the real op client.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable, Writable } from "node:stream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { OpenedFile } from "../../../src/engine/open.js"
import { SecretsError } from "../../../src/errors.js"
import type { Io } from "../../../src/files/io.js"
import { opClientFromEnv } from "../../../src/integrations/op.js"
import type { OpClient } from "../../../src/integrations/op-types.js"
import { main } from "../../../src/main.js"
import { envLoader, getValue, opLoader, openFile } from "../../../src/run/get-value.js"
import { item, makeOpStandin, seedStore, vault, type OpStandin } from "../../helpers/op-standin.js"
import { ageKeygen } from "../../helpers/tmp.js"

const SECRET = "s3cr3t-never-in-a-message"
const SLOW = { timeout: 60_000 }

function ioAt(dir: string, env: Record<string, string>): Io {
    return {
        cwd: dir,
        env,
        stdin: Readable.from([]),
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr: { write: () => true },
        now: () => new Date(0),
    }
}

async function encrypted(dir: string, name: string, plain: string, recipient: string): Promise<void> {
    mkdirSync(join(dir, name, ".."), { recursive: true })
    writeFileSync(join(dir, name), plain)
    const code = await main(["encrypt", "--age", recipient, "-i", name], ioAt(dir, { HOME: dir }))
    if (code !== 0) throw new Error(`encrypt ${name} exited ${code}`)
}

/** The rejection of `p`, a SecretsError whose message and hints hold no value. */
async function failure(p: Promise<unknown>, values: readonly string[] = [SECRET]): Promise<SecretsError> {
    const e = await p.then(() => undefined, (err: unknown) => err)
    expect(e).toBeInstanceOf(SecretsError)
    const error = e as SecretsError
    for (const v of values) expect(`${error.message}\n${error.hints.join("\n")}`).not.toContain(v)
    return error
}

const noOp = (): OpClient => {
    throw new Error("op must not be asked")
}

describe("secrets get's loaders", () => {
    let dir: string
    let key: ReturnType<typeof ageKeygen>
    let env: Record<string, string>
    let op: OpStandin

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "secrets-get-"))
        key = ageKeygen(dir, "me")
        env = { HOME: dir, SOPS_AGE_KEY_FILE: key.file }
        await encrypted(dir, "secrets/dev/a.yaml", `DB_PASSWORD: from-a\nPORT: 5432\nRATIO: 1.0\nDEBUG: false\nEMPTY: ""\nGONE: only-in-a\n`, key.recipient)
        await encrypted(dir, "secrets/dev/b.env", `DB_PASSWORD=${SECRET}\nONLY_B=b\n`, key.recipient)
        await encrypted(dir, "nested.yaml", `db:\n    password: nested-pw\n    hosts:\n        - a.example\n        - b.example\nGONE: null\nlist:\n    - x\n`, key.recipient)
        await encrypted(dir, "collide.yaml", `a__b: flat-value\na:\n    b: nested-value\nTOP: t\nDB_PASSWORD: from-collide\n`, key.recipient)
        writeFileSync(
            join(dir, ".sops.yaml"),
            [
                "creation_rules:",
                "  - path_regex: .*",
                `    age: ${key.recipient}`,
                "secrets:",
                "  profiles:",
                "    dev:",
                "      op: { vault: Dev, item: app }",
                "    opfirst:",
                "      files: [secrets/dev]",
                "      op: { vault: Dev, item: app }",
                "      order: [op, files, env]",
                "",
            ].join("\n"),
        )
        const store = seedStore({
            vaults: [
                vault("Dev", [
                    item({
                        title: "app",
                        category: "API_CREDENTIAL",
                        fields: [
                            { label: "DB_PASSWORD", value: "from-op", type: "CONCEALED" },
                            { label: "API_TOKEN", value: "op-token" },
                            { label: "BLANK", value: "" },
                            { label: "TWICE", value: "first-value", section: "first" },
                            { label: "TWICE", value: "second-value", section: "second" },
                        ],
                    }),
                ]),
            ],
        })
        op = await makeOpStandin(dir, store)
    }, 60_000)
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    /** getValue in `dir` with the stand-in op, counting the files opened. */
    async function get(name: string, opts: { profile?: string; files?: string[]; order?: string; extraEnv?: Record<string, string>; opClient?: () => OpClient } = {}) {
        const io = ioAt(dir, { ...env, ...opts.extraEnv })
        const opened: string[] = []
        const hit = await getValue(io, {
            name,
            ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
            ...(opts.files !== undefined ? { files: opts.files } : {}),
            ...(opts.order !== undefined ? { order: opts.order } : {}),
            open: (file: string): Promise<OpenedFile> => {
                opened.push(file)
                return openFile(io, file)
            },
            opClient: opts.opClient ?? (() => opClientFromEnv({ ...op.env, HOME: dir })),
        })
        return { hit, opened }
    }

    describe("env", () => {
        it("answers from the environment, before the files", async () => {
            const { hit, opened } = await get("DB_PASSWORD", { profile: "dev", extraEnv: { DB_PASSWORD: "from-env" }, opClient: noOp })
            expect(hit).toEqual({ loader: "env", value: "from-env", source: "env" })
            expect(opened).toEqual([])
        })

        it("never answers an identity variable or a 1Password credential, even as the only loader", async () => {
            const secretKey = key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!
            const credentials = {
                SOPS_AGE_KEY: secretKey,
                SOPS_AGE_KEY_FILE: key.file,
                SOPS_AGE_KEY_CMD: "cat k",
                SOPS_AGE_SSH_PRIVATE_KEY_FILE: "/k",
                SECRETS_AGE_KEY_OP: "op://Dev/age/key",
                SOPS_AGE_SOMETHING_NEW: "x",
                OP_SERVICE_ACCOUNT_TOKEN: "ops_token",
                OP_SESSION_my: "session",
            }
            for (const [name, value] of Object.entries(credentials)) {
                const e = await failure(get(name, { order: "env", extraEnv: credentials }), [value])
                expect(e.message).toBe(`"${name}" not found: looked in env`)
                expect(e.hints).toContain(`the environment is never searched for ${name}: it holds an identity or a 1Password credential, which get does not print`)
            }
            // An ordinary variable beside them is answered.
            expect(await envLoader({ ...credentials, HOME: "/h" }).lookup("HOME")).toEqual({ value: "/h", source: "env" })
        })

        it("treats an empty variable as unset, so a CI variable that expanded to nothing does not hide the file's value", async () => {
            const { hit } = await get("DB_PASSWORD", { profile: "dev", extraEnv: { DB_PASSWORD: "" }, opClient: noOp })
            expect(hit).toEqual({ loader: "files", value: SECRET, source: "file secrets/dev/b.env" })
        })
    })

    describe("files", () => {
        it("lets a later file win and does not decrypt the earlier ones it does not need", async () => {
            const later = await get("DB_PASSWORD", { profile: "dev", opClient: noOp })
            expect(later.hit).toEqual({ loader: "files", value: SECRET, source: "file secrets/dev/b.env" })
            expect(later.opened).toEqual(["secrets/dev/b.env"])
            const earlier = await get("GONE", { profile: "dev", opClient: noOp })
            expect(earlier.hit.value).toBe("only-in-a")
            expect(earlier.opened).toEqual(["secrets/dev/b.env", "secrets/dev/a.yaml"])
        })

        it("searches --file after the profile's files, so a --file wins; a null is absent, so an earlier value stands", async () => {
            const { hit } = await get("DB_PASSWORD", { profile: "dev", files: ["nested.yaml", "collide.yaml"], opClient: noOp })
            expect(hit).toEqual({ loader: "files", value: "from-collide", source: "file collide.yaml" })
            // nested.yaml's GONE is null: absent there, so a.yaml's value stands, as in run.
            const gone = await get("GONE", { profile: "dev", files: ["nested.yaml", "collide.yaml"], opClient: noOp })
            expect(gone.hit).toEqual({ loader: "files", value: "only-in-a", source: "file secrets/dev/a.yaml" })
        })

        it("gives non-string scalars as exec-env and run would set them, and an empty string as a value", async () => {
            const values: Record<string, string> = {}
            for (const name of ["PORT", "RATIO", "DEBUG", "EMPTY"]) values[name] = (await get(name, { files: ["secrets/dev/a.yaml"], opClient: noOp })).hit.value
            expect(values).toEqual({ PORT: "5432", RATIO: "1.0", DEBUG: "false", EMPTY: "" })
        })

        it("finds a nested value by its flat name, and says which key path it was", async () => {
            const { hit } = await get("db__password", { files: ["nested.yaml"], opClient: noOp })
            expect(hit).toEqual({ loader: "files", value: "nested-pw", source: 'file nested.yaml#["db"]["password"]' })
            expect((await get("db__hosts__1", { files: ["nested.yaml"], opClient: noOp })).hit).toEqual({
                loader: "files",
                value: "b.example",
                source: 'file nested.yaml#["db"]["hosts"][1]',
            })
        })

        it("asked for a mapping, says to ask for one of its values", async () => {
            const e = await failure(get("db", { files: ["nested.yaml"], order: "files" }), ["nested-pw"])
            expect(e.message).toBe(`"db" not found: looked in files (1 of --file)`)
            expect(e.hints[0]).toBe(`"nested.yaml" has "db" as a mapping: ask for one of its values by its flat name, e.g. db__KEY`)
        })

        it("refuses a flat name two key paths share, naming the file and both paths", async () => {
            const e = await failure(get("a__b", { files: ["secrets/dev/a.yaml", "collide.yaml"] }), ["flat-value", "nested-value"])
            expect(e.message).toBe(`"collide.yaml": ["a__b"] and ["a"]["b"] both flatten to the name "a__b"`)
            // A top-level name is not held up by a clash elsewhere in the file.
            expect((await get("TOP", { files: ["collide.yaml"], opClient: noOp })).hit.value).toBe("t")
        })

        it("a file that cannot be opened fails the search when it is reached, naming the file", async () => {
            const other = ageKeygen(dir, "other")
            await encrypted(dir, "theirs.yaml", `DB_PASSWORD: their-value\n`, other.recipient)
            const e = await failure(get("ONLY_B", { profile: "dev", files: ["theirs.yaml"], opClient: noOp }), ["their-value"])
            expect(e.code).toBe(128)
            expect(e.message.startsWith('"theirs.yaml": ')).toBe(true)
        })
    })

    describe("op", () => {
        it("answers with the field whose label is the name, through getValue and the profile's item", SLOW, async () => {
            const before = (await op.readLog()).length
            const { hit } = await get("API_TOKEN", { profile: "dev", order: "op" })
            expect(hit).toEqual({ loader: "op", value: "op-token", source: "op op://Dev/app/API_TOKEN" })
            const log = (await op.readLog()).slice(before)
            expect(log.map((c) => c.argv.slice(0, 3))).toEqual([["item", "get", "app"]])
            for (const c of log) expect(JSON.stringify(c)).not.toContain("op-token")
        })

        it("runs op item get once however many names one loader is asked, and makes the client only when asked", SLOW, async () => {
            const before = (await op.readLog()).length
            let clients = 0
            const loader = opLoader({ vault: "Dev", item: "app" }, () => (clients++, opClientFromEnv({ ...op.env, HOME: dir })))
            expect(clients).toBe(0)
            expect(await loader.lookup("DB_PASSWORD")).toEqual({ value: "from-op", source: "op op://Dev/app/DB_PASSWORD" })
            expect(await loader.lookup("API_TOKEN")).toEqual({ value: "op-token", source: "op op://Dev/app/API_TOKEN" })
            expect(await loader.lookup("NOT_THERE")).toBeUndefined()
            expect(clients).toBe(1)
            expect((await op.readLog()).slice(before).map((c) => c.argv.slice(0, 3))).toEqual([["item", "get", "app"]])
        })

        it("comes first when the profile's order says so", SLOW, async () => {
            const { hit } = await get("DB_PASSWORD", { profile: "opfirst", extraEnv: { DB_PASSWORD: "from-env" } })
            expect(hit).toEqual({ loader: "op", value: "from-op", source: "op op://Dev/app/DB_PASSWORD" })
            // --order overrides the profile's.
            expect((await get("DB_PASSWORD", { profile: "opfirst", order: "files,op", opClient: noOp })).hit.loader).toBe("files")
        })

        it("an empty field is absent; two fields with the label are refused, naming their sections", SLOW, async () => {
            const blank = await failure(get("BLANK", { profile: "dev", order: "op" }))
            expect(blank.message).toBe(`"BLANK" not found: looked in op (item "app" in vault "Dev")`)
            const twice = await failure(get("TWICE", { profile: "dev", order: "op" }), ["first-value", "second-value"])
            expect(twice.message).toBe(`1Password item "Dev/app" has 2 fields labelled "TWICE" (section "first", section "second")`)
        })

        it("without an item in the profile (or without a profile) has nothing to look in and never runs op", async () => {
            const e = await failure(get("NOPE", { files: ["nested.yaml"], opClient: noOp }))
            expect(e.message).toBe(`"NOPE" not found: looked in env, files (1 of --file), op (no profile)`)
        })

        it("an op failure fails the chain when op is reached, and not when an earlier loader has the name", SLOW, async () => {
            const signedOut = () => opClientFromEnv({ ...op.env, HOME: dir, OP_STANDIN_FAIL: "signedout" })
            const e = await failure(get("API_TOKEN", { profile: "dev", opClient: signedOut }))
            expect(e.message).toBe(`the 1Password CLI is not signed in (needed for item "app" in vault "Dev")`)
            expect((await get("ONLY_B", { profile: "dev", opClient: signedOut })).hit.value).toBe("b")
        })
    })

    it("not found anywhere: one line with each loader asked, in order, and hints", async () => {
        const e = await failure(get("MISSING", { profile: "dev", files: ["nested.yaml"], opClient: () => opClientFromEnv({ ...op.env, HOME: dir }) }))
        expect(e.code).toBe(1)
        expect(e.message).toBe(`"MISSING" not found: looked in env, files (3 of profile "dev" and --file), op (item "app" in vault "Dev")`)
        expect(e.hints).toEqual(["names are case-sensitive; secrets ls FILE lists the key paths of a file"])
        const none = await failure(get("MISSING", { order: "files" }))
        expect(none.message).toBe(`"MISSING" not found: looked in files (none given)`)
        expect(none.hints[0]).toBe("name the files to search with --profile P or --file F")
    })
})
