/**
 * Retired identities in an age key file (issue 10 §2). `keys rotate` never deletes
 * the identity it replaces: git keeps every old revision of every encrypted file,
 * and those revisions open only with the old key, so deleting it would make
 * `git show OLD:secrets/…` unreadable for good. Instead the identity moves to the
 * end of the key file under a marker comment:
 *
 *     # retired: user_alice on 2031-06-01 by secrets keys rotate (still opens old revisions; remove with `secrets keys retired --remove`)
 *     # created: 2030-01-01T00:00:00Z
 *     # public key: age1…
 *     AGE-SECRET-KEY-1…
 *
 * The file stays a plain age key file: sops, age and age-keygen read every
 * `AGE-SECRET-KEY-` line and skip `#` lines, and so does our identity loading, so a
 * retired identity keeps decrypting. Only `secrets keys retired --remove`, after a
 * confirmation, deletes retired identities.
 *
 * Pure text in, text out: the callers read and write the file.
 */
import { identityToRecipientString } from "../keys/identity-file.js"

/** The command that removes retired identities, as the marker and messages name it. */
export const REMOVE_RETIRED_COMMAND = "secrets keys retired --remove"

const MARKER = /^#\s*retired:\s*(\S+)\s+on\s+(\d{4}-\d{2}-\d{2})\b/
/** The comments age-keygen (and `keys rotate`) write above an identity. */
const KEYGEN_COMMENT = /^#\s*(created|public key):/

/** One identity line of a key file. */
export interface IdentityLine {
    /** 0-based line index. */
    readonly line: number
    readonly recipient: string
}

/** A retired identity: its marker, the comments under it and the identity line. */
export interface RetiredIdentity {
    readonly recipient: string
    /** The named key it was (`user_alice`), as the marker says. */
    readonly anchor: string
    /** `YYYY-MM-DD`, as the marker says. */
    readonly date: string
    /** 0-based lines: the marker through the identity line, inclusive. */
    readonly first: number
    readonly last: number
}

/**
 * The identity lines of a key file and their recipients. Lines that do not parse
 * are skipped: they are not ours to judge here (decrypt reports them).
 */
export async function identityLines(text: string): Promise<IdentityLine[]> {
    const out: IdentityLine[] = []
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim()
        if (!line.startsWith("AGE-SECRET-KEY-")) continue
        try {
            out.push({ line: i, recipient: await identityToRecipientString(line) })
        } catch {
            // A broken line stays where it is.
        }
    }
    return out
}

/** True when the key file holds an identity for `recipient` (retired or not). */
export async function holdsIdentity(text: string, recipient: string): Promise<boolean> {
    return (await identityLines(text)).some((id) => id.recipient === recipient)
}

/**
 * The retired identities of a key file, in file order. A marker counts only when
 * comment lines alone stand between it and an identity line; an orphaned marker
 * (someone deleted the key by hand) is left alone.
 */
export async function listRetired(text: string): Promise<RetiredIdentity[]> {
    const lines = text.split("\n")
    const out: RetiredIdentity[] = []
    for (const id of await identityLines(text)) {
        const marker = markerAbove(lines, id.line)
        if (marker === undefined) continue
        out.push({ recipient: id.recipient, anchor: marker.anchor, date: marker.date, first: marker.line, last: id.line })
    }
    return out
}

/** The retirement marker in the comment block right above `line`, if any. */
function markerAbove(lines: readonly string[], line: number): { line: number; anchor: string; date: string } | undefined {
    for (let j = line - 1; j >= 0; j--) {
        const l = lines[j]?.trim() ?? ""
        if (!l.startsWith("#")) return undefined
        const m = MARKER.exec(l)
        if (m !== null) return { line: j, anchor: m[1] ?? "", date: m[2] ?? "" }
    }
    return undefined
}

/**
 * The key file with every active (not yet retired) identity of `recipient` moved to
 * the end under a retirement marker, with the `# created` / `# public key` comments
 * that belonged to it. Idempotent: an identity already retired stays as it is, so a
 * resumed rotation can run this again. `retired` counts the identities moved.
 */
export async function retireIdentity(text: string, recipient: string, by: { anchor: string; date: Date }): Promise<{ text: string; retired: number }> {
    const lines = text.split("\n")
    const move: number[][] = []
    for (const id of await identityLines(text)) {
        if (id.recipient !== recipient || markerAbove(lines, id.line) !== undefined) continue
        let start = id.line
        while (start > 0 && KEYGEN_COMMENT.test(lines[start - 1]?.trim() ?? "")) start--
        move.push(Array.from({ length: id.line - start + 1 }, (_, k) => start + k))
    }
    if (move.length === 0) return { text, retired: 0 }
    const moved = new Set(move.flat())
    const kept = lines.filter((_, i) => !moved.has(i))
    while (kept.length > 0 && kept[kept.length - 1]?.trim() === "") kept.pop()
    const day = by.date.toISOString().slice(0, 10)
    const blocks = move.map((idx) => [
        "",
        `# retired: ${by.anchor} on ${day} by secrets keys rotate (still opens old revisions; remove with \`${REMOVE_RETIRED_COMMAND}\`)`,
        ...idx.map((i) => lines[i] ?? ""),
    ])
    const out = [...kept, ...blocks.flat()]
    // A key file that was only the retired identity keeps no leading blank line.
    if (kept.length === 0) out.shift()
    return { text: out.join("\n") + "\n", retired: move.length }
}

/**
 * The key file without its retired identities: each marker, the comments under it
 * and the identity line go, with the blank line `retireIdentity` put before the
 * marker. Every other line (other identities, their comments) stays as it was.
 */
export async function withoutRetired(text: string): Promise<{ text: string; removed: RetiredIdentity[] }> {
    const lines = text.split("\n")
    const removed = await listRetired(text)
    const drop = new Set<number>()
    for (const r of removed) {
        for (let i = r.first; i <= r.last; i++) drop.add(i)
        if (r.first > 0 && lines[r.first - 1]?.trim() === "") drop.add(r.first - 1)
    }
    return { text: lines.filter((_, i) => !drop.has(i)).join("\n"), removed }
}
