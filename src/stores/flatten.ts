/**
 * Flat `key=value` encodings of nested data, for the formats that have no nesting:
 * dotenv and INI write the `sops` metadata this way (sops-format.md §6.1), and both
 * turn non-string scalars into text with sops' ValueToString (§7.3).
 */
import { FormatError, quote } from "../errors.js"
import type { MapItem, Mapping, Node, Scalar } from "../core/tree.js"
import { entry, str } from "../core/tree.js"

const MAP_SEP = "__map_"
const LIST_SEP = "__list_"

/**
 * A float64 as Go's `strconv.FormatFloat(x, 'G', -1, 64)`: shortest digits, and
 * exponent notation when the exponent is below -4 or at least 6 (the "shortest"
 * precision counts as 6 for that decision), with an upper-case `E` and at least two
 * exponent digits: 1234567 -> `1.234567E+06`, 0.00001 -> `1E-05`.
 */
export function goFormatG(x: number): string {
    if (Number.isNaN(x)) return "NaN"
    if (x === Infinity) return "+Inf"
    if (x === -Infinity) return "-Inf"
    if (x === 0) return Object.is(x, -0) ? "-0" : "0"
    const neg = x < 0
    // toExponential() without an argument gives the shortest round-trip digits.
    const [mant = "", expText = "0"] = Math.abs(x).toExponential().split("e")
    const digits = mant.replace(".", "")
    const exp = Number(expText)
    let out: string
    if (exp < -4 || exp >= 6) {
        const frac = digits.length > 1 ? "." + digits.slice(1) : ""
        const e = Math.abs(exp)
        out = digits[0] + frac + "E" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
    } else if (exp < 0) {
        out = "0." + "0".repeat(-exp - 1) + digits
    } else if (digits.length <= exp + 1) {
        out = digits + "0".repeat(exp + 1 - digits.length)
    } else {
        out = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1)
    }
    return neg ? "-" + out : out
}

/**
 * sops' ValueToString, used for every non-string value in dotenv and INI output:
 * floats in 'G' form with `.0` added when they would read as an int (so `1.0`
 * stays a float on the way back), bools `true`/`false`, times as their text.
 */
export function valueToString(s: Scalar): string {
    switch (s.kind) {
        case "str": return s.value
        case "bytes": return new TextDecoder().decode(s.value)
        case "int": return s.value.toString()
        case "float": {
            const g = goFormatG(s.value)
            return /^-?\d+$/.test(g) ? g + ".0" : g
        }
        case "bool": return s.value ? "true" : "false"
        case "time": return s.value
        case "null": return ""
    }
}

/** Order strings as Go's sort.Strings does: by UTF-8 bytes, i.e. by code point. */
export function compareGo(a: string, b: string): number {
    const x = Array.from(a, (c) => c.codePointAt(0) ?? 0)
    const y = Array.from(b, (c) => c.codePointAt(0) ?? 0)
    for (let i = 0; i < x.length && i < y.length; i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0)
        if (d !== 0) return d
    }
    return x.length - y.length
}

/**
 * Flatten a mapping: a nested mapping key becomes `parent__map_key`, a list element
 * `parent__list_i` (i counts elements, not comments). Empty lists and maps and null
 * leaves produce nothing, as in sops. The pairs come sorted by key: sops builds a
 * Go map and its dotenv and INI stores (3.13) write it in sorted key order.
 */
export function flatten(m: Mapping, prefix = ""): [string, string][] {
    const out: [string, string][] = []
    const walk = (node: Node, path: string): void => {
        if (node.kind === "map") {
            for (const item of node.items) {
                if (item.kind === "entry") walk(item.value, path + MAP_SEP + item.key)
            }
        } else if (node.kind === "list") {
            let i = 0
            for (const item of node.items) {
                if (item.kind === "comment") continue
                walk(item, path + LIST_SEP + String(i))
                i++
            }
        } else if (node.kind !== "null") {
            out.push([path, valueToString(node)])
        }
    }
    for (const item of m.items) {
        if (item.kind === "entry") walk(item.value, prefix + item.key)
    }
    return out.sort((a, b) => compareGo(a[0], b[0]))
}

