#!/usr/bin/env node
// A stand-in for the 1Password CLI `op` 2.x, for tests of `secrets` (issue 5). It
// follows the "Stand-in contract" of ../../../shared/docs/op-cli.md: a JSON store
// (OP_STANDIN_STORE), op's JSON shapes, stderr texts and exit codes, an argv log
// (OP_STANDIN_LOG), fault injection (OP_STANDIN_FAIL) and op's piped-stdin behaviour.
// Plain Node ESM with node: builtins only; no network. See README.md.
import { appendFileSync, fstatSync, readFileSync, writeFileSync } from "node:fs"
import { COMMANDS, parseArgv } from "./lib/cli.mjs"
import { logStamp, NOT_SIGNED_IN, OpFail } from "./lib/common.mjs"
import * as cmd from "./lib/commands.mjs"
import { injectCommand, runCommand } from "./lib/inject-run.mjs"
import { loadStore, saveStore } from "./lib/store.mjs"

const VERSION = process.env.OP_STANDIN_VERSION || "2.30.3"

const HANDLERS = {
    "read": cmd.read,
    "whoami": cmd.whoami,
    "account list": cmd.accountList,
    "vault list": cmd.vaultList,
    "vault get": cmd.vaultGet,
    "item get": cmd.itemGet,
    "item list": cmd.itemList,
    "item create": cmd.itemCreate,
    "item edit": cmd.itemEdit,
    "item delete": cmd.itemDelete,
    "inject": injectCommand,
    "run": runCommand,
    "env ls": cmd.envLs,
}

/** Commands that read a template or input from stdin until EOF, as op does. */
const READS_STDIN = new Set(["item create", "item edit", "inject"])

/**
 * Stdin as op sees it: `null` when it is a terminal or /dev/null (character
 * devices), else the piped bytes. Commands that consume stdin wait for EOF (a caller
 * that leaves a pipe open hangs, as with the real op); the others only peek briefly,
 * for the log's `stdinBytes`.
 */
async function readStdin(wait) {
    let st
    try {
        st = fstatSync(0)
    } catch {
        return null
    }
    if (!(st.isFIFO() || st.isSocket() || st.isFile())) return null
    if (st.isFile()) return readFileSync(0)
    return new Promise((resolve) => {
        const chunks = []
        const done = () => {
            clearTimeout(timer)
            process.stdin.removeAllListeners()
            process.stdin.pause()
            process.stdin.unref?.()
            resolve(Buffer.concat(chunks))
        }
        const timer = wait ? undefined : setTimeout(done, 150)
        process.stdin.on("data", (c) => chunks.push(c))
        process.stdin.on("end", done)
        process.stdin.on("error", done)
    })
}

const TOKEN_VARS = /^OP_(SERVICE_ACCOUNT_TOKEN|CONNECT_TOKEN|SESSION(_.*)?)$/

function log(env, argv, stdin) {
    if (!env.OP_STANDIN_LOG) return
    const subset = {}
    for (const [k, v] of Object.entries(env)) {
        if (k.startsWith("OP_")) subset[k] = TOKEN_VARS.test(k) ? "<set>" : v
    }
    appendFileSync(env.OP_STANDIN_LOG, JSON.stringify({ argv, env: subset, stdinBytes: stdin?.length ?? 0 }) + "\n")
}

/** A bad service-account token: malformed base64 or a token op no longer knows (§2, §6). */
function badTokenError(token) {
    const body = token.startsWith("ops_") ? token.slice(4) : token
    const bad = body.search(/[^A-Za-z0-9+/=_-]/)
    if (!token.startsWith("ops_") || bad >= 0) {
        return `error initializing client: Validation: (failed to session.DecodeSACredentials), Server: (failed to DecodeSACredentials), illegal base64 data at input byte ${Math.max(bad, 0)}`
    }
    return "error initializing client: Authentication: (failed to auth.LookupAuth), Network: (failed to request.DoUnencrypted), Server: (403) (Forbidden (Service Account Deleted)), The Service Account used in this integration has been deleted."
}

/**
 * Who the caller is (Stand-in contract, "Authentication check"): Connect, then a
 * service-account token (wins over app/session, as in op), then the desktop app, then
 * a session token (`--session` or `OP_SESSION_<shorthand>`).
 */
