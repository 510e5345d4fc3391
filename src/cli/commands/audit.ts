/**
 * `secrets audit verify|show` (issue 16 §1): check the audit log's hash chain
 * against its anchor, and list its records. Both read the user's log unless
 * `--log FILE` names another (a host's: /var/log/secrets/audit.jsonl).
 */
import { Command, Option } from "commander"
import type { AuditEntry } from "../../core/audit-entry.js"
import { IntegrityError, SecretsError, ExitCode } from "../../errors.js"
import type { Io } from "../../files/io.js"
import type { CommandContext } from "../context.js"

interface LogFlag {
    log?: string
    json?: boolean
}

interface ShowFlags extends LogFlag {
    since?: string
    file?: string
    command?: string
}

export function registerAudit(program: Command, ctx: CommandContext): void {
    const audit = program.command("audit").description("the audit log: every decrypt, change, run, deploy and sync, hash-chained")
    audit
        .command("verify")
        .description("check that no line of the audit log was edited, removed, moved or cut off")
        .addOption(logOption())
        .addOption(new Option("--json", "print the result as JSON"))
        .action(async (flags: LogFlag) => {
            await ctx.dispatch("audit verify", [], flags, async () => {
                const { verifyAuditLog } = await import("../../files/audit-read.js")
                const result = verifyAuditLog(await auditLogTarget(ctx.io, flags))
                if (flags.json === true) ctx.io.stdout.write(JSON.stringify(result, null, 2) + "\n")
                else if (result.ok) {
                    const tail = result.unanchored > 0 ? `; ${result.unanchored} line(s) after the anchored head (a command stopped between its two writes)` : ""
                    ctx.io.stdout.write(`${result.log}: ${result.lines} line(s), chain intact${tail}\n`)
                }
                if (!result.ok) {
                    if (flags.json !== true) for (const p of result.problems) ctx.io.stderr.write(`secrets: ${result.log}: ${p}\n`)
                    throw new IntegrityError(`the audit log ${result.log} was tampered with or damaged (${result.problems.length} problem(s))`, [
                        "keep the log as it is for investigation; `secrets audit show` still lists its well-formed lines",
                    ])
                }
            })
        })
    audit
        .command("show")
        .description("list audit records (never values), oldest first")
        .addOption(logOption())
        .addOption(sinceOption())
        .addOption(new Option("--file <path>", "only records that name this file"))
        .addOption(new Option("--command <name>", "only records of this command (e.g. decrypt, keys)"))
        .addOption(new Option("--json", "print the records as a JSON array"))
        .action(async (flags: ShowFlags) => {
            await ctx.dispatch("audit show", [], flags, async () => {
                const { auditEntries } = await import("../../files/audit-read.js")
                const since = await sinceFlag(ctx.io, flags.since)
                const entries = auditEntries(await auditLogTarget(ctx.io, flags), {
                    ...(since !== undefined ? { since } : {}),
                    ...(flags.file !== undefined ? { file: flags.file } : {}),
                    ...(flags.command !== undefined ? { command: flags.command } : {}),
                })
                if (flags.json === true) {
                    ctx.io.stdout.write(JSON.stringify(entries, null, 2) + "\n")
                    return
                }
                // Names from the .sops.yaml found from here, as a courtesy: the log keeps the keys.
                const { recipientNamer } = await import("../../files/recipient-names.js")
                const { findConfig } = await import("../../config/find.js")
                const { existsSync } = await import("node:fs")
                const name = recipientNamer(findConfig({ cwd: ctx.io.cwd, exists: existsSync }))
                ctx.io.stdout.write(entries.map((e) => showLine(e, name)).join(""))
            })
        })
}

/** `--log` and `--since` of `audit show` and `metrics`, which read the same log the same way. */
export const logOption = () => new Option("--log <file>", "the audit log to read (default: $SECRETS_AUDIT_LOG, else ~/.local/state/secrets/audit.jsonl)")
export const sinceOption = () => new Option("--since <when>", "only records since a span back (30m, 24h, 7d, 2w) or a date (2026-12-01)")

/** The instant `--since` names (core/since.ts), or an error naming the accepted forms. */
export async function sinceFlag(io: Io, text: string | undefined): Promise<Date | undefined> {
    if (text === undefined) return undefined
    const { parseSince } = await import("../../core/since.js")
    const since = parseSince(text, io.now())
    if (!(since instanceof Date)) throw new SecretsError(ExitCode.Generic, since.error)
    return since
}

/** One record as a line: time, result, command, files, key paths, who, duration. */
function showLine(e: AuditEntry, name: (recipient: string) => string): string {
    const what = [e.files.join(","), e.keyPaths.length > 0 ? e.keyPaths.join(",") : ""].filter((s) => s !== "").join(" ")
    const who = `${e.user}@${e.host}${e.recipients !== undefined && e.recipients.length > 0 ? ` as ${e.recipients.map(name).join(", ")}` : ""}`
    const result = e.result === "ok" ? "ok" : `error ${e.exitCode}`
    return `${e.time}  ${result.padEnd(9)} ${e.command}${what !== "" ? ` ${what}` : ""}  ${who}  ${e.durationMs} ms\n`
}

/** The log `--log` names, else the user's (audit-location.ts); an error when it is off. */
export async function auditLogTarget(io: Io, flags: { log?: string }) {
    const { auditTargetAt } = await import("../../files/audit-log.js")
    if (flags.log !== undefined) return auditTargetAt(flags.log)
    const { auditPlace } = await import("../../files/audit-location.js")
    const { homedir } = await import("node:os")
    const place = auditPlace(io.env, io.env.HOME ?? homedir(), "audit")
    if ("problem" in place) throw new SecretsError(ExitCode.Generic, `cannot find the audit log: ${place.problem}`, ["pass --log FILE"])
    if ("off" in place) throw new SecretsError(ExitCode.Generic, "the audit log is off (SECRETS_AUDIT_LOG=off)", ["pass --log FILE to read a log anyway"])
    return place.target
}
