/**
 * What went wrong when `op` failed, read from its exit status and stderr
 * (op-cli.md §2, §3, §6, §7), turned into one message in our voice plus hints.
 * Pure: the executor in op.ts hands the facts in.
 *
 * op prints every failure as `[ERROR] YYYY/MM/DD HH:MM:SS <message>` (Go's `log`
 * layout); the ambiguity error continues on tab-indented lines. op "only ever
 * returns 1 on error", but 2 (a Go panic) and 4 (a 400) were captured, so any
 * non-zero status is a failure and the text decides the kind. op-js treats any
 * stderr as a failure even with status 0, and so do we.
 *
 * op's error texts carry references, vault names, titles and IDs, never values, so
 * one line of them may be quoted in a hint; it is still dropped when one of the
 * values in play (the caller's `secrets`) occurs in it, and cut to 300 characters.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { OpErrorKind } from "./op-types.js"

/** A failed op call (or one we could not start), classified. */
export class OpError extends SecretsError {
    readonly kind: OpErrorKind

    constructor(kind: OpErrorKind, message: string, hints: readonly string[] = [], code: ExitCode = ExitCode.Generic) {
        super(code, message, hints)
        this.name = "OpError"
        this.kind = kind
    }
}

/** The facts about one failed op call. */
export interface OpFailure {
    /** op's exit status; undefined when it could not start or a signal ended it. */
    readonly exitCode?: number
    readonly stderr: string
    /** Our timeout killed it. */
    readonly timedOut?: boolean
    /** The program was not found (ENOENT). */
    readonly notFound?: boolean
    /** The signal that ended it, when not our timeout. */
    readonly signal?: string
    /** The error code when it could not be started for another reason than ENOENT (EACCES, …). */
    readonly spawnError?: string
    /** What the call was for, ready for a message: a quoted reference or `item "db" in vault "Prod"`. */
    readonly what: string
    /** The op subcommand, e.g. `op read`, `op item get`; default `op`. */
    readonly command?: string
    /** The program that was run (`op` or SECRETS_OP_BIN). */
    readonly bin?: string
    /** The timeout that was applied, for the timeout message. */
    readonly timeoutMs?: number
    /** Values that were in play (a template's); op's text is not quoted if one occurs in it. */
    readonly secrets?: readonly string[]
}

/** Hint for a missing op. */
export const INSTALL_HINT = "install the 1Password CLI: https://developer.1password.com/docs/cli/get-started/"
/** Hint for every way of not being signed in. */
export const SIGN_IN_HINT = "run `eval $(op signin)`, unlock the desktop app, or set OP_SERVICE_ACCOUNT_TOKEN for CI"
/** Hint after a timeout. */
export const TIMEOUT_HINT = "raise the limit with SECRETS_OP_TIMEOUT (milliseconds)"

const QUOTE_MAX = 300
const ERROR_LINE = /^\[ERROR\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} (.*)$/

/**
 * The messages of op's `[ERROR]` lines, in order, each with its tab-indented
 * continuation lines joined by `\n` (the "More than one item matches" block).
 */
export function parseOpStderr(stderr: string): string[] {
    const out: string[] = []
    for (const line of stderr.split(/\r?\n/)) {
        const m = ERROR_LINE.exec(line)
        if (m !== null) out.push(m[1] ?? "")
        else if (line.startsWith("\t") && out.length > 0) out[out.length - 1] += `\n${line}`
    }
    return out
}

