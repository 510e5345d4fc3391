/**
 * JSON output as sops writes it: hand-built JSON run through Go's `json.Indent`
 * (sops-format.md §7.2). We produce the indented form directly.
 */
import { FormatError } from "../errors.js"
import type { Node, Scalar } from "../core/tree.js"
import { goJsonQuote } from "./go-json-string.js"

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
    const unit = jsonIndentUnit(indent)
    const walk = (n: Node, depth: number): string => {
        const inner = "\n" + unit.repeat(depth + 1)
        if (n.kind === "map") {
            const parts: string[] = []
            for (const item of n.items) {
                if (item.kind === "entry") parts.push(goJsonQuote(item.key) + ": " + walk(item.value, depth + 1))
            }
            if (parts.length === 0) return "{}"
            return "{" + inner + parts.join("," + inner) + "\n" + unit.repeat(depth) + "}"
        }
        if (n.kind === "list") {
            const parts: string[] = []
            for (const item of n.items) {
                if (item.kind !== "comment") parts.push(walk(item, depth + 1))
            }
            if (parts.length === 0) return "[]"
            return "[" + inner + parts.join("," + inner) + "\n" + unit.repeat(depth) + "]"
        }
        return scalar(n)
    }
    return walk(node, 0)
}
