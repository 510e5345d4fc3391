import { readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { loginItem, seedStore, vault, type StandinStore } from "../../helpers/op-standin.js"
import { ERR, errLine, op, standinWith } from "./run-op.js"

const NOT_SIGNED_IN = "You are not currently signed in. Please run `op signin --help` for instructions"
const SA_TOKEN = "ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9"

function store(auth: Partial<StandinStore["auth"]> = {}): StandinStore {
    return seedStore({
        auth,
        vaults: [vault("Dev", [loginItem("db", "admin", "pw-1")]), vault("Private", [loginItem("mine", "me", "pw-2")], { type: "PERSONAL" })],
    })
}

describe.concurrent("authentication", () => {
    it("signed out: whoami, read and other commands print op's texts and exit 1", async () => {
        const { standin } = await standinWith(store({ mode: "none" }))
        const who = await op(standin, ["whoami"])
        expect(who).toMatchObject({ code: 1, stdout: "" })
        expect(who.stderr).toMatch(errLine("account is not signed in"))
        const read = await op(standin, ["read", "op://Dev/db/password"])
        expect(read.stderr).toMatch(errLine(`could not read secret 'op://Dev/db/password': error initializing client: ${NOT_SIGNED_IN}`))
        for (const args of [["item", "get", "db"], ["item", "list"], ["vault", "list"], ["item", "create", "--category", "login"]]) {
            const r = await op(standin, args)
            expect(r).toMatchObject({ code: 1, stdout: "" })
            expect(r.stderr).toMatch(errLine(NOT_SIGNED_IN))
        }
    })

    it("--version needs no sign-in and no store; OP_STANDIN_VERSION overrides it", async () => {
        const { standin } = await standinWith(store({ mode: "none" }))
        expect(await op(standin, ["--version"], { env: { OP_STANDIN_STORE: "/nonexistent" } })).toEqual({ code: 0, signal: null, stdout: "2.30.3\n", stderr: "" })
        expect((await op(standin, ["-v"], { env: { OP_STANDIN_VERSION: "2.18.0-beta.01" } })).stdout).toBe("2.18.0-beta.01\n")
    })

    it("app mode: whoami prints the human user JSON", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["whoami", "--format", "json"])
        expect(r.stderr).toBe("")
        expect(JSON.parse(r.stdout)).toEqual({ url: "https://my.1password.com/", email: "t@example.com", user_uuid: "5GHHPJK5HZC5BAT7WDUXW57G44", account_uuid: "GRXJAN4BY5DPROISKYL55IRCPY", shorthand: "my" })
        expect(JSON.parse((await op(standin, ["account", "list", "--format", "json"])).stdout)).toEqual([
            { url: "my.1password.com", email: "t@example.com", user_uuid: "5GHHPJK5HZC5BAT7WDUXW57G44", account_uuid: "GRXJAN4BY5DPROISKYL55IRCPY", shorthand: "my" },
        ])
    })

    it("session mode: OP_SESSION_<shorthand> or --session must match a stored token", async () => {
        const { standin } = await standinWith(store({ mode: "session", sessionTokens: { my: "sess-1" } }))
        expect((await op(standin, ["read", "op://Dev/db/password"], { env: { OP_SESSION_my: "sess-1" } })).stdout).toBe("pw-1\n")
        expect((await op(standin, ["read", "op://Dev/db/password", "--session", "sess-1"])).stdout).toBe("pw-1\n")
        const wrong = await op(standin, ["item", "list"], { env: { OP_SESSION_my: "sess-2" } })
        expect(wrong.stderr).toMatch(errLine(NOT_SIGNED_IN))
    })

    it("service account: the right token works, whoami says SERVICE_ACCOUNT, personal vaults are invisible", async () => {
        const { standin } = await standinWith(store({ mode: "service_account", serviceAccountToken: SA_TOKEN }))
        const env = { OP_SERVICE_ACCOUNT_TOKEN: SA_TOKEN }
        expect(JSON.parse((await op(standin, ["whoami", "--format", "json"], { env })).stdout)).toEqual({
            url: "https://my.1password.com", user_uuid: "5GHHPJK5HZC5BAT7WDUXW57G44", account_uuid: "GRXJAN4BY5DPROISKYL55IRCPY", user_type: "SERVICE_ACCOUNT",
        })
        expect(JSON.parse((await op(standin, ["vault", "list", "--format", "json"], { env })).stdout).map((v: { name: string }) => v.name)).toEqual(["Dev"])
        const mine = await op(standin, ["read", "op://Private/mine/password"], { env })
        expect(mine.stderr).toMatch(errLine(`could not read secret 'op://Private/mine/password': could not get item Private/mine: "Private" isn't a vault in this account. Specify the vault with its ID or name.`))
        // The same vaults signed in through the app: Private is visible.
        const { standin: app } = await standinWith(store())
        expect((await op(app, ["read", "op://Private/mine/password"])).stdout).toBe("pw-2\n")
    })

    it("service account: item get/create/delete need --vault (stand-in text); list and read do not", async () => {
        const { standin } = await standinWith(store({ mode: "service_account", serviceAccountToken: SA_TOKEN }))
        const env = { OP_SERVICE_ACCOUNT_TOKEN: SA_TOKEN }
        for (const args of [["item", "get", "db"], ["item", "create", "--category", "login"], ["item", "delete", "db"]]) {
            const r = await op(standin, args, { env })
            expect(r.stderr).toMatch(errLine("a vault must be specified when using a service account: use the --vault flag or piped input"))
        }
        expect((await op(standin, ["item", "get", "db", "--vault", "Dev", "--format", "json"], { env })).code).toBe(0)
        expect((await op(standin, ["item", "list", "--format", "json"], { env })).code).toBe(0)
        const piped = await op(standin, ["item", "create", "--format", "json"], { env, stdin: JSON.stringify({ title: "t", category: "LOGIN", vault: { id: "Dev" }, fields: [] }) })
        expect(piped.code).toBe(0)
    })

    it("a wrong service-account token: malformed → DecodeSACredentials, unknown → Service Account Deleted; it beats app mode", async () => {
        const { standin } = await standinWith(store({ serviceAccountToken: SA_TOKEN }))
        const bad = await op(standin, ["read", "op://Dev/db/password"], { env: { OP_SERVICE_ACCOUNT_TOKEN: "ops_abcdefghijkl!x" } })
        expect(bad.stderr).toMatch(errLine("could not read secret 'op://Dev/db/password': error initializing client: Validation: (failed to session.DecodeSACredentials), Server: (failed to DecodeSACredentials), illegal base64 data at input byte 12"))
        const gone = await op(standin, ["item", "list"], { env: { OP_SERVICE_ACCOUNT_TOKEN: "ops_c29tZW90aGVy" } })
        expect(gone.stderr).toMatch(errLine("error initializing client: Authentication: (failed to auth.LookupAuth), Network: (failed to request.DoUnencrypted), Server: (403) (Forbidden (Service Account Deleted)), The Service Account used in this integration has been deleted."))
    })
})

