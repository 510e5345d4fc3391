/**
 * An ordered JSON parser that types numbers the way sops does.
 *
 * `JSON.parse` cannot be used: JS objects move integer-like keys to the front, merge
 * duplicate keys and round every number to a double. sops decodes tokens with
 * `UseNumber` and keeps duplicates, and a number's text decides its type: one that
 * parses as an int64 is an int, anything else (`1.0`, `1e3`, beyond int64) a float
 * (sops-format.md §7.2, §11.2). The type feeds the MAC, so it has to match exactly.
 */
import { isAscii } from "node:buffer"
import { inputTooLarge, MAX_INPUT_BYTES, MAX_NESTING_DEPTH, nestedTooDeeply } from "../core/input-limits.js"
import { FormatError } from "../errors.js"
import type { ListItem, MapItem, Mapping, Node, Sequence } from "../core/tree.js"
import { bool, entry, float, int, nil, str } from "../core/tree.js"

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

const WRAP_HINT = "wrap the document in an object, e.g. {\"data\": [...]}"

/** The tree typing of a JSON number literal (already known to match the JSON grammar). */
export function jsonNumber(text: string): Node {
    if (/^-?\d+$/.test(text)) {
        const n = BigInt(text)
        if (n >= INT64_MIN && n <= INT64_MAX) return int(n)
    }
    const x = Number(text)
    // strconv.ParseFloat reports a range error for these; sops cannot hold them.
    if (!Number.isFinite(x)) throw new FormatError("JSON number out of float64 range")
    return float(x)
}

/** A control character, which may not appear raw in a JSON string. */
const CONTROL = /[\x00-\x1f]/g

/** An indexOf result, with "not found" as `end` (the text's length). */
function found(at: number, end: number): number {
    return at === -1 ? end : at
}

class Parser {
    private pos = 0
    // Where the next quote, backslash and control character are, once looked up;
    // -1 until then. string() looks again only when it has passed one.
    private nextQuote = -1
    private nextBackslash = -1
    private nextControl = -1
    private readonly src: string

    constructor(src: string) {
        this.src = src
    }

    /** "line L, column C" (1-based, in characters) of a position. */
    private where(at: number): string {
        let line = 1
        let col = 1
        for (let i = 0; i < at && i < this.src.length; i++) {
            if (this.src[i] === "\n") {
                line++
                col = 1
            } else {
                col++
            }
        }
        return `line ${line}, column ${col}`
    }

    private fail(at = this.pos): never {
        throw new FormatError(`invalid JSON at ${this.where(at)}`)
    }

    private ws(): void {
        while (this.pos < this.src.length) {
            const c = this.src[this.pos]
            if (c === " " || c === "\t" || c === "\n" || c === "\r") this.pos++
            else break
        }
    }

    document(): Mapping {
        this.ws()
        const c = this.src[this.pos]
        if (c === undefined) this.fail()
        if (c === "[") {
            throw new FormatError("JSON documents that are arrays are not supported", [WRAP_HINT])
        }
        if (c !== "{") {
            // Check it is valid JSON first, so a typo is reported as a typo.
            this.value(0)
            throw new FormatError("JSON documents that are scalar values are not supported", [WRAP_HINT])
        }
        this.pos++
        const m = this.object(1)
        this.ws()
        if (this.pos < this.src.length) this.fail()
        return m
    }

    /** A value inside `depth` levels of objects and arrays. */
    private value(depth: number): Node {
        this.ws()
        const c = this.src[this.pos]
        if ((c === "{" || c === "[") && depth + 1 > MAX_NESTING_DEPTH) {
            // Go's decoder stops at 10,000 levels; we stop sooner (input-limits.ts), and
            // before the recursion below can reach the end of the JS stack.
            throw nestedTooDeeply("JSON", `at ${this.where(this.pos)}`)
        }
        switch (c) {
            case "{": this.pos++; return this.object(depth + 1)
            case "[": this.pos++; return this.array(depth + 1)
            case "\"": return str(this.string())
            case "t": return this.literal("true", bool(true))
            case "f": return this.literal("false", bool(false))
            case "n": return this.literal("null", nil)
            default: return this.number()
        }
    }

    private literal(word: string, node: Node): Node {
        for (let i = 0; i < word.length; i++) {
            if (this.src[this.pos] !== word[i]) this.fail()
            this.pos++
        }
        return node
    }

    private number(): Node {
        const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
        re.lastIndex = this.pos
        const m = re.exec(this.src)
        if (m === null || m[0] === "" || m[0] === "-") this.fail()
        const text = m[0]
        // A number must end at a delimiter: "1.", "01" and "1e" are errors in Go too.
        const next = this.src[this.pos + text.length]
        if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail(this.pos + text.length)
        const start = this.pos
        this.pos += text.length
        try {
            return jsonNumber(text)
        } catch (e) {
            if (e instanceof FormatError) this.fail(start)
            throw e
        }
    }

