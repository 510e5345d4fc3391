/**
 * JSON output as sops writes it: hand-built JSON run through Go's `json.Indent`
 * (sops-format.md §7.2). We produce the indented form directly.
 */
import { FormatError } from "../errors.js"
import type { Node, Scalar } from "../core/tree.js"
import { goJsonQuote, pushQuoted } from "./go-json-string.js"

/**
 * The indent unit for a `--indent`/`stores.json.indent` value: -1 (the default) is
 * one tab, N ≥ 0 is N spaces. 0 still puts every element on its own line, because
 * json.Indent with an empty indent string only drops the indentation (§11.16).
 */
export function jsonIndentUnit(indent = -1): string {
    if (!Number.isInteger(indent) || indent < -1) {
        throw new FormatError("JSON indentation must be an integer of at least -1")
    }
    return indent === -1 ? "\t" : " ".repeat(indent)
}

/**
 * A float64 as Go's encoding/json prints it: shortest round-trip digits, plain
 * notation for 1e-6 ≤ |x| < 1e21 and exponent notation (`1e+21`, `1e-7`) outside,
 * which are exactly the cutoffs and spelling of Number#toString. Only -0 differs:
 * Go keeps the sign.
 */
export function goJsonFloat(x: number): string {
    if (!Number.isFinite(x)) throw new FormatError("cannot write a NaN or infinite float as JSON")
    if (x === 0) return Object.is(x, -0) ? "-0" : "0"
    return String(x)
}

function scalar(s: Scalar): string {
    switch (s.kind) {
        case "str": return goJsonQuote(s.value)
        case "bytes": return goJsonQuote(s.value)
        case "int": return s.value.toString()
        case "float": return goJsonFloat(s.value)
        case "bool": return s.value ? "true" : "false"
        // time.Time marshals as its RFC 3339 text, which is what the scalar holds.
        case "time": return goJsonQuote(s.value)
        case "null": return "null"
    }
}

/**
 * `node` as indented JSON without a trailing newline. Comments are dropped: JSON
 * has none (§11.10). Empty objects and arrays stay compact (`{}`, `[]`).
 */
export function emitJson(node: Node, indent = -1): string {
    const parts: string[] = []
    emitJsonParts(node, indent, (p) => parts.push(p))
    return parts.join("")
}

/**
 * `node` as UTF-8 JSON bytes, with a trailing newline when `newline`. The text is
 * encoded piece by piece into one buffer: joining it into one string first would
 * hold a large file's ENC value twice more (the joined text and its encoding).
 */
export function emitJsonBytes(node: Node, indent: number, newline: boolean): Uint8Array {
    // Short pieces are joined into chunks of ~64K characters as the walk makes them
    // (a call per piece cost more than the copy, at 100k values); a large one stays
    // alone. Joining as we go, not at the end, lets the walk's small strings (quoted
    // keys, indentation) die young instead of all living until the file is written.
    const chunks: string[] = []
    let size = 0
    let short: string[] = []
    let shortLength = 0
    const chunk = (c: string): void => {
        chunks.push(c)
        size += Buffer.byteLength(c, "utf8")
    }
    const flush = (): void => {
        if (short.length > 0) chunk(short.join(""))
        short = []
        shortLength = 0
    }
    const push = (p: string): void => {
        if (p.length >= ALONE) {
            flush()
            chunk(p)
            return
        }
        short.push(p)
        shortLength += p.length
        if (shortLength >= ALONE) flush()
    }
    emitJsonParts(node, indent, push)
    if (newline) push("\n")
    flush()
    const out = new Uint8Array(size)
    const encoder = new TextEncoder()
    let at = 0
    for (const c of chunks) at += encoder.encodeInto(c, out.subarray(at)).written
    return out
}

/** Length from which a piece of JSON text is encoded on its own, not joined first; also the size of a joined chunk. */
const ALONE = 1 << 16

/** The pieces of `node`'s JSON text, handed to `push` in order. */
function emitJsonParts(node: Node, indent: number, push: (p: string) => void): void {
    const unit = jsonIndentUnit(indent)
    const parts = { push }
    const walk = (n: Node, depth: number): void => {
        if (n.kind === "map" || n.kind === "list") {
            const [open, close] = n.kind === "map" ? ["{", "}"] : ["[", "]"]
            const inner = "\n" + unit.repeat(depth + 1)
            let first = true
            for (const item of n.items) {
                if (item.kind === "comment") continue
                parts.push(first ? open + inner : "," + inner)
                first = false
                if (item.kind === "entry") {
                    parts.push(goJsonQuote(item.key) + ": ")
                    walk(item.value, depth + 1)
                } else {
                    walk(item, depth + 1)
                }
            }
            parts.push(first ? open + close : "\n" + unit.repeat(depth) + close)
            return
        }
        if (n.kind === "str" || n.kind === "time") pushQuoted(parts, n.value)
        else parts.push(scalar(n))
    }
    walk(node, 0)
}