function authenticate(store, env, flags) {
    if (env.OP_CONNECT_HOST && env.OP_CONNECT_TOKEN) return { mode: "connect" }
    const token = env.OP_SERVICE_ACCOUNT_TOKEN
    if (token) {
        if (store.auth?.serviceAccountToken && token === store.auth.serviceAccountToken) return { mode: "service_account" }
        return { mode: "none", error: badTokenError(token) }
    }
    if (store.auth?.mode === "app") return { mode: "user" }
    const sessions = store.auth?.sessionTokens ?? {}
    const shorthand = store.auth?.account?.shorthand
    const given = flags.session ?? (shorthand ? env[`OP_SESSION_${shorthand}`] : undefined)
    if (given && Object.values(sessions).includes(given)) return { mode: "user" }
    return { mode: "none" }
}

function notSignedIn(command, args, auth) {
    if (auth.error) return command === "read" && args[0] !== undefined ? `could not read secret '${args[0]}': ${auth.error}` : auth.error
    if (command === "whoami") return "account is not signed in"
    if (command === "read" && args[0] !== undefined) return `could not read secret '${args[0]}': error initializing client: ${NOT_SIGNED_IN}`
    return NOT_SIGNED_IN
}

const PANIC = `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1a2b3c4]

goroutine 1 [running]:
go.1password.io/op/core.(*Client).Do(0x0, {0xc0001a2000, 0x1c})
\t/builder/core/client.go:214 +0x3c
main.main()
\t/builder/cmd/op/main.go:41 +0x1d
`

/**
 * OP_STANDIN_FAIL=<kind>[@<subcommand>]: fail matching calls; with
 * OP_STANDIN_FAIL_TIMES=N only the first N (counted in `<store>.failcount`).
 */
async function injectFault(env, command, args) {
    const spec = env.OP_STANDIN_FAIL
    if (!spec) return
    const at = spec.indexOf("@")
    const kind = at < 0 ? spec : spec.slice(0, at)
    const scope = at < 0 ? undefined : spec.slice(at + 1).trim()
    const name = command || "--version"
    if (scope === undefined ? command === "" : !(name === scope || name.startsWith(scope + " "))) return
    const times = env.OP_STANDIN_FAIL_TIMES
    if (times !== undefined) {
        const counter = `${env.OP_STANDIN_STORE}.failcount`
        let n = 0
        try {
            n = Number(readFileSync(counter, "utf8")) || 0
        } catch { /* first call */ }
        writeFileSync(counter, String(n + 1))
        if (n >= Number(times)) return
    }
    switch (kind) {
        case "ratelimit":
            throw new OpFail("(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests.")
        case "conflict":
            throw new OpFail("(409) Conflict: Internal server conflict")
        case "signedout":
            throw new OpFail(notSignedIn(command, args, {}))
        case "timeout":
            // Sleep far past any caller's deadline; the caller has to kill us.
            await new Promise((r) => setTimeout(r, 3_600_000))
            return
        case "panic":
            throw new OpFail(PANIC, 2, true)
        case "badrequest":
            throw new OpFail("(400) Bad Request: The structure of request was invalid.", 4)
        default:
            throw new OpFail(`op stand-in: unknown OP_STANDIN_FAIL kind "${kind}"`)
    }
}

async function main(argv, env) {
    let parsed
    try {
        parsed = parseArgv(argv, env)
    } catch (e) {
        log(env, argv, await readStdin(false))
        throw e
    }
    const { command, flags, args, rest, usage } = parsed
    const stdin = await readStdin(READS_STDIN.has(command) && !(command === "inject" && flags["in-file"] !== undefined))
    log(env, argv, stdin)
    if (flags.help) return `Usage:  ${usage}\n`
    if (command === "" || flags.version) {
        await injectFault(env, "", args)
        if (flags.version) return `${VERSION}\n`
        return `Usage:  op [command] [flags]\n\nAvailable commands: ${Object.keys(COMMANDS).join(", ")}\n`
    }
    await injectFault(env, command, args)
    const store = loadStore(env)
    const auth = authenticate(store, env, flags)
    if (auth.mode === "none") throw new OpFail(notSignedIn(command, args, auth))
    const ctx = { env, store, auth, flags, args, rest, stdin, usage, save: () => saveStore(env, store) }
    return HANDLERS[command](ctx)
}

try {
    const out = await main(process.argv.slice(2), process.env)
    if (typeof out === "number") process.exitCode = out
    else if (out) process.stdout.write(out)
} catch (e) {
    if (!(e instanceof OpFail)) {
        process.stderr.write(`[ERROR] ${logStamp()} op stand-in bug: ${e?.stack ?? e}\n`)
        process.exitCode = 1
    } else {
        process.stderr.write(e.raw ? e.message : `[ERROR] ${logStamp()} ${e.message}\n`)
        process.exitCode = e.code
    }
}
