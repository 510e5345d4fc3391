/**
 * Tree -> emitter events, the way sops builds yaml.v3 nodes (stores/yaml/store.go
 * appendTreeBranch / appendSequence) and yaml.v3's encoder turns them into events.
 *
 * Comment placement follows sops: comments before the first item become the head
 * comment of the collection, comments between items the head comment of the next key
 * (or element), trailing comments the foot comment of the last value. An inline
 * comment (sops ≥ 3.13.0) becomes the line comment of the scalar it precedes, or of
 * the key when the value is a collection.
 */
import type { Comment, Entry, ListItem, MapItem, Node, Scalar } from "../core/tree.js"
import { analyzeScalar, selectStyle, type Event, type ScalarStyle } from "./yaml-emitter.js"
import { formatFloatYaml, plainKeepsString } from "./yaml-resolve.js"

interface Comments {
    head: string
    line: string
    foot: string
}

const joinComments = (texts: readonly string[]): string => (texts.length ? "#" + texts.join("\n#") : "")
const prepend = (outer: string, inner: string): string => (outer && inner ? `${outer}\n${inner}` : outer || inner)

/**
 * The style yaml.v3's `Node.Encode` settles on for a Go string: it emits the string
 * once as a document of its own (literal for multi-line, plain when it would read
 * back as a string, else double-quoted), the emitter downgrades what it cannot write,
 * and the re-parsed node keeps that style.
 */
export function stringStyle(s: string): ScalarStyle {
    const requested: ScalarStyle = s.includes("\n") ? "literal" : plainKeepsString(s) ? "plain" : "double"
    return selectStyle(requested, analyzeScalar(s), s, { simpleKey: false, flow: false, implicit: true })
}

/**
 * The event for a Go string as sops encodes it (Node.Encode, then the encoder). The
 * one string that comes back tagged is `<<`: yaml.v3 writes it plain, its parser
 * gives a plain `<<` the merge tag, and the encoder keeps a tag the plain text does
 * not resolve to, so sops writes `!!merge <<` (go-yaml oracle).
 */
function stringEvent(s: string, c: Comments): Event {
    const tag = s === "<<" ? "!!merge" : ""
    return { t: "scalar", tag, value: s, style: stringStyle(s), head: c.head, line: c.line, foot: c.foot }
}

/** True when go-yaml accepts `value` under a merge key: a mapping or a list of mappings. */
function mergeable(value: Node): boolean {
    if (value.kind === "map") return true
    return value.kind === "list" && value.items.every((it) => it.kind === "comment" || it.kind === "map")
}

/**
 * A `<<` key whose value is not a mapping: sops writes `!!merge <<: value`, which
 * go-yaml (sops itself) and we then refuse to read ("map merge requires map or
 * sequence of maps"), so an encrypted file could never be opened again. We write
 * the key double-quoted, which both read as the plain key `<<` (docs/format.md).
 */
function quotedMergeKey(c: Comments): Event {
    return { t: "scalar", tag: "", value: "<<", style: "double", head: c.head, line: c.line, foot: c.foot }
}

function isValidUtf8(b: Uint8Array): boolean {
    try {
        new TextDecoder("utf-8", { fatal: true }).decode(b)
        return true
    } catch {
        return false
    }
}

// yaml.v3 encodeBase64: lines of 70 characters when the text is longer than that.
function base64Lines(b: Uint8Array): string {
    const s = Buffer.from(b).toString("base64")
    if (s.length <= 70) return s
    const lines: string[] = []
    for (let i = 0; i < s.length; i += 70) lines.push(s.slice(i, i + 70))
    return lines.join("\n") + "\n"
}

function scalarEvent(sc: Scalar, c: Comments): Event {
    const base = { tag: "", head: c.head, line: c.line, foot: c.foot }
    switch (sc.kind) {
        case "str":
            return stringEvent(sc.value, c)
        case "bytes": {
            if (isValidUtf8(sc.value)) return stringEvent(new TextDecoder().decode(sc.value), c)
            // Invalid UTF-8 cannot be YAML text: yaml.v3 writes it as !!binary base64.
            const b64 = base64Lines(sc.value)
            return { t: "scalar", ...base, tag: "!!binary", value: b64, style: b64.includes("\n") ? "literal" : "plain" }
        }
        case "int":
            return { t: "scalar", ...base, value: sc.value.toString(), style: "plain" }
        case "float":
            return { t: "scalar", ...base, value: formatFloatYaml(sc.value), style: "plain" }
        case "bool":
            return { t: "scalar", ...base, value: sc.value ? "true" : "false", style: "plain" }
        case "time":
            return { t: "scalar", ...base, value: sc.value, style: "plain" }
        case "null":
            return { t: "scalar", ...base, value: "null", style: "plain" }
    }
}

