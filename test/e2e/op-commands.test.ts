/**
 * `secrets op pull|push|sync` end to end: the built binary against the stand-in op
 * (test/op-standin) first on PATH. Every test checks that no value it uses reaches
 * op's argv (the stand-in logs it) or secrets' stderr, and every failure leaves the
 * encrypted file byte for byte as it was.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli, type CliResult } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { item, loginItem, makeOpStandin, seedStore, vault, type OpStandin, type StandinItem } from "../helpers/op-standin.js"

const PW = "pw-Zq81-never-shown"
const NEWPW = "pw-Kx22-rotated"
const TOKEN = "tok-Mv93-api"
const HOST = "db-Hh54.internal"
const VALUES = [PW, NEWPW, TOKEN, HOST]

interface Project {
    dir: string
    standin: OpStandin
    env: Record<string, string>
    recipient: string
    cli(args: string[], extra?: Record<string, string>): Promise<CliResult>
}

async function project(items: StandinItem[] = defaultItems()): Promise<Project> {
    const dir = tempDir()
    const key = ageKeygen(dir, "me")
    const standin = await makeOpStandin(dir, seedStore({ vaults: [vault("Dev", items)] }))
    const env = { ...standin.env, SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: "2025-01-01T00:00:00Z" }
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
        const r = await runCli(args, { cwd: dir, env: { ...env, ...extra } })
        for (const v of VALUES) expect(r.stderr, "a value reached stderr").not.toContain(v)
        return r
    }
    return { dir, standin, env, recipient: key.recipient, cli }
}

function defaultItems(): StandinItem[] {
    return [
        loginItem("db", "admin", PW, [{ label: "host", value: HOST, section: "conn" }]),
        item({ title: "api", category: "API_CREDENTIAL", tags: ["app"], fields: [{ label: "credential", value: TOKEN }] }),
    ]
}

async function noValueOnArgv(standin: OpStandin): Promise<void> {
    for (const v of VALUES) expect(await standin.argvMentions(v), `${v} on op's argv`).toBe(false)
}

/** What the file holds now, read in this process: a check after the op command under test, which ran through the binary. */
async function decrypt(p: Project, file: string): Promise<string> {
    const r = await runInProcess(["decrypt", file], { cwd: p.dir, env: p.env })
    expect(r.stderr).toBe("")
    return r.stdout
}

async function setField(p: Project, title: string, label: string, value: string): Promise<void> {
    const s = await p.standin.readStore()
    const f = s.vaults[0]?.items.find((i) => i.title === title)?.fields?.find((x) => x.label === label)
    if (f === undefined) throw new Error("no such field")
    f.value = value
    await p.standin.writeStore(s)
}

