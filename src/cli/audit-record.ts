/**
 * The audit record of one command run (issue 16 §1): main.ts notes the dispatched
 * command, runs it, and appends one line once the exit status is known. Which
 * commands are recorded is a list of the ones that are NOT (they never decrypt,
 * change, run with, deploy or sync a secret), so a new command is audited unless
 * someone decides otherwise.
 *
 * Arguments are never copied into the record: `set`'s value, `run`'s and
 * `exec-env`'s command line may hold secrets. Files come from the file services
 * (files/audit-collector.ts), key paths only from the arguments known to be key
 * paths.
 *
 * A log that cannot be written costs a warning, never the command's result.
 */
import { hostname, userInfo } from "node:os"
import { warn } from "../files/diagnostics.js"
import type { AuditCollector } from "../files/audit-collector.js"
import type { Io } from "../files/io.js"

/** Commands that read no secret and change none: metadata, setup, the log itself. */
const NOT_AUDITED = new Set([
    "filestatus", "status", "access", "completion", "audit verify", "audit show", "metrics", "scan",
    "git setup", "keys list", "keys names", "keys generate", "keys retired", "init",
    "agent start", "agent stop", "agent status", "agent lock", "agent serve",
    "groups add", "groups delete",
])

/** Commands that give files new data keys or values new values: counted as rotations by `metrics`. */
const ROTATIONS = new Set(["rotate", "rotate --due", "keys rotate", "keys revoke", "rotate-value", "rotate-value --due"])

/** Where each command's key path is among its dispatched arguments. */
const KEY_PATH_ARG: Readonly<Record<string, number>> = { set: 1, unset: 1, restore: 1, log: 1, "rotate-value": 1 }

export interface DispatchedCommand {
    readonly command: string
    readonly args: readonly unknown[]
    readonly opts: object
    readonly startedMs: number
}

export function isAudited(command: string): boolean {
    return !NOT_AUDITED.has(command)
}

/** The record's fields (the chain adds seq and prev). */
export function auditRecord(io: Io, run: DispatchedCommand, collector: AuditCollector, exitCode: number, endedMs: number): Record<string, unknown> {
    const keyPaths = new Set(collector.keyPaths)
    const at = KEY_PATH_ARG[run.command]
    const arg = at === undefined ? undefined : run.args[at]
    if (typeof arg === "string") keyPaths.add(arg)
    const extract = (run.opts as { extract?: unknown }).extract
    if (typeof extract === "string") keyPaths.add(extract)
    const recipients = [...collector.recipients]
    return {
        time: io.now().toISOString(),
        user: userName(io),
        host: hostname(),
        command: run.command,
        files: [...collector.files],
        keyPaths: [...keyPaths],
        ...(recipients.length > 0 ? { recipients } : {}),
        ...(ROTATIONS.has(run.command) ? { event: "rotation" } : {}),
        result: exitCode === 0 ? "ok" : "error",
        exitCode,
        durationMs: Math.max(0, Math.round(endedMs - run.startedMs)),
    }
}

function userName(io: Io): string {
    try {
        return userInfo().username
    } catch {
        // No passwd entry (a container's arbitrary uid): the environment's word, else the uid.
        return io.env.USER ?? io.env.LOGNAME ?? String(process.getuid?.() ?? "unknown")
    }
}

/** Append the record, or warn: the log never fails a command. */
export async function recordRun(io: Io, run: DispatchedCommand, collector: AuditCollector, exitCode: number): Promise<void> {
    try {
        const { auditPlace } = await import("../files/audit-location.js")
        const place = auditPlace(io.env, io.env.HOME ?? "", run.command)
        if ("off" in place) return
        if ("problem" in place) {
            warn(io, `not recorded in the audit log: ${place.problem}`)
            return
        }
        const { appendAudit } = await import("../files/audit-log.js")
        // The lock's waiting notice (a holder stuck for half a minute) goes to the
        // command's stderr, touched only if it is written: the fast paths' Io builds a
        // stream on first use of its streams' properties (cli/hot/io.ts).
        const stderr = { write: (chunk: string) => io.stderr.write(chunk) }
        // A fixed bound, not SECRETS_LOCK_TIMEOUT: that setting is about the user's files
        // (and a malformed one is that command's error to report, not the log's); the
        // log's lock is held for a write of one line, and a dead holder is taken over at once.
        const line = await appendAudit(place.target, auditRecord(io, run, collector, exitCode, performance.now()), { stderr, noticeAfterMs: 30_000, timeoutMs: 5_000 })
        if (io.env.SECRETS_AUDIT_SYSLOG !== undefined && io.env.SECRETS_AUDIT_SYSLOG !== "") await forward(io, line)
    } catch (e) {
        const why = (e as { code?: string }).code ?? (e instanceof Error ? e.message : "unknown error")
        warn(io, `not recorded in the audit log: ${why}`)
    }
}

/** A copy of the record to syslog (integrations/syslog.ts), when the user asked for one. */
async function forward(io: Io, line: string): Promise<void> {
    const { sendToSyslog, syslogTarget } = await import("../integrations/syslog.js")
    const target = syslogTarget(io.env.SECRETS_AUDIT_SYSLOG)
    if (target === undefined) return
    if ("error" in target) {
        warn(io, `not forwarded to syslog: ${target.error}`)
        return
    }
    try {
        await sendToSyslog(target, line, io.env)
    } catch (e) {
        warn(io, `not forwarded to syslog: ${e instanceof Error ? e.message : "logger failed"}`)
    }
}

/**
 * Run a command that is not dispatched through main.ts (the fast paths of
 * src/cli/hot/) with its audit record, as main.ts records dispatched ones.
 */
export async function withAuditRecord(io: Io, command: string, args: readonly unknown[], opts: object, run: (io: Io) => Promise<number>): Promise<number> {
    if (!isAudited(command)) return run(io)
    const { attachAuditCollector } = await import("../files/audit-collector.js")
    const auditedIo = Object.create(io) as Io
    const collector = attachAuditCollector(auditedIo)
    const startedMs = performance.now()
    const code = await run(auditedIo)
    await recordRun(auditedIo, { command, args, opts, startedMs }, collector, code)
    return code
}