type Token = { readonly key: string } | { readonly index: number }

/** Split a flat key at every `__map_` / `__list_`, left to right, as sops' tokenize does. */
function tokenize(flatKey: string): Token[] {
    const tokens: Token[] = []
    let start = 0
    let kind: "root" | "map" | "list" = "root"
    const finish = (end: number): void => {
        if (kind === "list") {
            const text = flatKey.slice(start + LIST_SEP.length, end)
            if (!/^\d+$/.test(text)) throw new FormatError(`invalid list index in metadata key ${quote(flatKey)}`)
            tokens.push({ index: Number(text) })
        } else {
            tokens.push({ key: flatKey.slice(kind === "map" ? start + MAP_SEP.length : start, end) })
        }
        start = end
    }
    let i = 0
    while (i < flatKey.length) {
        if (flatKey.startsWith(MAP_SEP, i)) {
            finish(i)
            kind = "map"
            i += MAP_SEP.length
        } else if (flatKey.startsWith(LIST_SEP, i)) {
            finish(i)
            kind = "list"
            i += LIST_SEP.length
        } else {
            i++
        }
    }
    finish(flatKey.length)
    return tokens
}

type Tmp =
    | { kind: "map"; entries: Map<string, Tmp> }
    | { kind: "list"; items: (Tmp | undefined)[] }
    | { kind: "leaf"; value: string }

/**
 * Rebuild the nested mapping from flattened pairs. Leaves become `str` scalars
 * (typing is the metadata reader's job); maps come out sorted by key. A list with a
 * gap, or a key used both as a value and as a parent, is a FormatError.
 */
export function unflatten(pairs: Iterable<readonly [string, string]>): Mapping {
    const root: Tmp = { kind: "map", entries: new Map() }
    for (const [flatKey, value] of pairs) {
        const tokens = tokenize(flatKey)
        let cur: Tmp = root
        tokens.forEach((tok, n) => {
            const last = n === tokens.length - 1
            const next = tokens[n + 1]
            const fresh = (): Tmp =>
                last ? { kind: "leaf", value } : next !== undefined && "index" in next
                    ? { kind: "list", items: [] } : { kind: "map", entries: new Map() }
            const conflict = (): never => {
                throw new FormatError(`conflicting metadata key ${quote(flatKey)}`)
            }
            let child: Tmp | undefined
            if ("key" in tok) {
                if (cur.kind !== "map") return conflict()
                child = cur.entries.get(tok.key)
                if (child === undefined || last) {
                    if (child !== undefined && child.kind !== "leaf") conflict()
                    child = fresh()
                    cur.entries.set(tok.key, child)
                }
            } else {
                if (cur.kind !== "list") return conflict()
                child = cur.items[tok.index]
                if (child === undefined || last) {
                    if (child !== undefined && child.kind !== "leaf") conflict()
                    child = fresh()
                    cur.items[tok.index] = child
                }
            }
            if (!last && child.kind === "leaf") conflict()
            cur = child
        })
    }
    const build = (t: Tmp, path: string): Node => {
        if (t.kind === "leaf") return str(t.value)
        if (t.kind === "list") {
            const items: Node[] = []
            for (let i = 0; i < t.items.length; i++) {
                const item = t.items[i]
                if (item === undefined) throw new FormatError(`metadata list ${quote(path)} is missing element ${i}`)
                items.push(build(item, path + LIST_SEP + String(i)))
            }
            return { kind: "list", items }
        }
        const keys = [...t.entries.keys()].sort(compareGo)
        const items: MapItem[] = keys.map((k) => {
            const v = t.entries.get(k)
            if (v === undefined) throw new FormatError("internal error while unflattening metadata")
            return entry(k, build(v, path === "" ? k : path + MAP_SEP + k))
        })
        return { kind: "map", items }
    }
    const result = build(root, "")
    if (result.kind !== "map") throw new FormatError("internal error while unflattening metadata")
    return result
}