describe("op pull", () => {
    it("creates a file from a vault (one key per item, labelled sections nest), then converges", async () => {
        const p = await project()
        const r = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--age", p.recipient])
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('+ ["db"]["username"]\n+ ["db"]["password"]\n+ ["db"]["conn"]["host"]\n+ ["api"]["credential"]\n')
        expect(r.stderr).toBe('secrets: "app.yaml" created: 4 added, 0 changed, 0 removed\n')
        expect(await decrypt(p, "app.yaml")).toBe(`db:\n    username: admin\n    password: ${PW}\n    conn:\n        host: ${HOST}\napi:\n    credential: ${TOKEN}\n`)
        const before = readFileSync(join(p.dir, "app.yaml"))
        const again = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev"], { SECRETS_NOW: "2025-02-01T00:00:00Z" })
        expect(again.code).toBe(0)
        expect(again.stdout).toBe("")
        expect(again.stderr).toBe('secrets: "app.yaml" is already in step with 1Password: not written\n')
        expect(readFileSync(join(p.dir, "app.yaml"))).toEqual(before)
        // One list, then one item get per item by vault and item ID (the cheap form).
        const calls = (await p.standin.readLog()).map((c) => c.argv.slice(0, 2).join(" "))
        expect(calls.filter((c) => c === "item list")).toHaveLength(2)
        expect(calls.filter((c) => c === "item get")).toHaveLength(4)
        await noValueOnArgv(p.standin)
    })

    it("a changed value changes exactly its line, mac and lastmodified; other ciphertext is kept", async () => {
        const p = await project()
        expect((await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--age", p.recipient])).code).toBe(0)
        const before = readFileSync(join(p.dir, "app.yaml"), "utf8").split("\n")
        await setField(p, "db", "password", NEWPW)
        const r = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev"], { SECRETS_NOW: "2025-03-01T00:00:00Z" })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('~ ["db"]["password"]\n')
        expect(r.stderr).toBe('secrets: "app.yaml" updated: 0 added, 1 changed, 0 removed\n')
        const after = readFileSync(join(p.dir, "app.yaml"), "utf8").split("\n")
        expect(after).toHaveLength(before.length)
        const diff = after.flatMap((l, i) => (l === before[i] ? [] : [l.trim().split(":")[0]]))
        expect(diff).toEqual(["password", "lastmodified", "mac"])
        expect(await decrypt(p, "app.yaml")).toContain(`password: ${NEWPW}\n`)
    })

    it("--dry-run and --json print the plan and write nothing", async () => {
        const p = await project()
        const dry = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--item", "api", "--dry-run", "--age", p.recipient])
        expect(dry.code).toBe(0)
        expect(dry.stdout).toBe('+ ["api"]["credential"]\n')
        expect(dry.stderr).toBe('secrets: dry run: "app.yaml" not written (1 added, 0 changed, 0 removed)\n')
        expect(existsSync(join(p.dir, "app.yaml"))).toBe(false)
        const json = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--item", "api", "--dry-run", "--json"])
        expect(JSON.parse(json.stdout)).toEqual({ file: "app.yaml", added: [["api", "credential"]], changed: [], removed: [], unchanged: 0, created: false, written: false })
    })

    it("--prune removes what the named item no longer has, and keeps keys outside it", async () => {
        const p = await project()
        writeFileSync(join(p.dir, "app.yaml"), `db:\n    old: x\n    password: stale\nmine: kept\n`)
        expect((await p.cli(["encrypt", "-i", "--age", p.recipient, "app.yaml"])).code).toBe(0)
        const r = await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--item", "db", "--prune"])
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('+ ["db"]["username"]\n+ ["db"]["conn"]["host"]\n~ ["db"]["password"]\n- ["db"]["old"]\n')
        expect(await decrypt(p, "app.yaml")).toBe(`db:\n    password: ${PW}\n    username: admin\n    conn:\n        host: ${HOST}\nmine: kept\n`)
    })

    it("a mapping (nested and flat forms, a section) costs one item get per item; dotenv gets ITEM_FIELD names from a vault", async () => {
        const p = await project()
        writeFileSync(join(p.dir, "map.yaml"), `database:\n  password: op://Dev/db/password\n  host: op://Dev/db/conn/host\n'["user"]': op://dev/DB/username\n`)
        const r = await p.cli(["op", "pull", "app.json", "--mapping", "map.yaml", "--age", p.recipient])
        expect(r.code).toBe(0)
        expect(await decrypt(p, "app.json")).toBe(`{\n\t"database": {\n\t\t"password": "${PW}",\n\t\t"host": "${HOST}"\n\t},\n\t"user": "admin"\n}\n`)
        const gets = (await p.standin.readLog()).filter((c) => c.argv[0] === "item" && c.argv[1] === "get")
        expect(gets).toHaveLength(1)
        expect((await p.standin.readLog()).filter((c) => c.argv[0] === "read")).toHaveLength(0)

        const env = await p.cli(["op", "pull", "app.env", "--vault", "Dev", "--tags", "app", "--age", p.recipient])
        expect(env.code).toBe(0)
        expect(await decrypt(p, "app.env")).toBe(`API_CREDENTIAL=${TOKEN}\n`)
        await noValueOnArgv(p.standin)
    })

    it("a bad mapping is refused before any op call, naming the file and key path", async () => {
        const p = await project()
        writeFileSync(join(p.dir, "map.yaml"), `db:\n  password: ${PW}\n`)
        const r = await p.cli(["op", "pull", "app.yaml", "--mapping", "map.yaml", "--age", p.recipient])
        expect(r.code).toBe(1)
        expect(r.stderr.split("\n")[0]).toBe('secrets: error: mapping "map.yaml": ["db"]["password"] is not an op:// reference')
        expect(await p.standin.readLog()).toEqual([])
        const both = await p.cli(["op", "pull", "app.yaml", "--mapping", "map.yaml", "--vault", "Dev"])
        expect(both.code).toBe(8)
    })
})

describe("op push", () => {
    it("creates and edits items with templates on stdin, keeps unmentioned fields, and skips unchanged items", async () => {
        const p = await project()
        writeFileSync(join(p.dir, "app.yaml"), `db:\n    password: ${NEWPW}\nsvc:\n    token: ${TOKEN}\n    net:\n        host: ${HOST}\n`)
        expect((await p.cli(["encrypt", "-i", "--age", p.recipient, "app.yaml"])).code).toBe(0)
        const dry = await p.cli(["op", "push", "app.yaml", "--vault", "Dev", "--dry-run"])
        expect(dry.stdout).toBe('would update "db" in vault "Dev": password\nwould create "svc" in vault "Dev": token, net.host\n')
        expect((await p.standin.readLog()).some((c) => c.argv[1] === "create" || c.argv[1] === "edit")).toBe(false)

        const r = await p.cli(["op", "push", "app.yaml", "--vault", "Dev"])
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('updated "db" in vault "Dev": password\ncreated "svc" in vault "Dev": token, net.host\n')
        expect(r.stderr).toBe("secrets: created 1, updated 1, unchanged 0\n")
        const store = await p.standin.readStore()
        const db = store.vaults[0]?.items.find((i) => i.title === "db")
        expect(db?.fields?.map((f) => [f.label, f.value])).toEqual([["username", "admin"], ["password", NEWPW], ["host", HOST]])
        expect(db?.version).toBe(2)
        const svc = store.vaults[0]?.items.find((i) => i.title === "svc")
        expect(svc?.category).toBe("SECURE_NOTE")
        expect(svc?.fields?.filter((f) => f.value !== "").map((f) => [f.label, f.value, f.type])).toEqual([["token", TOKEN, "CONCEALED"], ["host", HOST, "CONCEALED"]])
        const writes = (await p.standin.readLog()).filter((c) => c.argv[1] === "create" || c.argv[1] === "edit")
        expect(writes).toHaveLength(2)
        for (const w of writes) expect(w.stdinBytes).toBeGreaterThan(0)

        const again = await p.cli(["op", "push", "app.yaml", "--vault", "Dev"])
        expect(again.stdout).toBe('unchanged "db" in vault "Dev"\nunchanged "svc" in vault "Dev"\n')
        expect((await p.standin.readLog()).filter((c) => c.argv[1] === "create" || c.argv[1] === "edit")).toHaveLength(2)
        await noValueOnArgv(p.standin)

        // And back: a pull of the pushed items gives the same values.
        const pulled = await p.cli(["op", "pull", "back.yaml", "--vault", "Dev", "--item", "svc", "--age", p.recipient])
        expect(pulled.code).toBe(0)
        expect(await decrypt(p, "back.yaml")).toBe(`svc:\n    token: ${TOKEN}\n    net:\n        host: ${HOST}\n`)
    })
})

describe("the file as one item: op push --item, op pull --item --flat", () => {
    it("a .env pushed into one item comes back key for key into a new file, and sync --check sees them in step", async () => {
        const p = await project()
        // A plaintext .env encrypted by us, pushed as the item "myapp".
        writeFileSync(join(p.dir, "app.env"), `DATABASE_URL=${HOST}\nAPI_TOKEN=${TOKEN}\n`)
        expect((await p.cli(["encrypt", "-i", "--age", p.recipient, "app.env"])).code).toBe(0)
        const push = await p.cli(["op", "push", "app.env", "--vault", "Dev", "--item", "myapp"])
        expect(push.code).toBe(0)
        expect(push.stdout).toBe('created "myapp" in vault "Dev": DATABASE_URL, API_TOKEN\n')
        const stored = (await p.standin.readStore()).vaults[0]?.items.find((i) => i.title === "myapp")
        // A Secure Note also has its built-in, empty notesPlain field, which a pull skips.
        expect(stored?.fields?.filter((f) => (f.value ?? "") !== "").map((f) => [f.label, f.value])).toEqual([
            ["DATABASE_URL", HOST],
            ["API_TOKEN", TOKEN],
        ])

        // Pulled back flat: the field labels are the keys again, no MYAPP_ prefix.
        const pull = await p.cli(["op", "pull", "copy.env", "--vault", "Dev", "--item", "myapp", "--flat", "--age", p.recipient])
        expect(pull.code).toBe(0)
        expect(pull.stdout).toBe('+ ["DATABASE_URL"]\n+ ["API_TOKEN"]\n')
        expect(await decrypt(p, "copy.env")).toBe(`DATABASE_URL=${HOST}\nAPI_TOKEN=${TOKEN}\n`)

        // YAML: a section is one level, and sync --check in both directions finds nothing to do.
        const yaml = await p.cli(["op", "pull", "db.yaml", "--vault", "Dev", "--item", "db", "--flat", "--age", p.recipient])
        expect(yaml.code).toBe(0)
        expect(await decrypt(p, "db.yaml")).toBe(`username: admin\npassword: ${PW}\nconn:\n    host: ${HOST}\n`)
        for (const direction of ["pull", "push"]) {
            const check = await p.cli(["op", "sync", "db.yaml", "--vault", "Dev", "--item", "db", "--flat", "--direction", direction, "--check"])
            expect(check.code, direction).toBe(0)
        }
        await noValueOnArgv(p.standin)
    })

    it("--flat without exactly one --item, push --item without --vault, and a top-level field into INI are refused, nothing written", async () => {
        const p = await project()
        const two = await p.cli(["op", "pull", "x.env", "--vault", "Dev", "--item", "db", "--item", "api", "--flat", "--age", p.recipient])
        expect(two.code).toBe(8)
        expect(two.stderr).toBe("secrets: error: --flat needs exactly one --item: the file is that one item\nsecrets: hint: e.g. secrets op pull .env --vault Dev --item myapp --flat\n")
        const noVault = await p.cli(["op", "push", "x.env", "--item", "db", "--mapping", "m.yaml"])
        expect(noVault.code).toBe(8)
        expect(noVault.stderr.split("\n")[0]).toBe("secrets: error: --item needs --vault and no --mapping: the whole file goes into that one item")
        const ini = await p.cli(["op", "pull", "db.ini", "--vault", "Dev", "--item", "db", "--flat", "--age", p.recipient])
        expect(ini.code).toBe(1)
        expect(ini.stderr.split("\n")[0]).toBe("secrets: error: op://Dev/db/username is outside any section, and an INI file has no place for it")
        for (const f of ["x.env", "db.ini"]) expect(existsSync(join(p.dir, f))).toBe(false)
    })
})

describe("op sync", () => {
    it("--check exits 0 in step and 1 on drift (key paths only), writing nothing; sync then pulls", async () => {
        const p = await project()
        expect((await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--age", p.recipient])).code).toBe(0)
        const ok = await p.cli(["op", "sync", "app.yaml", "--vault", "Dev", "--check"])
        expect(ok.code).toBe(0)
        expect(ok.stderr).toBe('secrets: "app.yaml" is in step with 1Password\n')
        await setField(p, "db", "password", NEWPW)
        const before = readFileSync(join(p.dir, "app.yaml"))
        const drift = await p.cli(["op", "sync", "app.yaml", "--vault", "Dev", "--check"])
        expect(drift.code).toBe(1)
        expect(drift.stdout).toBe('~ ["db"]["password"]\n')
        expect(readFileSync(join(p.dir, "app.yaml"))).toEqual(before)
        const push = await p.cli(["op", "sync", "app.yaml", "--vault", "Dev", "--direction", "push", "--check"])
        expect(push.code).toBe(1)
        expect(push.stdout).toBe('would update "db" in vault "Dev": password\n')
        const sync = await p.cli(["op", "sync", "app.yaml", "--vault", "Dev"])
        expect(sync.code).toBe(0)
        expect(await decrypt(p, "app.yaml")).toContain(`password: ${NEWPW}\n`)
        expect((await p.cli(["op", "sync", "app.yaml", "--vault", "Dev", "--check"])).code).toBe(0)
        await noValueOnArgv(p.standin)
    })

    it("--watch re-syncs each round, survives a failing round and stops cleanly on SIGTERM", async () => {
        const p = await project()
        expect((await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--item", "db", "--age", p.recipient])).code).toBe(0)
        const child = spawn(process.execPath, [BIN, "op", "sync", "app.yaml", "--vault", "Dev", "--item", "db", "--watch", "300ms"], {
            cwd: p.dir,
            env: { PATH: p.env.PATH ?? "", HOME: p.dir, ...p.env, SECRETS_WATCH_MIN_MS: "100" },
            stdio: ["ignore", "pipe", "pipe"],
        })
        let out = ""
        let err = ""
        child.stdout.on("data", (d: Buffer) => (out += d.toString()))
        child.stderr.on("data", (d: Buffer) => (err += d.toString()))
        const waitFor = async (cond: () => boolean, what: string) => {
            for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50))
            if (!cond()) throw new Error(`timed out waiting for ${what}: ${out} ${err}`)
        }
        await waitFor(() => /round 1: 0 added, 0 changed, 0 removed\n/.test(out), "round 1")
        // A signed-out store makes a round fail; the watch goes on.
        const good = await p.standin.readStore()
        await p.standin.writeStore({ ...good, auth: { ...good.auth, mode: "none" } })
        await waitFor(() => /round \d+: failed/.test(out), "a failed round")
        expect(err).toContain("secrets: error: the 1Password CLI is not signed in")
        good.vaults[0]!.items[0]!.fields![1]!.value = NEWPW
        await p.standin.writeStore(good)
        await waitFor(() => /round \d+: 0 added, 1 changed, 0 removed, written\n/.test(out), "the change")
        expect(await decrypt(p, "app.yaml")).toContain(`password: ${NEWPW}\n`)
        const code = await new Promise<number | null>((resolve) => {
            child.on("close", (c) => resolve(c))
            child.kill("SIGTERM")
        })
        expect(code).toBe(0)
        expect(err).toContain("secrets: stopped watching\n")
        for (const v of VALUES) expect(err + out).not.toContain(v)
        await noValueOnArgv(p.standin)
    })
})

describe("faults: one error line and a hint, a non-zero exit, the file byte-identical", () => {
    const cases: { name: string; args?: string[]; env?: Record<string, string>; mutate?: (p: Project) => Promise<void>; error: RegExp }[] = [
        { name: "signed out", env: { OP_STANDIN_FAIL: "signedout" }, error: /^secrets: error: the 1Password CLI is not signed in/ },
        { name: "rate limited (429)", env: { OP_STANDIN_FAIL: "ratelimit" }, error: /^secrets: error: 1Password rate limit reached/ },
        { name: "crash", env: { OP_STANDIN_FAIL: "panic" }, error: /^secrets: error: op item list crashed/ },
        { name: "op not installed", env: { PATH: "/nonexistent" }, error: /^secrets: error: cannot run "op": the 1Password CLI is not installed/ },
        { name: "hung op", env: { OP_STANDIN_FAIL: "timeout", SECRETS_OP_TIMEOUT: "700" }, error: /^secrets: error: op item list timed out/ },
        { name: "vault not found", args: ["--vault", "Nope"], error: /^secrets: error: 1Password vault "Nope" not found/ },
        { name: "item not found", args: ["--vault", "Dev", "--item", "nope"], error: /^secrets: error: 1Password item "nope" not found in vault "Dev"/ },
        {
            name: "ambiguous title",
            args: ["--vault", "Dev", "--item", "db"],
            mutate: async (p) => {
                const s = await p.standin.readStore()
                s.vaults[0]!.items.push({ ...loginItem("db", "other", "x"), id: "zzzzzzzzzzzzzzzzzzzzzzzzzz" })
                await p.standin.writeStore(s)
            },
            error: /^secrets: error: more than one 1Password item is titled "db"/,
        },
        {
            name: "field not found (mapping)",
            args: ["--mapping", "bad.yaml"],
            mutate: async (p) => writeFileSync(join(p.dir, "bad.yaml"), "x: op://Dev/db/nope\n"),
            error: /^secrets: error: 1Password item "Dev\/db" has no field "nope"/,
        },
    ]
    for (const c of cases) {
        it(c.name, async () => {
            const p = await project()
            expect((await p.cli(["op", "pull", "app.yaml", "--vault", "Dev", "--age", p.recipient])).code).toBe(0)
            await setField(p, "db", "password", NEWPW)
            await c.mutate?.(p)
            const before = readFileSync(join(p.dir, "app.yaml"))
            // A hung op sleeps for an hour: the test's timeout is the bound, not a clock.
            const r = await p.cli(["op", "pull", "app.yaml", ...(c.args ?? ["--vault", "Dev"])], c.env)
            expect(r.code).not.toBe(0)
            const lines = r.stderr.trimEnd().split("\n")
            expect(lines[0]).toMatch(c.error)
            expect(lines.filter((l) => l.startsWith("secrets: error:"))).toHaveLength(1)
            expect(lines.slice(1).length).toBeGreaterThan(0)
            for (const l of lines.slice(1)) expect(l).toMatch(/^secrets: hint: /)
            expect(r.stdout).toBe("")
            expect(readFileSync(join(p.dir, "app.yaml"))).toEqual(before)
            expect(existsSync(join(p.dir, "app.yaml.lock"))).toBe(false)
            await noValueOnArgv(p.standin)
        })
    }

    it("a 409 beyond the client's retries fails the push with nothing half-done; within them it lands", async () => {
        const p = await project()
        writeFileSync(join(p.dir, "app.yaml"), `db:\n    password: ${NEWPW}\n`)
        expect((await p.cli(["encrypt", "-i", "--age", p.recipient, "app.yaml"])).code).toBe(0)
        const fail = await p.cli(["op", "push", "app.yaml", "--vault", "Dev"], { OP_STANDIN_FAIL: "conflict@item edit", OP_STANDIN_FAIL_TIMES: "10" })
        expect(fail.code).toBe(1)
        expect(fail.stderr.split("\n")[0]).toMatch(/^secrets: error: 1Password refused a concurrent change \(409 conflict\)/)
        expect((await p.standin.readStore()).vaults[0]?.items[0]?.fields?.[1]?.value).toBe(PW)
        const ok = await p.cli(["op", "push", "app.yaml", "--vault", "Dev"], { OP_STANDIN_FAIL: "conflict@item edit", OP_STANDIN_FAIL_TIMES: "1" })
        expect(ok.code).toBe(0)
        expect((await p.standin.readStore()).vaults[0]?.items[0]?.fields?.[1]?.value).toBe(NEWPW)
        await noValueOnArgv(p.standin)
    })
})
