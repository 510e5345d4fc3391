/**
 * The audit log's hash chain (issue 16 §1), pure: how a line is made from an entry
 * and the line before it, and how a whole log is checked against its anchor.
 *
 * Each line is one JSON object ending in "\n" and carries `seq` (1, 2, …) and
 * `prev`, the SHA-256 of the previous line's exact bytes (without its "\n"); the
 * first line's `prev` is the hash of a fixed genesis label. So editing a line
 * breaks the `prev` of the line after it, deleting or moving one breaks `seq` and
 * `prev`, and only the last line is unprotected by the chain itself: the anchor
 * (a separate small file, written after every append) records the head's `seq` and
 * hash, which catches an edited last line and a log cut short.
 *
 * What this does not stop: someone who can write both the log and the anchor can
 * rewrite the whole chain consistently. The anchor is a separate file so that it
 * can live where the log's writer cannot reach, or be forwarded (syslog); the
 * security guide says so.
 */
import { createHash } from "node:crypto"

/** The `prev` of line 1. */
export const GENESIS = sha256Hex("secrets audit log v1")

/** The head of a log as its anchor records it. */
export interface AuditAnchor {
    readonly seq: number
    readonly hash: string
}

/** What verification found; `line` is 1-based, as in an editor. */
export type ChainProblem =
    | { readonly kind: "not-json"; readonly line: number }
    | { readonly kind: "seq"; readonly line: number; readonly expected: number; readonly found: unknown }
    | { readonly kind: "prev"; readonly line: number }
    | { readonly kind: "torn"; readonly line: number }
    | { readonly kind: "truncated"; readonly anchored: number; readonly found: number }
    | { readonly kind: "head-edited"; readonly line: number }

export interface ChainReport {
    readonly lines: number
    readonly problems: readonly ChainProblem[]
    /** Lines after the anchored head: a writer that stopped between append and anchor, or an append by someone else. */
    readonly unanchored: number
}

export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex")
}

/**
 * The line (with its "\n") that follows `previous` (the last line's text without
 * "\n", undefined for an empty log): `seq` and `prev` first, then the entry's own
 * fields, which must not name either.
 */
export function chainLine(previous: { readonly text: string; readonly seq: number } | undefined, entry: Readonly<Record<string, unknown>>): string {
    if ("seq" in entry || "prev" in entry) throw new Error("audit entry must not carry seq or prev")
    const head = previous === undefined ? { seq: 1, prev: GENESIS } : { seq: previous.seq + 1, prev: sha256Hex(previous.text) }
    return JSON.stringify({ ...head, ...entry }) + "\n"
}

/** The anchor for a log whose last line is `text` (without "\n") at `seq`. */
export function anchorFor(text: string, seq: number): AuditAnchor {
    return { seq, hash: sha256Hex(text) }
}

/**
 * Check a whole log. Every broken link is reported (not only the first), so that
 * `audit verify` can say where a log was touched; one edit shows as one problem
 * at the line after it.
 */
export function verifyChain(log: string, anchor: AuditAnchor | undefined): ChainReport {
    const problems: ChainProblem[] = []
    const lines = log === "" ? [] : log.split("\n")
    // A log ends in "\n": a last piece without one is a torn or cut line.
    const torn = lines.length > 0 && lines[lines.length - 1] !== ""
    if (lines.length > 0 && !torn) lines.pop()
    if (torn) problems.push({ kind: "torn", line: lines.length })
    const complete = torn ? lines.slice(0, -1) : lines
    let prevHash = GENESIS
    complete.forEach((text, i) => {
        const line = i + 1
        let parsed: unknown
        try {
            parsed = JSON.parse(text)
        } catch {
            problems.push({ kind: "not-json", line })
            prevHash = sha256Hex(text)
            return
        }
        const record = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { seq?: unknown; prev?: unknown }
        if (record.seq !== line) problems.push({ kind: "seq", line, expected: line, found: record.seq })
        if (record.prev !== prevHash) problems.push({ kind: "prev", line })
        prevHash = sha256Hex(text)
    })
    let unanchored = 0
    if (anchor !== undefined) {
        if (anchor.seq > complete.length) problems.push({ kind: "truncated", anchored: anchor.seq, found: complete.length })
        else {
            if (anchor.seq > 0 && sha256Hex(complete[anchor.seq - 1] ?? "") !== anchor.hash) problems.push({ kind: "head-edited", line: anchor.seq })
            unanchored = complete.length - anchor.seq
        }
    }
    return { lines: complete.length, problems, unanchored }
}

/** One line per problem, for `audit verify`. */
export function describeProblem(p: ChainProblem): string {
    switch (p.kind) {
        case "not-json":
            return `line ${p.line} is not a JSON record: edited or corrupted`
        case "seq":
            return `line ${p.line} carries seq ${JSON.stringify(p.found)}, expected ${p.expected}: lines were removed, added or moved before it`
        case "prev":
            return `line ${p.line} does not follow line ${p.line - 1}: the line before it was edited, removed or moved`
        case "torn":
            return `line ${p.line} is incomplete (no line end): the log was cut or a write was torn`
        case "truncated":
            return `the anchor records ${p.anchored} lines but the log has ${p.found}: lines were removed from its end`
        case "head-edited":
            return `line ${p.line}, the anchored head, differs from what the anchor recorded: edited`
    }
}
