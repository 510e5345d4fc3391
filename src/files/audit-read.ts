/**
 * Reading the audit log back for `audit verify`, `audit show` and `metrics`
 * (issue 16 §1-2): the chain checked against its anchor, records filtered. The log
 * comes from disk and may have been tampered with: verification reports, it never
 * throws on content; show and metrics read only well-formed records.
 */
import { existsSync } from "node:fs"
import { describeProblem, verifyChain, type ChainProblem } from "../core/audit-chain.js"
import { entriesOf, type AuditEntry } from "../core/audit-entry.js"
import { ExitCode, quote, SecretsError } from "../errors.js"
import { readAudit, type AuditTarget } from "./audit-log.js"

export interface AuditVerification {
    readonly log: string
    readonly lines: number
    readonly ok: boolean
    readonly problems: readonly string[]
    readonly kinds: readonly ChainProblem["kind"][]
    /** Lines after the anchored head (a writer stopped between the two writes, or another append). */
    readonly unanchored: number
    readonly anchored: boolean
}

export function verifyAuditLog(target: AuditTarget): AuditVerification {
    const hasLog = existsSync(target.log)
    const hasAnchor = existsSync(target.anchor)
    if (!hasLog) {
        // No log and no anchor: nothing recorded yet. An anchor without its log: deleted.
        const problems = hasAnchor ? ["the log is missing but its anchor exists: the log was deleted"] : []
        return { log: target.log, lines: 0, ok: !hasAnchor, problems, kinds: hasAnchor ? ["truncated"] : [], unanchored: 0, anchored: hasAnchor }
    }
    const { log, anchor } = readWithErrors(target)
    const report = verifyChain(log, anchor)
    const problems = report.problems.map(describeProblem)
    if (anchor === undefined && report.lines > 0) problems.push(`no anchor beside the log (${target.anchor}): its last lines could have been removed unseen`)
    return {
        log: target.log,
        lines: report.lines,
        ok: problems.length === 0,
        problems,
        kinds: report.problems.map((p) => p.kind),
        unanchored: report.unanchored,
        anchored: anchor !== undefined,
    }
}

export interface AuditFilter {
    readonly since?: Date
    /** Records naming this file (as recorded: relative to where the command ran, or absolute). */
    readonly file?: string
    readonly command?: string
}

export function auditEntries(target: AuditTarget, filter: AuditFilter = {}): AuditEntry[] {
    if (!existsSync(target.log)) return []
    const { log } = readWithErrors(target)
    return entriesOf(log).filter(
        (e) =>
            (filter.since === undefined || Date.parse(e.time) >= filter.since.getTime()) &&
            (filter.command === undefined || e.command === filter.command || e.command.startsWith(`${filter.command} `)) &&
            (filter.file === undefined || e.files.some((f) => f === filter.file || f.endsWith(`/${filter.file}`))),
    )
}

function readWithErrors(target: AuditTarget): ReturnType<typeof readAudit> {
    try {
        return readAudit(target)
    } catch (e) {
        const code = (e as { code?: string }).code ?? "unknown error"
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `cannot read the audit log ${quote(target.log)}: ${code}`)
    }
}