/** Classify a failed op call into an OpError with one message and its hints. */
export function classifyOpFailure(f: OpFailure): OpError {
    const command = f.command ?? "op"
    const needed = `(needed for ${f.what})`
    if (f.notFound === true) {
        return new OpError("not-installed", `cannot run ${quote(f.bin ?? "op")}: the 1Password CLI is not installed or not on PATH ${needed}`, [
            INSTALL_HINT,
            "or set SECRETS_OP_BIN to the path of op",
        ])
    }
    if (f.timedOut === true) {
        const limit = f.timeoutMs !== undefined ? ` after ${formatSeconds(f.timeoutMs)}` : ""
        return new OpError("timeout", `${command} timed out${limit} ${needed}`, [
            "op may be waiting for approval in the 1Password app, or for the network",
            TIMEOUT_HINT,
        ])
    }
    if (f.spawnError !== undefined) {
        return new OpError("failed", `cannot run ${quote(f.bin ?? "op")} (${f.spawnError}) ${needed}`, [
            "check that SECRETS_OP_BIN or the op on PATH is an executable program",
        ])
    }
    const messages = parseOpStderr(f.stderr)
    const all = messages.join("\n")
    const status = f.exitCode !== undefined && f.exitCode !== 1 ? ` (exit status ${f.exitCode})` : ""
    if (/^panic:/m.test(f.stderr) || f.exitCode === undefined) {
        const how = f.signal !== undefined ? `was killed by ${f.signal}` : `crashed${status}`
        return new OpError("crashed", `${command} ${how} ${needed}`, [
            "update the 1Password CLI (`op update`); if OP_SERVICE_ACCOUNT_TOKEN is set, check that it is the whole token",
        ])
    }
    const said = opSaid(messages[0] ?? firstLine(f.stderr), f.secrets ?? [])
    const make = (kind: OpErrorKind, message: string, hints: string[]): OpError => new OpError(kind, message, [...hints, ...said])

    if (/DecodeSACredentials/.test(all)) {
        return make("signed-out", `the 1Password service account token is not valid ${needed}`, [
            "set OP_SERVICE_ACCOUNT_TOKEN to the whole token (it starts with ops_)",
        ])
    }
    if (/Service Account Deleted/i.test(all)) {
        return make("signed-out", `the 1Password service account was deleted ${needed}`, [
            "create a new service account and set OP_SERVICE_ACCOUNT_TOKEN to its token",
        ])
    }
    if (/authorization timeout|authorization prompt dismissed|cannot setup session|RequestDelegatedSession/.test(all)) {
        return make("signed-out", `the 1Password app did not authorize the CLI ${needed}`, [
            "unlock the 1Password app and approve its prompt (Settings > Developer > Integrate with 1Password CLI)",
            SIGN_IN_HINT,
        ])
    }
    if (/not currently signed in|account is not signed in|could not find session token|not authenticated yet|no account found for filter/.test(all)) {
        return make("signed-out", `the 1Password CLI is not signed in ${needed}`, [SIGN_IN_HINT])
    }
    const ref = /invalid secret reference .*/.exec(all)
    if (ref !== null) {
        return new OpError("bad-reference", ref[0], [
            "a reference looks like op://vault/item/field or op://vault/item/section/field",
        ])
    }
    if (/\(429\)/.test(all)) {
        const retry = /retry in (\d+ \w+)/.exec(all)
        return make("rate-limited", `1Password rate limit reached ${needed}`, [
            retry !== null ? `the hourly request limit is used up; retry in ${retry[1] ?? ""}` : "the hourly request limit is used up; retry later",
            "fewer requests per run: refer to vaults and items by ID rather than by name",
        ])
    }
    const ambiguous = /More than one item matches "(.*?)"/.exec(all)
    if (ambiguous !== null) {
        const ids = [...all.matchAll(/^\t\* .*: ([a-z0-9]+)\s*$/gm)].map((m) => m[1] ?? "")
        return new OpError("ambiguous", `more than one 1Password item is titled ${quote(ambiguous[1] ?? "")} ${needed}`, [
            ids.length > 0 ? `use the item ID: ${ids.join(", ")}` : "use the item ID (`op item list`)",
        ])
    }
    const vault = /"(.*?)" isn't a vault/.exec(all)
    if (vault !== null) {
        return make("vault-not-found", `1Password vault ${quote(vault[1] ?? "")} not found ${needed}`, [
            "check the vault name or use its ID (`op vault list`); a service account sees only the vaults it was granted",
        ])
    }
    const item = /"(.*?)" isn't an item(?: in the "(.*?)" vault)?/.exec(all)
    if (item !== null) {
        const where = item[2] !== undefined ? ` in vault ${quote(item[2])}` : ""
        return make("item-not-found", `1Password item ${quote(item[1] ?? "")} not found${where} ${needed}`, [
            "check the item title or use its ID (`op item list --vault VAULT`)",
        ])
    }
    const field = /item '(.*?)' does not have a field '(.*?)'/.exec(all) ?? /could not find field or file (.*?) on item (.*?) in vault (.*)$/m.exec(all)
    if (field !== null) {
        const [itemName, fieldName] = field.length === 3 ? [field[1], field[2]] : [`${field[3] ?? ""}/${field[2] ?? ""}`, field[1]]
        return make("field-not-found", `1Password item ${quote(itemName ?? "")} has no field ${quote(fieldName ?? "")} ${needed}`, [
            "check the field label, and the section for op://vault/item/section/field (`op item get ITEM --vault VAULT` lists the fields)",
        ])
    }
    if (/\(409\)/.test(all)) {
        return make("conflict", `1Password refused a concurrent change (409 conflict) ${needed}`, [
            "another change to the same vault was in progress; retry, and avoid parallel writes to one vault",
        ])
    }
    if (/\(403\)/.test(all)) {
        return make("forbidden", `1Password denied access (403 forbidden) ${needed}`, [
            "the signed-in account or service account has no permission for this vault or item",
        ])
    }
    if (/invalid JSON in piped input/.test(all)) {
        return make("failed", `${command} could not read its standard input as an item template ${needed}`, [
            "this is a bug in secrets: please report it",
        ])
    }
    if (f.exitCode === 0) {
        return make("failed", `${command} printed an error although it exited with status 0 ${needed}`, [])
    }
    return make("failed", `${command} failed${status} ${needed}`, [])
}

function opSaid(line: string | undefined, secrets: readonly string[]): string[] {
    if (line === undefined) return []
    const one = line.split("\n")[0]?.trim() ?? ""
    if (one === "") return []
    // A multi-line value cannot occur whole in one line, but any of its lines can.
    const pieces = secrets.flatMap((s) => [s, ...s.split(/\r?\n/)]).filter((s) => s.trim() !== "")
    if (pieces.some((s) => one.includes(s))) return []
    return [`op said: ${one.length > QUOTE_MAX ? `${one.slice(0, QUOTE_MAX)}…` : one}`]
}

function firstLine(stderr: string): string | undefined {
    return stderr.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "")
}

function formatSeconds(ms: number): string {
    const s = ms / 1000
    return `${Number.isInteger(s) ? s : s.toFixed(1)} s`
}