/** Events for one value node with the comments sops attached to it. */
function nodeEvents(n: Node, c: Comments, out: Event[]): void {
    if (n.kind === "map") return mappingEvents(n.items, c, out)
    if (n.kind === "list") return sequenceEvents(n.items, c, out)
    out.push(scalarEvent(n, c))
}

/** An item of a block with the comments that belong to it. */
interface Attached<T> {
    readonly item: T
    /** `#a\n#b`, or "". */
    readonly head: string
    /** The inline comments before the item, `#a\n#b`, or "". */
    readonly inline: string
}

/**
 * Share a block's comments out exactly as sops's appendTreeBranch / appendSequence
 * do: plain and inline comments are collected apart, whatever their order; at the
 * first item the plain ones become the block's head comment; at each item the plain
 * ones become its head and the inline ones its line comment; after the last item
 * both (plain first) trail it. An empty block takes them all as its head.
 */
function attachComments<T extends Entry | Node>(items: readonly (T | Comment)[]): { attached: Attached<T>[]; leading: string; trailing: string } {
    const attached: Attached<T>[] = []
    let heads: string[] = []
    let inlines: string[] = []
    let leading = ""
    for (const item of items) {
        if (item.kind === "comment") {
            if (item.inline) inlines.push(item.text)
            else heads.push(item.text)
            continue
        }
        if (attached.length === 0) {
            leading = joinComments(heads)
            heads = []
        }
        attached.push({ item, head: joinComments(heads), inline: joinComments(inlines) })
        heads = []
        inlines = []
    }
    return { attached, leading, trailing: joinComments([...heads, ...inlines]) }
}

function mappingEvents(items: readonly MapItem[], c: Comments, out: Event[]): void {
    // sops: the comments before the first entry become the mapping's head comment.
    const { attached, leading, trailing } = attachComments(items)
    if (attached.length === 0) {
        out.push({ t: "mapStart", head: prepend(c.head, trailing) })
        out.push({ t: "mapEnd", line: c.line, foot: c.foot })
        return
    }
    out.push({ t: "mapStart", head: prepend(c.head, leading) })
    attached.forEach(({ item, head, inline }) => {
        // sops sets an inline comment as the value node's line comment, whatever the
        // value; yaml.v3's emitter prints it after a scalar or an empty `{}`/`[]` and
        // drops it for a block collection (go-yaml oracle), so such a comment is lost.
        const keyComments = { head, line: "", foot: "" }
        out.push(item.key === "<<" && !mergeable(item.value) ? quotedMergeKey(keyComments) : stringEvent(item.key, keyComments))
        nodeEvents(item.value, { head: "", line: inline, foot: "" }, out)
    })
    // sops makes the trailing comments the last key's foot comment, which yaml.v3's encoder emits as the mapping end's tail.
    out.push({ t: "mapEnd", line: c.line, foot: c.foot, tail: trailing })
}

function sequenceEvents(items: readonly ListItem[], c: Comments, out: Event[]): void {
    const { attached, leading, trailing } = attachComments(items)
    if (attached.length === 0) {
        out.push({ t: "seqStart", head: prepend(c.head, trailing) })
        out.push({ t: "seqEnd", line: c.line, foot: c.foot })
        return
    }
    out.push({ t: "seqStart", head: prepend(c.head, leading) })
    attached.forEach(({ item, head, inline }, i) => {
        const last = i === attached.length - 1
        nodeEvents(item, { head, line: inline, foot: last ? trailing : "" }, out)
    })
    out.push({ t: "seqEnd", line: c.line, foot: c.foot })
}

/** Events for a whole stream: one implicit first document, `---` before the others. */
export function documentEvents(docs: readonly MapItem[][]): Event[] {
    const out: Event[] = []
    docs.forEach((items, i) => {
        out.push({ t: "docStart", implicit: i === 0 })
        mappingEvents(items, { head: "", line: "", foot: "" }, out)
        out.push({ t: "docEnd" })
    })
    return out
}

/** Events for a single value as its own document (sops EmitValue -> yaml.Marshal). */
export function valueEvents(n: Node): Event[] {
    const out: Event[] = [{ t: "docStart", implicit: true }]
    nodeEvents(n, { head: "", line: "", foot: "" }, out)
    out.push({ t: "docEnd" })
    return out
}
