/**
 * Appending to the audit log and reading it back (issue 16 §1). The chain itself
 * (seq, prev, the anchor) is core/audit-chain.ts; this is the file side:
 *
 * - One writer at a time, under the log's lock (files/file-lock.ts): a line's
 *   `prev` is the hash of the line before it, so reading the tail and appending
 *   must not interleave with another process doing the same (50 concurrent
 *   commands append 50 whole, correctly chained lines).
 * - The line goes out in one write() on an O_APPEND descriptor: a crash leaves
 *   either the whole line or a torn one, which `audit verify` reports.
 * - The anchor is replaced by rename (temp + rename in the same directory), not
 *   fsynced: the log must not cost a command more than a few milliseconds, and a
 *   power cut then leaves the anchor behind the log, which verify reports as
 *   unanchored lines, never as tampering.
 * - The log and the anchor are 0600 in a 0700 directory, opened without following
 *   a symbolic link: it names files and commands, which is nobody else's business.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { basename, dirname, join } from "node:path"
import { anchorFor, chainLine, type AuditAnchor } from "../core/audit-chain.js"
import { withFileLock, type FileLockOptions } from "./file-lock.js"

/** Where a log and its anchor live. */
export interface AuditTarget {
    readonly log: string
    readonly anchor: string
}

/** The anchor beside a log: `audit.jsonl` → `audit.jsonl.anchor`. */
export function auditTargetAt(log: string): AuditTarget {
    return { log, anchor: `${log}.anchor` }
}

/** How much of the log's end is read to find the last line (lines are a few hundred bytes). */
const TAIL_BYTES = 64 * 1024

/**
 * Append one entry (chained to the last line) and move the anchor to it; the line
 * written, without its "\n". Throws on any failure; the caller (the CLI) turns
 * that into a warning, never a failed command.
 */
export async function appendAudit(
    target: AuditTarget,
    entry: Readonly<Record<string, unknown>>,
    lock: Pick<FileLockOptions, "env" | "stderr" | "noticeAfterMs" | "timeoutMs"> = {},
): Promise<string> {
    mkdirSync(dirname(target.log), { recursive: true, mode: 0o700 })
    return withFileLock(
        target.log,
        async () => {
            const fd = openSync(target.log, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600)
            try {
                const st = fstatSync(fd)
                if (!st.isFile()) throw new Error(`${target.log} is not a regular file`)
                const last = lastLine(fd, st.size, target.log)
                const line = chainLine(last.previous, entry)
                // A torn last line (a crash mid-write) stays its own line: verify reports it.
                writeSync(fd, last.torn ? "\n" + line : line)
                const seq = (last.previous?.seq ?? 0) + 1
                writeAnchor(target.anchor, anchorFor(line.slice(0, -1), seq))
                return line.slice(0, -1)
            } finally {
                closeSync(fd)
            }
        },
        // The caller's stderr, not process.stderr: touching that builds a stream the
        // fast paths never otherwise need (issue 14 target 2).
        lock,
    )
}

/**
 * The line the next one chains to, and whether the log ends in a torn line (a crash
 * mid-write). A torn fragment becomes a line of its own, the one chained to, with
 * the seq after the last good line: verify then reports exactly that line as not
 * JSON, and every line after it still checks.
 */
function lastLine(fd: number, size: number, path: string): { previous: { text: string; seq: number } | undefined; torn: boolean } {
    if (size === 0) return { previous: undefined, torn: false }
    const start = Math.max(0, size - TAIL_BYTES)
    const buf = Buffer.alloc(size - start)
    readSync(fd, buf, 0, buf.length, start)
    const text = buf.toString("utf8")
    const pieces = text.split("\n")
    // Not one whole line plus what follows it in the tail (nothing we write): read it all.
    if (pieces.length < 3 && start > 0) return splitLast(readFileSync(path, "utf8"))
    return splitLast(text, () => countLines(path))
}

function splitLast(text: string, count?: () => number): { previous: { text: string; seq: number } | undefined; torn: boolean } {
    const pieces = text.split("\n")
    const fragment = pieces.pop() ?? ""
    const torn = fragment !== ""
    const last = pieces[pieces.length - 1]
    // An unparsable last line (edited, corrupted) has no seq to continue from: count lines.
    const lastSeq = last === undefined ? 0 : (seqOf(last) ?? (count !== undefined ? count() : pieces.length))
    if (torn) return { previous: { text: fragment, seq: lastSeq + 1 }, torn }
    return { previous: last === undefined ? undefined : { text: last, seq: lastSeq }, torn }
}

function seqOf(line: string): number | undefined {
    try {
        const seq = (JSON.parse(line) as { seq?: unknown }).seq
        return typeof seq === "number" && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined
    } catch {
        return undefined
    }
}

function countLines(path: string): number {
    const text = readFileSync(path, "utf8")
    return text.slice(0, text.lastIndexOf("\n") + 1).split("\n").length - 1
}

function writeAnchor(path: string, anchor: AuditAnchor): void {
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)
    try {
        writeFileSync(tmp, JSON.stringify(anchor) + "\n", { mode: 0o600, flag: "wx" })
        renameSync(tmp, path)
    } catch (e) {
        try {
            unlinkSync(tmp)
        } catch {
            // never created
        }
        throw e
    }
}

/** The log's text and its anchor (undefined when absent or unreadable: verify says so). */
export function readAudit(target: AuditTarget): { log: string; anchor: AuditAnchor | undefined } {
    const log = readFileSync(target.log, "utf8")
    let anchor: AuditAnchor | undefined
    try {
        const parsed = JSON.parse(readFileSync(target.anchor, "utf8")) as { seq?: unknown; hash?: unknown }
        if (typeof parsed.seq === "number" && typeof parsed.hash === "string") anchor = { seq: parsed.seq, hash: parsed.hash }
    } catch {
        anchor = undefined
    }
    return { log, anchor }
}