describe.concurrent("fault injection", () => {
    it.each([
        ["ratelimit", 1, "(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests."],
        ["conflict", 1, "(409) Conflict: Internal server conflict"],
        ["badrequest", 4, "(400) Bad Request: The structure of request was invalid."],
        ["signedout", 1, NOT_SIGNED_IN],
    ])("%s: exit %d with op's text, nothing written", async (kind, code, msg) => {
        const { standin } = await standinWith(store())
        const before = await standin.readStore()
        const r = await op(standin, ["item", "create", "--category", "login", "--vault", "Dev"], { env: { OP_STANDIN_FAIL: kind } })
        expect(r).toMatchObject({ code, stdout: "" })
        expect(r.stderr).toMatch(errLine(msg))
        expect(await standin.readStore()).toEqual(before)
    })

    it("signedout on read and whoami uses their own texts", async () => {
        const { standin } = await standinWith(store())
        const env = { OP_STANDIN_FAIL: "signedout" }
        expect((await op(standin, ["whoami"], { env })).stderr).toMatch(errLine("account is not signed in"))
        expect((await op(standin, ["read", "op://Dev/db/password"], { env })).stderr).toMatch(errLine(`could not read secret 'op://Dev/db/password': error initializing client: ${NOT_SIGNED_IN}`))
    })

    it("panic: a Go trace on stderr, no [ERROR] prefix, exit 2", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["read", "op://Dev/db/password"], { env: { OP_STANDIN_FAIL: "panic" } })
        expect(r).toMatchObject({ code: 2, stdout: "" })
        expect(r.stderr).toMatch(/^panic: runtime error: invalid memory address or nil pointer dereference\n[\s\S]*\ngoroutine 1 \[running\]:\n/)
        expect(r.stderr).not.toContain("[ERROR]")
    })

    it("timeout: the process hangs until killed and prints nothing", async () => {
        const { standin } = await standinWith(store())
        const started = Date.now()
        const r = await op(standin, ["item", "get", "db"], { env: { OP_STANDIN_FAIL: "timeout" }, killAfterMs: 1500 })
        expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
        expect(r).toEqual({ code: null, signal: "SIGTERM", stdout: "", stderr: "" })
    })

    it("@scope limits the fault to one command (prefix on words); --version is spared without a scope", async () => {
        const { standin } = await standinWith(store())
        const env = { OP_STANDIN_FAIL: "conflict@item edit" }
        expect((await op(standin, ["item", "get", "db", "--format", "json"], { env })).code).toBe(0)
        expect((await op(standin, ["item", "edit", "db", "x=y"], { env })).stderr).toMatch(errLine("(409) Conflict: Internal server conflict"))
        const item = { OP_STANDIN_FAIL: "ratelimit@item" }
        expect((await op(standin, ["item", "list"], { env: item })).code).toBe(1)
        expect((await op(standin, ["read", "op://Dev/db/password"], { env: item })).code).toBe(0)
        expect((await op(standin, ["--version"], { env: { OP_STANDIN_FAIL: "panic" } })).code).toBe(0)
        expect((await op(standin, ["--version"], { env: { OP_STANDIN_FAIL: "panic@--version" } })).code).toBe(2)
    })

    it("OP_STANDIN_FAIL_TIMES=2: two conflicts, then the edit goes through", async () => {
        const { standin } = await standinWith(store())
        const env = { OP_STANDIN_FAIL: "conflict@item edit", OP_STANDIN_FAIL_TIMES: "2" }
        const codes = []
        for (let i = 0; i < 3; i++) codes.push((await op(standin, ["item", "edit", "db", "--vault", "Dev", "password=p2"], { env })).code)
        expect(codes).toEqual([1, 1, 0])
        expect((await op(standin, ["read", "-n", "op://Dev/db/password"])).stdout).toBe("p2")
    })
})

