/**
 * Our own rules of `secrets scan` (issue 15 §5), next to secretlint's preset, and
 * the masking every finding goes through. Pure: text in, ranges out.
 *
 * - `secrets/age-secret-key`: an age X25519 identity (`AGE-SECRET-KEY-1` and its
 *   bech32 body) or a plugin identity (`AGE-PLUGIN-NAME-1…`). secretlint has no
 *   rule for either, and an age key is exactly what a sops repository holds the
 *   key to everything with.
 * - `secrets/tool-state-file`: a file this tool leaves beside others for a moment
 *   (a lock, a break lock, an atomic write's temp, a legacy rotation state): in a
 *   commit it is debris at best, and a lock names a host and pid.
 * - `secrets/plaintext-in-encrypted-path` is decided in files/scan.ts (it needs the
 *   config), with the id and message from here.
 *
 * A finding's text is never kept: only its range, from which {@link maskedExcerpt}
 * prints the line with every credential on it cut to its first 4 characters.
 */
import { isSideFile } from "./side-files.js"

export const AGE_SECRET_KEY_RULE = "secrets/age-secret-key"
export const PLAINTEXT_RULE = "secrets/plaintext-in-encrypted-path"
export const TOOL_STATE_RULE = "secrets/tool-state-file"
/** Our rule ids, for the ignore file's check of the ids it names. */
export const OWN_RULES: readonly string[] = [AGE_SECRET_KEY_RULE, PLAINTEXT_RULE, TOOL_STATE_RULE]

/** A match in a file's text: [start, end) in UTF-16 units of the decoded text, as secretlint's ranges. */
export interface TextMatch {
    readonly ruleId: string
    readonly message: string
    readonly start: number
    readonly end: number
}

/** bech32's 32 letters, upper case (age prints identities upper case). */
const BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
/**
 * An X25519 identity is 32 bytes: 52 data characters + 6 checksum = 58 after the
 * `1`. The lower-case form is accepted as well (bech32 allows either case, and age
 * parses both), but not a mix, which bech32 forbids.
 */
const AGE_X25519 = new RegExp(`AGE-SECRET-KEY-1[${BECH32}]{58}(?![${BECH32}])|age-secret-key-1[${BECH32.toLowerCase()}]{58}(?![${BECH32.toLowerCase()}])`, "g")
/** A plugin identity: `AGE-PLUGIN-<NAME>-1<data>`; its length depends on the plugin. */
const AGE_PLUGIN = new RegExp(`AGE-PLUGIN-[A-Z0-9._+-]+?-1[${BECH32}]{8,}`, "g")

/** Age identities in `text`. */
export function ageSecretKeyMatches(text: string): TextMatch[] {
    const out: TextMatch[] = []
    for (const m of text.matchAll(AGE_X25519)) out.push({ ruleId: AGE_SECRET_KEY_RULE, message: "age secret key", start: m.index, end: m.index + m[0].length })
    for (const m of text.matchAll(AGE_PLUGIN)) out.push({ ruleId: AGE_SECRET_KEY_RULE, message: "age plugin identity", start: m.index, end: m.index + m[0].length })
    return out
}

/** The legacy place of a `keys rotate` state (fleet/rotation-state.ts): never read, never to be committed. */
const LEGACY_ROTATION_STATE = /(^|\/)\.secrets\/rotate-[^/]*\.json$/

/**
 * Whether a repository path is a file the tool writes for itself, and why. A
 * `NAME.lock` counts only when it is ours (core/side-files.ts's `.gitignore`
 * lines): its content is our lock's JSON (`looksLikeOurLock`), the locked name has a
 * sops extension, or it lives under `secrets/`; a `yarn.lock` or `flake.lock` is
 * somebody's committed file.
 */
export function toolStateReason(path: string, looksLikeOurLock: boolean): string | undefined {
    const name = path.slice(path.lastIndexOf("/") + 1)
    if (LEGACY_ROTATION_STATE.test(path)) return "a keys rotate state file (the tool keeps it outside the repository now)"
    if (name.endsWith(".lock.break")) return "a lock of the tool, taken while a dead lock is removed"
    // delivery/generations.ts writes a generation's manifest through this name.
    if (name === ".manifest.json.tmp") return "an unfinished deploy manifest of the tool"
    if (!isSideFile(name)) return undefined
    if (name.endsWith(".tmp")) return "an unfinished atomic write of the tool"
    const locked = name.slice(0, -".lock".length)
    if (looksLikeOurLock || /\.(ya?ml|json|env|ini)$/.test(locked) || path.startsWith("secrets/") || path.includes("/secrets/")) return "a lock file of the tool"
    return undefined
}

