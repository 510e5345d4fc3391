/**
 * The slow, obviously-correct string paths that issue 14 replaced, kept as the
 * reference the fast paths are tested against (fast-strings.test.ts): one code
 * point or character at a time, as they were written first.
 */
import { goRunes } from "../../../src/stores/go-json-string.js"

const HEX = "0123456789abcdef"
const INVALID = -1

function stringRunes(s: string): number[] {
    const out: number[] = []
    for (const ch of s) {
        const cp = ch.codePointAt(0) ?? 0
        out.push(cp >= 0xd800 && cp <= 0xdfff ? INVALID : cp)
    }
    return out
}

/** Go's json.Marshal quoting, one rune at a time. */
export function referenceGoJsonQuote(s: string | Uint8Array): string {
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
            case 0x08: out += "\\b"; break
            case 0x0c: out += "\\f"; break
            case 0x3c: case 0x3e: case 0x26:
            case 0x2028: case 0x2029:
                out += "\\u" + r.toString(16).padStart(4, "0")
                break
            default:
                if (r < 0x20) out += "\\u00" + (HEX[r >> 4] ?? "0") + (HEX[r & 0xf] ?? "0")
                else out += String.fromCodePoint(r)
        }
    }
    return out + "\""
}

/**
 * A JSON string literal starting at `src[0]` (a quote), read one character at a
 * time: its value and the offset of its closing quote, or the 0-based offset at
 * which it is invalid.
 */
export function referenceJsonString(src: string): { value: string; end: number } | { failAt: number } {
    let pos = 1
    let out = ""
    const hex4 = (at: number): number | null => {
        const h = src.slice(at, at + 4)
        return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : null
    }
    for (;;) {
        const c = src[pos]
        if (c === undefined) return { failAt: pos }
        if (c === "\"") return { value: out, end: pos }
        if (c < " ") return { failAt: pos }
        if (c !== "\\") {
            out += c
            pos++
            continue
        }
        const e = src[pos + 1]
        switch (e) {
            case "\"": out += "\""; break
            case "\\": out += "\\"; break
            case "/": out += "/"; break
            case "b": out += "\b"; break
            case "f": out += "\f"; break
            case "n": out += "\n"; break
            case "r": out += "\r"; break
            case "t": out += "\t"; break
            case "u": {
                const hi = hex4(pos + 2)
                if (hi === null) return { failAt: pos + 2 }
                if (hi >= 0xd800 && hi < 0xdc00 && src.startsWith("\\u", pos + 6)) {
                    const lo = hex4(pos + 8)
                    if (lo === null) return { failAt: pos + 8 }
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        out += String.fromCodePoint(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                        pos += 12
                        continue
                    }
                }
                out += hi >= 0xd800 && hi < 0xe000 ? "\ufffd" : String.fromCharCode(hi)
                pos += 6
                continue
            }
            default: return { failAt: pos + 1 }
        }
        pos += 2
    }
}