    /**
     * A string literal. Plain runs are copied with one `slice` each (a sliced string
     * in V8, not a copy): building the result a character at a time made a 16 MiB
     * binary file's ENC value cost seconds and a gigabyte of garbage (issue 14).
     */
    private string(): string {
        const src = this.src
        let pos = this.pos + 1 // after the opening quote
        let out = ""
        for (;;) {
            // The plain run ends at the nearest quote, backslash or control character.
            // Each is found by a native search and remembered until the reader passes
            // it: a charCodeAt loop (or one regex for all three) cost seconds on the
            // ENC value of a 100 MiB binary file, and remembering keeps a document
            // of many small strings linear.
            if (this.nextQuote < pos) this.nextQuote = found(src.indexOf("\"", pos), src.length)
            if (this.nextBackslash < pos) this.nextBackslash = found(src.indexOf("\\", pos), src.length)
            if (this.nextControl < pos) {
                CONTROL.lastIndex = pos
                this.nextControl = found(CONTROL.exec(src)?.index ?? -1, src.length)
            }
            const end = Math.min(this.nextQuote, this.nextBackslash, this.nextControl)
            if (end > pos) out = out === "" ? src.slice(pos, end) : out + src.slice(pos, end)
            const c = src.charCodeAt(end)
            if (c === 0x22) {
                this.pos = end + 1
                return out
            }
            // NaN (the end of the text) or a raw control character.
            if (c !== 0x5c) this.fail(end)
            this.pos = end
            out += this.escape()
            pos = this.pos
        }
    }

    /** The escape sequence at `pos` (a backslash): its text, with `pos` moved past it. */
    private escape(): string {
        const e = this.src[this.pos + 1]
        let text: string
        switch (e) {
            case "\"": text = "\""; break
            case "\\": text = "\\"; break
            case "/": text = "/"; break
            case "b": text = "\b"; break
            case "f": text = "\f"; break
            case "n": text = "\n"; break
            case "r": text = "\r"; break
            case "t": text = "\t"; break
            case "u": {
                const hi = this.hex4(this.pos + 2)
                if (hi >= 0xd800 && hi < 0xdc00 && this.src.startsWith("\\u", this.pos + 6)) {
                    const lo = this.hex4(this.pos + 8)
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        this.pos += 12
                        return String.fromCodePoint(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                    }
                }
                this.pos += 6
                // Go turns a lone surrogate into U+FFFD.
                return hi >= 0xd800 && hi < 0xe000 ? "\ufffd" : String.fromCharCode(hi)
            }
            default: this.fail(this.pos + 1)
        }
        this.pos += 2
        return text
    }

    private hex4(at: number): number {
        const h = this.src.slice(at, at + 4)
        if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail(at)
        return parseInt(h, 16)
    }

    private object(depth: number): Mapping {
        const items: MapItem[] = []
        this.ws()
        if (this.src[this.pos] === "}") {
            this.pos++
            return { kind: "map", items }
        }
        for (;;) {
            this.ws()
            if (this.src[this.pos] !== "\"") this.fail()
            const key = this.string()
            this.ws()
            if (this.src[this.pos] !== ":") this.fail()
            this.pos++
            // Duplicate keys are kept, in order, as sops' token decoder keeps them.
            items.push(entry(key, this.value(depth)))
            this.ws()
            const c = this.src[this.pos]
            this.pos++
            if (c === "}") return { kind: "map", items }
            if (c !== ",") this.fail(this.pos - 1)
        }
    }

    private array(depth: number): Sequence {
        const items: ListItem[] = []
        this.ws()
        if (this.src[this.pos] === "]") {
            this.pos++
            return { kind: "list", items }
        }
        for (;;) {
            items.push(this.value(depth))
            this.ws()
            const c = this.src[this.pos]
            this.pos++
            if (c === "]") return { kind: "list", items }
            if (c !== ",") this.fail(this.pos - 1)
        }
    }
}

/**
 * Parse a JSON document whose top level must be an object. Invalid UTF-8 becomes
 * U+FFFD, as Go's decoder does. Errors give a position, never the offending text.
 */
export function parseJsonDocument(input: Uint8Array): Mapping {
    // Files are checked before they are read; this catches stdin.
    if (input.length > MAX_INPUT_BYTES) throw inputTooLarge("the input", input.length)
    return new Parser(jsonText(input)).document()
}

/**
 * The text of a JSON file. Pure ASCII (every encrypted binary file, most encrypted
 * files) is the same in Latin-1, which Node copies out in one pass: several times
 * faster than the UTF-8 decoder on a 100 MiB file.
 */
function jsonText(input: Uint8Array): string {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.length)
    return isAscii(buf) ? buf.toString("latin1") : new TextDecoder("utf-8", { ignoreBOM: true }).decode(input)
}