describe.concurrent("argv parsing and stdin", () => {
    it("unknown command and flag: an [ERROR] line plus a usage line, exit 1", async () => {
        const { standin } = await standinWith(store())
        const cmd = await op(standin, ["frobnicate"])
        expect(cmd).toMatchObject({ code: 1, stdout: "" })
        expect(cmd.stderr).toMatch(new RegExp(`^${ERR}unknown command "frobnicate" for "op"\nUsage:  op \\[command\\] \\[flags\\]\n$`))
        const sub = await op(standin, ["item", "nope"])
        expect(sub.stderr).toMatch(new RegExp(`^${ERR}unknown command "nope" for "op item"\n`))
        const flag = await op(standin, ["item", "get", "db", "--bogus"])
        expect(flag.stderr).toMatch(new RegExp(`^${ERR}unknown flag: --bogus\nUsage:  op item get \\[\\{ <itemName> \\| <itemID> \\| <shareLink> \\| - \\}\\] \\[flags\\]\n$`))
        const short = await op(standin, ["read", "-z", "op://Dev/db/password"])
        expect(short.stderr).toMatch(new RegExp(`^${ERR}unknown shorthand flag: 'z' in -z\n`))
        const missing = await op(standin, ["item", "get", "db", "--vault"])
        expect(missing.stderr).toMatch(new RegExp(`^${ERR}flag needs an argument: --vault\n`))
    })

    it("global flags and command flags anywhere before --, both --x v and --x=v", async () => {
        const { standin } = await standinWith(store())
        const a = await op(standin, ["--format=json", "item", "--vault", "Dev", "get", "db", "--account", "my", "--cache=false"])
        expect(a.code).toBe(0)
        expect(JSON.parse(a.stdout).title).toBe("db")
        const bad = await op(standin, ["whoami", "--format", "yaml"])
        expect(bad.stderr).toMatch(new RegExp(`^${ERR}invalid argument "yaml" for "--format" flag: must be one of: human-readable, json\nUsage:  op whoami \\[flags\\]\n$`))
    })

    it("an open stdin pipe on item create blocks like op does (the caller's bug shows as a hang)", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["item", "create", "--category", "login", "--vault", "Dev"], { stdin: { open: true }, killAfterMs: 1000 })
        expect(r.signal).toBe("SIGTERM")
        expect((await standin.readStore()).vaults[0]!.items).toHaveLength(1)
    })

    it("an open stdin pipe on read does not block, and empty piped stdin is no template", async () => {
        const { standin } = await standinWith(store())
        expect((await op(standin, ["read", "op://Dev/db/password"], { stdin: { open: true } })).stdout).toBe("pw-1\n")
        const r = await op(standin, ["item", "create", "--category", "login", "--vault", "Dev", "--title", "t", "--format", "json"], { stdin: "" })
        expect(JSON.parse(r.stdout).title).toBe("t")
    })

    it("--help prints usage on stdout and exits 0", async () => {
        const { standin } = await standinWith(store())
        expect(await op(standin, ["read", "--help"])).toEqual({ code: 0, signal: null, stdout: "Usage:  op read <reference> [flags]\n", stderr: "" })
    })

    it("a missing store is a clear setup error; no temp files are left after mutations", async () => {
        const { dir, standin } = await standinWith(store())
        const r = await op(standin, ["whoami"], { env: { OP_STANDIN_STORE: "/nonexistent/store.json" } })
        expect(r.stderr).toMatch(errLine("op stand-in: cannot read the store /nonexistent/store.json"))
        await op(standin, ["item", "edit", "db", "x=y"])
        expect(readdirSync(dir).sort()).toEqual(["op-standin-log.jsonl", "op-standin-store.json"])
    })
})
