/**
 * Go `encoding/json` string quoting, byte for byte.
 *
 * sops builds its JSON output by hand and quotes every key and string with
 * `json.Marshal`, whose default is HTML-safe escaping (sops-format.md §7.2). The
 * differences from `JSON.stringify` are the escapes of `<`, `>`, `&`, U+2028 and
 * U+2029, lowercase `\u00xx` hex for control characters, and `\ufffd` for every
 * byte that is not part of valid UTF-8 (§11.17).
 */

const HEX = "0123456789abcdef"

/** Marker for a byte Go's UTF-8 decoder rejects (it decodes as RuneError, width 1). */
const INVALID = -1

/**
 * The code points of `bytes` as Go's `utf8.DecodeRune` sees them: every byte that
 * does not start a valid, shortest-form, non-surrogate sequence yields INVALID and
 * consumes exactly one byte. TextDecoder groups "maximal subparts" differently, so
 * it would give a different number of U+FFFD for truncated sequences.
 */
export function goRunes(bytes: Uint8Array): number[] {
    const out: number[] = []
    const n = bytes.length
    const at = (i: number): number => (i < n ? (bytes[i] ?? 0) : -1)
    const cont = (b: number, lo = 0x80, hi = 0xbf): boolean => b >= lo && b <= hi
    let i = 0
    while (i < n) {
        const c = at(i)
        if (c < 0x80) {
            out.push(c)
            i += 1
        } else if (c >= 0xc2 && c < 0xe0 && cont(at(i + 1))) {
            out.push(((c & 0x1f) << 6) | (at(i + 1) & 0x3f))
            i += 2
        } else if (c >= 0xe0 && c < 0xf0) {
            const lo = c === 0xe0 ? 0xa0 : 0x80
            const hi = c === 0xed ? 0x9f : 0xbf
            if (cont(at(i + 1), lo, hi) && cont(at(i + 2))) {
                out.push(((c & 0x0f) << 12) | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f))
                i += 3
            } else {
                out.push(INVALID)
                i += 1
            }
        } else if (c >= 0xf0 && c < 0xf5) {
            const lo = c === 0xf0 ? 0x90 : 0x80
            const hi = c === 0xf4 ? 0x8f : 0xbf
            if (cont(at(i + 1), lo, hi) && cont(at(i + 2)) && cont(at(i + 3))) {
                out.push(
                    ((c & 0x07) << 18) | ((at(i + 1) & 0x3f) << 12) | ((at(i + 2) & 0x3f) << 6) | (at(i + 3) & 0x3f),
                )
                i += 4
            } else {
                out.push(INVALID)
                i += 1
            }
        } else {
            out.push(INVALID)
            i += 1
        }
    }
    return out
}

/** The escape Go's encoder writes for code point `r` (INVALID included), or undefined when it writes `r` as is. */
function goEscape(r: number): string | undefined {
    switch (r) {
        case INVALID: return "\\ufffd"
        case 0x22: return "\\\""
        case 0x5c: return "\\\\"
        case 0x0a: return "\\n"
        case 0x0d: return "\\r"
        case 0x09: return "\\t"
        // \b and \f have short escapes since Go 1.22, which sops 3.13 is built with.
        case 0x08: return "\\b"
        case 0x0c: return "\\f"
        // HTML-safe escaping is json.Marshal's default, and sops never turns it off.
        case 0x3c: case 0x3e: case 0x26:
        case 0x2028: case 0x2029:
            return "\\u" + r.toString(16).padStart(4, "0")
        default:
            if (r < 0x20) return "\\u00" + (HEX[r >> 4] ?? "0") + (HEX[r & 0xf] ?? "0")
            return undefined
    }
}

/**
 * What needs a look in a JS string: the ASCII characters Go escapes, U+2028/U+2029,
 * and surrogates (a pair is written as is, a lone one as \ufffd).
 */
const QUOTE_SPECIAL = /[\x00-\x1f"\\<>&\u2028\u2029\ud800-\udfff]/g

/** Anything but printable ASCII that Go writes as is. */
const NOT_PLAIN_ASCII = /[^\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]/

/**
 * A JS string quoted. Runs of characters written as they are (nearly all of any real
 * value, and all of an ENC string's base64) are found by a native regex scan and
 * copied with one `slice` each; the per-code-point array this replaced made a
 * 100 MiB binary file crash V8 (issue 14).
 */
function quoteString(s: string): string {
    const parts: string[] = []
    pushQuoted(parts, s)
    return parts.length === 1 ? (parts[0] ?? "") : parts.join("")
}

/**
 * Push `s` quoted onto `parts`: as three pieces when nothing in it is escaped, so
 * that a large value is not copied into a new string only to be encoded.
 */
export function pushQuoted(parts: { push(piece: string): unknown }, s: string): void {
    // Printable ASCII but " \\ < > & is written as is: one regex with no match over
    // an ENC string (all of it) is several times faster than the general scan.
    const firstUnsafe = s.search(NOT_PLAIN_ASCII)
    if (firstUnsafe === -1) {
        parts.push("\"")
        parts.push(s)
        parts.push("\"")
        return
    }
    let out = "\""
    let runStart = 0
    QUOTE_SPECIAL.lastIndex = firstUnsafe
    for (let m = QUOTE_SPECIAL.exec(s); m !== null; m = QUOTE_SPECIAL.exec(s)) {
        const i = m.index
        const c = s.charCodeAt(i)
        let r = c
        if (c >= 0xd800 && c <= 0xdfff) {
            const lo = s.charCodeAt(i + 1)
            if (c < 0xdc00 && lo >= 0xdc00 && lo <= 0xdfff) {
                // A valid pair: written as is.
                QUOTE_SPECIAL.lastIndex = i + 2
                continue
            }
            r = INVALID
        }
        if (i > runStart) out += s.slice(runStart, i)
        out += goEscape(r) ?? ""
        runStart = i + 1
    }
    if (runStart === 0) {
        parts.push("\"")
        parts.push(s)
        parts.push("\"")
    } else {
        parts.push(out + s.slice(runStart) + "\"")
    }
}

/** Bytes quoted as Go quotes a string holding them: invalid UTF-8 becomes \ufffd, byte by byte. */
function quoteBytes(b: Uint8Array): string {
    // Plain ASCII runs (the common case: base64, text) decode in one call each.
    const n = b.length
    let out = "\""
    let i = 0
    while (i < n) {
        let j = i
        while (j < n) {
            const c = b[j] ?? 0
            if (c >= 0x80 || c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) break
            j++
        }
        if (j > i) out += Buffer.from(b.buffer, b.byteOffset + i, j - i).toString("latin1")
        if (j >= n) break
        const c = b[j] ?? 0
        if (c < 0x80) {
            out += goEscape(c) ?? ""
            i = j + 1
            continue
        }
        // A non-ASCII stretch: Go's decoder, one code point at a time.
        let k = j
        while (k < n && (b[k] ?? 0) >= 0x80) k++
        for (const r of goRunes(b.subarray(j, k))) out += goEscape(r) ?? String.fromCodePoint(r)
        i = k
    }
    return out + "\""
}

/** `s` quoted as Go's `json.Marshal` quotes a string (or a `[]byte` converted to string). */
export function goJsonQuote(s: string | Uint8Array): string {
    return typeof s === "string" ? quoteString(s) : quoteBytes(s)
}
