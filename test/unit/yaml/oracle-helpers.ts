/**
 * Our YAML store side by side with the go-yaml oracle (test/oracle/go-yaml): the
 * oracle's trees converted to ours, ours to the oracle's, and one call that asks
 * both sides the same question and says where they differ.
 */
import { isDeepStrictEqual } from "node:util"
import type { OracleAnswer, OracleItem, OracleValue } from "../../oracle/go-yaml/oracle.js"
import { bool, bytes, comment, float, int, nil, str, time, type Branch, type ListItem, type MapItem, type Node } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { formatFloatYaml } from "../../../src/stores/yaml-resolve.js"

export { oracleSkipReason } from "../../oracle/go-yaml/oracle.js"

/** A describe title that carries the reason when the oracle tests are skipped. */
export const titled = (title: string, skipReason: string | undefined): string => (skipReason ? `${title} (${skipReason})` : title)

/** Marks what the oracle read but our tree cannot hold (a uint64, a non-string key). */
export class Unrepresentable extends Error {}

function goFloat(s: string): number {
    if (s === "NaN") return NaN
    if (s === "+Inf") return Infinity
    if (s === "-Inf") return -Infinity
    return Number(s)
}

export function fromOracle(v: OracleValue): Node {
    if ("map" in v) return { kind: "map", items: v.map.map(itemFromOracle) }
    if ("list" in v) return { kind: "list", items: v.list.map((x): ListItem => ("c" in x ? comment(x.c, x.inline) : fromOracle(x))) }
    if ("str" in v) return str(v.str)
    if ("bytes" in v) return bytes(new Uint8Array(Buffer.from(v.bytes, "base64")))
    if ("int" in v) return int(BigInt(v.int))
    if ("uint" in v) throw new Unrepresentable(`uint64 ${v.uint}`)
    if ("float" in v) return float(goFloat(v.float))
    if ("bool" in v) return bool(v.bool)
    if ("time" in v) return time(v.time)
    if ("null" in v) return nil
    throw new Error(`unknown oracle value ${JSON.stringify(v)}`)
}

function itemFromOracle(it: OracleItem): MapItem {
    if ("c" in it) return comment(it.c, it.inline)
    if (!("str" in it.k)) throw new Unrepresentable(`non-string key ${JSON.stringify(it.k)}`)
    return { kind: "entry", key: it.k.str, value: fromOracle(it.v) }
}

export function docsFromOracle(docs: OracleItem[][]): Branch[] {
    return docs.map((items) => ({ kind: "map", items: items.map(itemFromOracle) }))
}

function goFloatText(v: number): string {
    if (Number.isNaN(v)) return "NaN"
    if (v === Infinity) return "+Inf"
    if (v === -Infinity) return "-Inf"
    // Go parses any exact decimal back to the same float64; the spelling need not be Go's.
    return formatFloatYaml(v)
}

export function toOracle(n: Node): OracleValue {
    switch (n.kind) {
        case "map":
            return { map: n.items.map(itemToOracle) }
        case "list":
            return { list: n.items.map((x) => (x.kind === "comment" ? { c: x.text, inline: x.inline === true } : toOracle(x))) }
        case "str":
            return { str: n.value }
        case "bytes":
            return { bytes: Buffer.from(n.value).toString("base64") }
        case "int":
            return { int: n.value.toString() }
        case "float":
            return { float: goFloatText(n.value) }
        case "bool":
            return { bool: n.value }
        case "time":
            return { time: n.value }
        case "null":
            return { null: true }
    }
}

function itemToOracle(it: MapItem): OracleItem {
    return it.kind === "comment" ? { c: it.text, inline: it.inline === true } : { k: { str: it.key }, v: toOracle(it.value) }
}

export const docsToOracle = (docs: readonly Branch[]): OracleItem[][] => docs.map((d) => d.items.map(itemToOracle))

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** What our store reads from `text`: the documents, or the error message. */
export function ourLoad(text: string): { docs: Branch[] } | { error: string } {
    try {
        return { docs: createYamlStore().parsePlain(enc(text)) }
    } catch (e) {
        return { error: (e as Error).message }
    }
}

/** What the oracle's answer to a load means in our tree: documents, an error, or a value we cannot hold. */
export function oracleLoad(a: OracleAnswer): { docs: Branch[] } | { error: string } | { unrepresentable: string } {
    if (a.error !== undefined) return { error: a.error }
    try {
        return { docs: docsFromOracle(a.docs ?? []) }
    } catch (e) {
        if (e instanceof Unrepresentable) return { unrepresentable: e.message }
        throw e
    }
}

/** Our load then emit, as `secrets decrypt` of a plaintext does it. */
export function ourRoundtrip(text: string, indent = 4): { yaml: string } | { error: string } {
    const r = ourLoad(text)
    if ("error" in r) return r
    return { yaml: dec(createYamlStore({ indent }).emitPlain(r.docs)) }
}

export const ourEmit = (docs: readonly Branch[], indent = 4): string => dec(createYamlStore({ indent }).emitPlain(docs))

const show = (x: unknown): string =>
    JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString("hex")}` : v))

/**
 * Where our reading of `text` differs from go-yaml's (the oracle's `load` answer),
 * or undefined when they agree. A value our tree cannot hold (a uint64, a non-string
 * key), which sops reads and then cannot encrypt, agrees with our refusing the file.
 */
export function loadDifference(text: string, answer: OracleAnswer): string | undefined {
    const theirs = oracleLoad(answer)
    const ours = ourLoad(text)
    if ("docs" in theirs && "docs" in ours) {
        if (isDeepStrictEqual(theirs.docs, ours.docs)) return undefined
        return `${JSON.stringify(text)} reads differently\n  go-yaml: ${show(theirs.docs)}\n  ours:    ${show(ours.docs)}`
    }
    if (!("docs" in theirs) && "error" in ours) return undefined
    return `${JSON.stringify(text)}\n  go-yaml: ${show(theirs)}\n  ours:    ${show(ours)}`
}

/** Where our load-and-emit of `text` differs from sops's (the oracle's `roundtrip` answer). */
export function roundtripDifference(text: string, answer: OracleAnswer, indent = 4): string | undefined {
    const ours = ourRoundtrip(text, indent)
    if (answer.yaml === undefined || !("yaml" in ours)) return undefined // a load difference, reported by loadDifference
    if (answer.yaml === ours.yaml) return undefined
    return `${JSON.stringify(text)} is written differently\n  go-yaml: ${JSON.stringify(answer.yaml)}\n  ours:    ${JSON.stringify(ours.yaml)}`
}
