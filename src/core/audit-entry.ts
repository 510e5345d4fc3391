/**
 * One audit record (issue 16 §1) as the CLI writes it and `audit show`/`metrics`
 * read it back. Never a value: key paths, file names and the identity's name are
 * what the encrypted files show anyway.
 *
 * The log comes from disk and may have been edited, so reading is defensive: a
 * line that is not a well-formed record is skipped by `entryOf` (and reported by
 * `audit verify`, which checks the chain, not the fields).
 */

export type AuditResult = "ok" | "error"

export interface AuditEntry {
    /** ISO 8601, UTC. */
    readonly time: string
    readonly user: string
    readonly host: string
    /** The command as the user named it: `decrypt`, `keys rotate`, `run`. */
    readonly command: string
    readonly files: readonly string[]
    /** Key paths read or changed, in index syntax; empty when the whole file was. */
    readonly keyPaths: readonly string[]
    /**
     * The recipients whose key entries the caller's identities opened: public keys,
     * exact, so that a later `.sops.yaml` edit cannot relabel who it was; `audit show`
     * prints their `.sops.yaml` names.
     */
    readonly recipients?: readonly string[]
    readonly result: AuditResult
    readonly exitCode: number
    readonly durationMs: number
    /** What kind of event beyond the command: `rotation` for data-key and value rotations. */
    readonly event?: string
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string")

/** The record in a parsed line, or undefined when it is not one. */
export function entryOf(parsed: unknown): AuditEntry | undefined {
    if (typeof parsed !== "object" || parsed === null) return undefined
    const r = parsed as Record<string, unknown>
    if (typeof r.time !== "string" || Number.isNaN(Date.parse(r.time))) return undefined
    if (typeof r.command !== "string" || typeof r.user !== "string" || typeof r.host !== "string") return undefined
    if (!isStrings(r.files) || !isStrings(r.keyPaths)) return undefined
    if (r.result !== "ok" && r.result !== "error") return undefined
    if (typeof r.exitCode !== "number" || typeof r.durationMs !== "number" || !(r.durationMs >= 0)) return undefined
    if (r.recipients !== undefined && !isStrings(r.recipients)) return undefined
    if (r.event !== undefined && typeof r.event !== "string") return undefined
    return {
        time: r.time,
        user: r.user,
        host: r.host,
        command: r.command,
        files: r.files,
        keyPaths: r.keyPaths,
        ...(r.recipients !== undefined ? { recipients: r.recipients as string[] } : {}),
        result: r.result,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        ...(r.event !== undefined ? { event: r.event as string } : {}),
    }
}

/** Every record of a log's text, in order; lines that are not records are left out. */
export function entriesOf(log: string): AuditEntry[] {
    const out: AuditEntry[] = []
    for (const line of log.split("\n")) {
        if (line === "") continue
        let parsed: unknown
        try {
            parsed = JSON.parse(line)
        } catch {
            continue
        }
        const e = entryOf(parsed)
        if (e !== undefined) out.push(e)
    }
    return out
}
