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

/** The code points of a JS string; a lone surrogate (impossible in a Go string) counts as invalid. */
function stringRunes(s: string): number[] {
    const out: number[] = []
    for (const ch of s) {
        const cp = ch.codePointAt(0) ?? 0
        out.push(cp >= 0xd800 && cp <= 0xdfff ? INVALID : cp)
    }
    return out
}

/** `s` quoted as Go's `json.Marshal` quotes a string (or a `[]byte` converted to string). */
export function goJsonQuote(s: string | Uint8Array): string {
    const runes = typeof s === "string" ? stringRunes(s) : goRunes(s)
    let out = "\""
    for (const r of runes) {
        switch (r) {
            case INVALID: out += "\\ufffd"; break
            case 0x22: out += "\\\""; break
            case 0x5c: out += "\\\\"; break
            case 0x0a: out += "\\n"; break
            case 0x0d: out += "\\r"; break
            case 0x09: out += "\\t"; break
            // \b and \f have short escapes since Go 1.22, which sops 3.13 is built with.
            case 0x08: out += "\\b"; break
            case 0x0c: out += "\\f"; break
            // HTML-safe escaping is json.Marshal's default, and sops never turns it off.
            case 0x3c: case 0x3e: case 0x26:
            case 0x2028: case 0x2029:
                out += "\\u" + r.toString(16).padStart(4, "0")
                break
            default:
                if (r < 0x20) {
                    out += "\\u00" + (HEX[r >> 4] ?? "0") + (HEX[r & 0xf] ?? "0")
                } else {
                    out += String.fromCodePoint(r)
                }
        }
    }
    return out + "\""
}