/** The text a finding shows of a credential: its first 4 characters and an ellipsis, never more. */
export function maskCredential(credential: string): string {
    return credential.length <= 4 ? "****" : `${[...credential].slice(0, 4).join("")}…`
}

/** Excerpts longer than this are cut around the finding (a minified bundle is one line). */
const EXCERPT_WIDTH = 160

/**
 * The line of `text` holding `offset`, with every range of `mask` that touches the
 * line replaced by {@link maskCredential} of its part on the line (a range running
 * past the line's end, as a PEM key does, is cut at the end of the line), and cut
 * to about 160 characters around the offset.
 */
export function maskedExcerpt(text: string, offset: number, mask: readonly { start: number; end: number }[]): string {
    const lineStart = text.lastIndexOf("\n", offset - 1) + 1
    let lineEnd = text.indexOf("\n", offset)
    if (lineEnd === -1) lineEnd = text.length
    const touching = mask
        .filter((r) => r.start < lineEnd && r.end > lineStart)
        .map((r) => ({ start: Math.max(r.start, lineStart), end: Math.min(r.end, lineEnd) }))
        .sort((a, b) => a.start - b.start)
    let out = ""
    let at = lineStart
    let focus = 0
    for (const r of touching) {
        if (r.end <= at) continue
        const from = Math.max(r.start, at)
        out += text.slice(at, from)
        if (from <= offset) focus = out.length
        out += maskCredential(text.slice(from, r.end))
        at = r.end
    }
    out += text.slice(at, lineEnd)
    out = out.replace(/\r$/, "").replace(/\t/g, " ")
    if (out.length <= EXCERPT_WIDTH) return out.trim()
    const from = Math.max(0, Math.min(focus - 40, out.length - EXCERPT_WIDTH))
    return `${from > 0 ? "…" : ""}${out.slice(from, from + EXCERPT_WIDTH).trim()}${from + EXCERPT_WIDTH < out.length ? "…" : ""}`
}

/**
 * Where each line of a text starts, for turning offsets into 1-based lines and
 * columns (columns count UTF-16 units, as secretlint's) by binary search: a file
 * with thousands of findings must not cost thousands of passes over it.
 */
export class LineIndex {
    private readonly starts: number[] = [0]

    constructor(text: string) {
        for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1)
    }

    /** The 0-based index of the line holding `offset`. */
    lineOf(offset: number): number {
        let lo = 0
        let hi = this.starts.length - 1
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1
            if ((this.starts[mid] as number) <= offset) lo = mid
            else hi = mid - 1
        }
        return lo
    }

    locate(offset: number): { line: number; column: number } {
        const line = this.lineOf(offset)
        return { line: line + 1, column: offset - (this.starts[line] as number) + 1 }
    }
}

/** 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
    return new LineIndex(text).locate(offset)
}

/**
 * A sops file's text with what is not clear blanked out, offsets kept: every
 * `ENC[…]` value, every armored age or PGP block, and the values of the metadata's
 * `enc` fields (a KMS or Vault envelope). What stays is what anyone reading the file
 * in git sees: keys, `_unencrypted` values, comments, recipients (public) and dates,
 * which are scanned like any text. Ciphertext is random base64 that a rule could
 * take for a token; blanking it keeps findings to real leaks.
 */
export function clearPartsOfSopsText(text: string): string {
    const blank = (s: string) => s.replace(/[^\n]/g, " ")
    return blankArmor(text.replace(/ENC\[[A-Za-z0-9_]+,[^\]\n]*\]/g, blank), blank)
        .replace(/((?:^|[\s"'_])enc["']?\s*[:=]\s*["']?)([A-Za-z0-9+/=:_.-]{16,})/gm, (_m, head: string, value: string) => head + blank(value))
}

/**
 * Armored age and PGP blocks blanked, found with indexOf rather than a lazy
 * `BEGIN[\s\S]*?END` regex, which rescans to the end of the text from every BEGIN
 * that has no END: quadratic on a planted file of BEGIN lines.
 */
function blankArmor(text: string, blank: (s: string) => string): string {
    let out = ""
    let at = 0
    // A type with no END after some BEGIN has none after any later BEGIN either.
    const unterminated = new Set<string>()
    const begins = /-----BEGIN (AGE ENCRYPTED FILE|PGP MESSAGE)-----/g
    for (let begin = begins.exec(text); begin !== null; begin = begins.exec(text)) {
        const type = begin[1] as string
        if (begin.index < at || unterminated.has(type)) continue
        const endMarker = `-----END ${type}-----`
        const end = text.indexOf(endMarker, begin.index)
        if (end === -1) {
            unterminated.add(type)
            continue
        }
        const stop = end + endMarker.length
        out += text.slice(at, begin.index) + blank(text.slice(begin.index, stop))
        at = stop
        begins.lastIndex = stop
    }
    return out + text.slice(at)
}
