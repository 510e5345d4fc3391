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
    return emitJsonParts(node, indent).join("")
}

/**
 * `node` as UTF-8 JSON bytes, with a trailing newline when `newline`. The text is
 * encoded piece by piece into one buffer: joining it into one string first would
 * hold a large file's ENC value twice more (the joined text and its encoding).
 */
export function emitJsonBytes(node: Node, indent: number, newline: boolean): Uint8Array {
    const parts = emitJsonParts(node, indent)
    if (newline) parts.push("\n")
    // Short pieces are joined (a call per piece cost more than the copy, at 100k
    // values); a large one stays alone.
    const chunks: string[] = []
    let short: string[] = []
    for (const p of parts) {
        if (p.length < ALONE) {
            short.push(p)
            continue
        }
        if (short.length > 0) chunks.push(short.join(""))
        short = []
        chunks.push(p)
    }
    if (short.length > 0) chunks.push(short.join(""))
    let size = 0
    for (const c of chunks) size += Buffer.byteLength(c, "utf8")
    const out = new Uint8Array(size)
    const encoder = new TextEncoder()
    let at = 0
    for (const c of chunks) at += encoder.encodeInto(c, out.subarray(at)).written
    return out
}

/** Length from which a piece of JSON text is encoded on its own, not joined first. */
const ALONE = 1 << 16

/** The pieces of `node`'s JSON text, in order. */
function emitJsonParts(node: Node, indent: number): string[] {
    const unit = jsonIndentUnit(indent)
    const parts: string[] = []
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
    return parts
}
