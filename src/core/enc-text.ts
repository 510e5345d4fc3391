/**
 * Reading the text of an ENC string: its four fields, and Go's standard base64.
 *
 * sops matches `ENC[…]` with a regex and checks base64 strictly. Both are exact but
 * slow on the one ENC value of a large binary file (a 100 MiB file has a 140 MB
 * value): the regex's greedy groups walk the whole value and back, and the base64
 * check costs as much again. Above LARGE characters the same answers come from
 * native indexOf/lastIndexOf calls and a re-encoding compare; below it the regexes
 * run, and the property tests hold the two paths to the same results.
 */

/** Length from which the fast paths run (below it the regexes are cheap). */
export const LARGE = 1 << 16

// sops' regex, unanchored at the end and greedy: `ENC[…,type:str]trailing]` is
// accepted with type `str]trailing`, as in Go. `.` excludes newlines in both engines
// (JS: \n, \r, U+2028, U+2029; Go's RE2 only \n, but the base64 fields reject the
// others and a type with one is no sops type).
const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/
const PREFIX = "ENC[AES256_GCM,data:"

/** The four fields (data, iv, tag, type) of an ENC string as sops' regex splits it, or null. */
export function splitEnc(s: string): [string, string, string, string] | null {
    if (s.length < LARGE) {
        const m = ENC_RE.exec(s)
        if (m === null) return null
        const [, data, iv, tag, type] = m
        if (data === undefined || iv === undefined || tag === undefined || type === undefined) return null
        return [data, iv, tag, type]
    }
    if (!s.startsWith(PREFIX)) return null
    // No group may cross a line terminator, so the match lies before the first one.
    let end = s.length
    for (const lt of ["\n", "\r", "\u2028", "\u2029"]) {
        const at = s.indexOf(lt, PREFIX.length)
        if (at !== -1 && at < end) end = at
    }
    // Greedy groups, tried left to right, settle on the rightmost feasible separator
    // for each field: the last "]", then the last ",type:" leaving the type
    // non-empty, the last ",tag:" before that leaving the tag non-empty, and so on.
    // Each bound only grows as the ones right of it grow, so this is the match the
    // backtracking regex finds first.
    const close = lastBefore(s, "]", end - 1)
    const type = lastBefore(s, ",type:", close - ",type:".length - 1)
    const tag = lastBefore(s, ",tag:", type - ",tag:".length - 1)
    const iv = lastBefore(s, ",iv:", tag - ",iv:".length - 1)
    if (close < 0 || type < 0 || tag < 0 || iv <= PREFIX.length) return null
    return [
        s.slice(PREFIX.length, iv),
        s.slice(iv + ",iv:".length, tag),
        s.slice(tag + ",tag:".length, type),
        s.slice(type + ",type:".length, close),
    ]
}

/** The last index ≤ `at` where `needle` starts, or -1 (also when `at` < 0, which lastIndexOf would clamp to 0). */
function lastBefore(s: string, needle: string, at: number): number {
    return at < 0 ? -1 : s.lastIndexOf(needle, at)
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Go's base64.StdEncoding: standard alphabet with padding; it skips CR and LF.
 * Null when the text is not valid base64.
 */
export function decodeBase64(s: string): Buffer | null {
    // The test first: this runs three times per value of a file.
    const clean = s.includes("\n") || s.includes("\r") ? s.replace(/[\r\n]/g, "") : s
    if (clean.length % 4 !== 0) return null
    if (clean.length < LARGE) return BASE64_RE.test(clean) ? Buffer.from(clean, "base64") : null
    // Node's decoder is lenient (it skips what is not base64, and takes the URL-safe
    // alphabet), so its result is only trusted when encoding it gives back the text
    // exactly; anything else (say, non-zero padding bits, which Go accepts) is judged
    // by the regex.
    const bytes = Buffer.from(clean, "base64")
    return encodesTo(bytes, clean) || BASE64_RE.test(clean) ? bytes : null
}

/** Whether `bytes` in standard base64 is exactly `text`, compared a few MiB at a time. */
function encodesTo(bytes: Buffer, text: string): boolean {
    if (Math.ceil(bytes.length / 3) * 4 !== text.length) return false
    const step = 3 << 20 // bytes per piece, a multiple of 3 so pieces join without padding
    for (let i = 0; i < bytes.length; i += step) {
        const piece = bytes.subarray(i, i + step).toString("base64")
        if (!text.startsWith(piece, (i / 3) * 4)) return false
    }
    return true
}

/** Characters of base64 per piece in decodeBase64Pieces: 4 MiB, whole 4-character groups. */
const PIECE_CHARS = 4 << 20

/**
 * Decode a large base64 field a piece at a time, handing each piece's bytes to
 * `each`, so that a 100 MiB ciphertext never sits in memory whole next to its
 * plaintext. The same verdict as decodeBase64 (false when it would return null),
 * reached before or during the pieces.
 */
export function decodeBase64Pieces(s: string, each: (bytes: Buffer) => void): boolean {
    if (s.length % 4 !== 0 || s.includes("\n") || s.includes("\r")) {
        // Never for a field splitEnc returns; the general path handles it.
        const whole = decodeBase64(s)
        if (whole !== null) each(whole)
        return whole !== null
    }
    let regexVerdict: boolean | undefined
    for (let at = 0; at < s.length; at += PIECE_CHARS) {
        const piece = s.slice(at, at + PIECE_CHARS)
        // "=" may only end the whole text: one ending an earlier piece is followed by
        // at least four more characters, which the regex rejects.
        if (at + PIECE_CHARS < s.length && piece.endsWith("=")) return false
        const bytes = Buffer.from(piece, "base64")
        if (!encodesTo(bytes, piece)) {
            regexVerdict ??= BASE64_RE.test(s)
            if (!regexVerdict) return false
        }
        each(bytes)
    }
    return true
}

/** The number of bytes standard base64 text of this length and padding decodes to. */
export function base64Size(s: string): number {
    const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0
    return (s.length / 4) * 3 - pad
}
