/**
 * YAML text -> documents, typed and commented the way sops 3.13 reads them with
 * go.yaml.in/yaml/v3 (sops-format.md §7.1).
 *
 * The `yaml` package does the syntax (failsafe schema, so every scalar arrives as
 * text with its style and tag); typing is ours (yaml-resolve.ts). Comments are placed
 * from their source positions rather than from the `yaml` package's own attachment,
 * to match where yaml.v3's head/line/foot comments end up in sops's tree.
 */
import { isAlias, isMap, isScalar, isSeq, type Alias, type Document, type Node as YNode } from "yaml"
import { AliasBudget, MAX_NESTING_DEPTH, nestedTooDeeply } from "../core/input-limits.js"
import { FormatError, quote } from "../errors.js"
import type { Branch, Comment, ListItem, MapItem, Node, Scalar } from "../core/tree.js"
import { blockScalarValue } from "./yaml-block-scalar.js"
import { aliasTargets, anchorContainsItself, parseYamlStream } from "./yaml-limits.js"
import { resolvePlain, type Resolved } from "./yaml-resolve.js"

interface Coll {
    readonly kind: "map" | "list"
    column: number
    readonly parent: Coll | null
    readonly flow: boolean
    readonly slots: Slot[]
}
interface Slot {
    readonly offset: number
    readonly key?: string
    readonly value?: Scalar | Coll
    readonly comment?: Comment
}
interface Anchor {
    readonly offset: number
    readonly line: number
    readonly column: number
    readonly coll: Coll
    /** The entry's value or the item, once read. */
    value?: Scalar | Coll
    /** True when the value has no text at all (`key:` or `-` alone): a null with no position on the line. */
    empty?: boolean
}

const YAML_TAG = "tag:yaml.org,2002:"

class Positions {
    private readonly starts: number[] = [0]
    constructor(text: string) {
        for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.starts.push(i + 1)
    }
    /** 1-based line and column. */
    at(offset: number): { line: number; column: number } {
        let lo = 0
        let hi = this.starts.length - 1
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1
            if ((this.starts[mid] ?? 0) <= offset) lo = mid
            else hi = mid - 1
        }
        return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 }
    }
}

// The escapes go-yaml's scanner knows after a backslash in a double-quoted scalar
// (scannerc.go yaml_parser_scan_flow_scalar), besides \x, \u, \U and an escaped line
// break. YAML 1.2's `\/` is not one of them.
const GO_ESCAPES = new Set(["0", "a", "b", "t", "\t", "n", "v", "f", "r", "e", " ", '"', "'", "\\", "N", "_", "L", "P"])
const LINE_BREAKS = new Set(["\r", "\n", "\u0085", "\u2028", "\u2029"])

/** Refuse what go-yaml refuses in a double-quoted scalar's source: unknown escapes, surrogate or too large code points. */
function checkEscapes(source: string, line: number): void {
    for (let i = 0; i < source.length; i++) {
        if (source[i] !== "\\") continue
        const c = source[i + 1] ?? ""
        const digits = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0
        if (digits > 0) {
            const hex = source.slice(i + 2, i + 2 + digits)
            const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === digits ? parseInt(hex, 16) : -1
            if (code < 0 || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
                throw new FormatError(`invalid YAML at line ${line}: the escape \\${c}${hex} is not a Unicode character`)
            }
            i += 1 + digits
        } else if (GO_ESCAPES.has(c) || LINE_BREAKS.has(c)) {
            i++
        } else {
            throw new FormatError(`invalid YAML at line ${line}: unknown escape \\${c} in a double-quoted string (go-yaml reads YAML 1.1 escapes)`)
        }
    }
}

function reasonFor(code: string): string {
    return code.toLowerCase().replaceAll("_", " ")
}

/**
 * One document turned into our tree, aliases expanded. Expansion is where a small
 * hostile file becomes a huge tree, so every node counts against go-yaml's alias
 * budget, the expanded tree may nest no deeper than MAX_NESTING_DEPTH, and an
 * anchor that contains an alias of itself is an error, as in yaml.v3.
 */
class DocumentReader {
    readonly anchors: Anchor[] = []

    private readonly doc: Document.Parsed
    private readonly text: string
    private readonly pos: Positions
    private readonly checkDuplicates: boolean
    /** Made at the first alias: most secrets files have none. */
    private targets: Map<Alias, YNode> | undefined
    private readonly budget = new AliasBudget()
    private readonly expanding = new Set<YNode>()
    /** The collection read for each node where it stands, and the copies aliases made of them. */
    private readonly collOf = new Map<YNode, Coll>()
    private readonly copies: { copy: Coll; of: Coll }[] = []
    /** Block scalar values, computed where the scalar stands (an alias's copy has no indentation of its own). */
    private readonly blockValues = new Map<YNode, string>()

    constructor(doc: Document.Parsed, text: string, pos: Positions, checkDuplicates: boolean) {
        this.doc = doc
        this.text = text
        this.pos = pos
        this.checkDuplicates = checkDuplicates
        // yaml.v3 counts the document node itself.
        this.budget.count(false)
    }

    /**
     * The node an alias stands for. The alias itself is one decode (aliased only
     * inside another expansion); what it expands to is read with `register` false,
     * so every node of it counts as aliased, as in yaml.v3.
     */
    private target(n: Alias, inAlias: boolean): YNode {
        this.budget.count(inAlias)
        this.targets ??= aliasTargets(this.doc)
        const target = this.targets.get(n)
        if (target === undefined) throw new FormatError(`unknown alias at line ${this.lineOf(n)}`)
        if (this.expanding.has(target)) throw anchorContainsItself(this.lineOf(target))
        return target
    }

    /** Expand `target` (what an alias stands for) with `read`, refusing a loop back into it. */
    private expand<T>(target: YNode, read: () => T): T {
        this.expanding.add(target)
        try {
            return read()
        } finally {
            this.expanding.delete(target)
        }
    }

    private lineOf(n: YNode | null | undefined): number {
        return this.pos.at(n?.range?.[0] ?? 0).line
    }

    private anchor(offset: number, coll: Coll): Anchor {
        const { line, column } = this.pos.at(offset)
        const a: Anchor = { offset, line, column: column - 1, coll }
        this.anchors.push(a)
        return a
    }

    /**
     * The text of a block scalar as go-yaml reads it (yaml-block-scalar.ts), not as the
     * `yaml` package does; `parentIndent` is the column of the collection holding it.
     */
    private blockText(n: YNode, parentIndent: number): string | undefined {
        const cached = this.blockValues.get(n)
        if (cached !== undefined) return cached
        const src = n.srcToken
        if (src === undefined || src.type !== "block-scalar") return undefined
        const header = src.props.find((t) => t.type === "block-scalar-header")
        if (header === undefined) return undefined
        const value = blockScalarValue(this.text, header.offset, parentIndent, this.pos.at(header.offset).line)
        this.blockValues.set(n, value)
        return value
    }

    /**
     * go-yaml decodes a merge key (`<<` plain, `!`-tagged or `!!merge`) in the first
     * document, where sops runs its map decode, and wants a mapping, an alias of one,
     * or a list of those as its value. sops's tree then keeps `<<` as an ordinary key.
     */
    private checkMerge(key: YNode & { value: unknown; type?: string; tag?: string }, value: YNode | null | undefined, line: number): void {
        if (key.value !== "<<") return
        const untagged = key.tag === undefined || key.tag === "" || key.tag === "!"
        if (!(untagged && key.type === "PLAIN") && key.tag !== `${YAML_TAG}merge`) return
        const isMapOrAliasOfOne = (v: YNode | null | undefined): boolean => {
            if (isAlias(v)) {
                this.targets ??= aliasTargets(this.doc)
                const target = this.targets.get(v)
                return target === undefined || isMap(target)
            }
            return isMap(v)
        }
        if (isMapOrAliasOfOne(value)) return
        if (isSeq(value) && value.items.every((it) => isMapOrAliasOfOne(it as YNode | null))) return
        throw new FormatError(`the merge key << at line ${line} needs a mapping or a list of mappings as its value (go-yaml)`)
    }

    /** A scalar node's value as yaml.v3 types it; `parentIndent` as for blockText. */
    scalar(n: YNode & { value: unknown; type?: string; tag?: string }, parentIndent = -1): Scalar {
        if (n.type === "QUOTE_DOUBLE" && n.srcToken !== undefined && "source" in n.srcToken) {
            checkEscapes(n.srcToken.source, this.lineOf(n))
        }
        const block = n.type === "BLOCK_LITERAL" || n.type === "BLOCK_FOLDED" ? this.blockText(n, parentIndent) : undefined
        const text = block ?? (typeof n.value === "string" ? n.value : String(n.value ?? ""))
        const tag = n.tag
        const line = this.lineOf(n)
        let r: Resolved
        // go-yaml's parser treats the non-specific tag `!` as no tag (decode.go parser.node).
        if (tag === undefined || tag === "" || tag === "!") {
            r = n.type === "PLAIN" || n.type === undefined ? resolvePlain(text) : { kind: "str", value: text }
        } else if (!tag.startsWith(YAML_TAG)) {
            // Custom and non-specific tags are not resolvable in yaml.v3: the text stays a string.
            r = { kind: "str", value: text }
        } else {
            r = this.tagged(tag.slice(YAML_TAG.length), text, line)
        }
        if (r.kind === "uint") {
            throw new FormatError(`integer at line ${line} is out of the int64 range, which sops cannot store`)
        }
        return r
    }

    /**
     * A scalar with an explicit yaml.org tag. A text the tag cannot hold is an error
     * where sops checks (yaml.v3 decodes the first document into a map before walking
     * it); in later documents sops ignores the decode error and reads null.
     */
    private tagged(tag: string, text: string, line: number): Resolved {
        try {
            return this.decodeTagged(tag, text, line)
        } catch (e) {
            if (e instanceof FormatError && !this.checkDuplicates) return { kind: "null" }
            throw e
        }
    }

    private decodeTagged(tag: string, text: string, line: number): Resolved {
        switch (tag) {
            case "str":
                return { kind: "str", value: text }
            case "null":
                if (resolvePlain(text).kind === "null") return { kind: "null" }
                throw new FormatError(`cannot decode the value at line ${line} as !!null`)
            case "binary": {
                // Go's base64.StdEncoding skips only CR and LF, and wants full padding.
                const b64 = text.replace(/[\r\n]/g, "")
                if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
                    throw new FormatError(`the !!binary value at line ${line} is not valid base64`)
                }
                const bytes = Buffer.from(b64, "base64")
                try {
                    return { kind: "str", value: new TextDecoder("utf-8", { fatal: true }).decode(bytes) }
                } catch {
                    return { kind: "bytes", value: new Uint8Array(bytes) }
                }
            }
            case "int":
            case "float":
            case "bool":
            case "timestamp": {
                const r = resolvePlain(text, tag === "timestamp")
                const want = tag === "timestamp" ? "time" : tag
                if (r.kind === want || (r.kind === "uint" && tag === "int")) return r
                if (tag === "float" && r.kind === "int") return { kind: "float", value: Number(r.value) }
                throw new FormatError(`cannot decode the value at line ${line} as !!${tag}`)
            }
            default:
                // yaml.v3 decodes a scalar tagged !!map or !!seq (or any unknown yaml.org
                // tag) into interface{} as its text.
                return { kind: "str", value: text }
        }
    }

    /**
     * Converts a node; `parent` is the collection it sits in (for comment placement),
     * `depth` the nesting level of that collection (0 for the document), and
     * `register` false inside an alias's expansion (no anchors, comments or duplicate
     * checks for a copy).
     */
    node(n: YNode | null | undefined, parent: Coll | null, register: boolean, depth = 0): Scalar | Coll {
        if (isAlias(n)) {
            const target = this.target(n, !register)
            return this.expand(target, () => this.node(target, parent, false, depth))
        }
        this.budget.count(!register)
        if (n === null || n === undefined) return { kind: "null" }
        if (isScalar(n)) return this.scalar(n, parent?.column ?? -1)
        if (depth + 1 > MAX_NESTING_DEPTH) {
            throw nestedTooDeeply("YAML", `at line ${this.lineOf(n)}${register ? "" : " once its aliases are expanded"}`)
        }
        if (isMap(n) || isSeq(n)) {
            const coll = this.collection(n, parent, register, depth)
            if (register) this.collOf.set(n, coll)
            else {
                const of = this.collOf.get(n)
                if (of !== undefined) this.copies.push({ copy: coll, of })
            }
            return coll
        }
        throw new FormatError(`unsupported yaml node at line ${this.lineOf(n)}`)
    }

    /**
     * sops walks an alias's target node itself, comments included, so each copy of an
     * anchored collection gets the comments placed in the original (placeComment runs
     * once every node is read).
     */
    copyComments(): void {
        for (const { copy, of } of this.copies) for (const s of of.slots) if (s.comment !== undefined) copy.slots.push(s)
    }

    private collection(n: YNode, parent: Coll | null, register: boolean, depth: number): Coll {
        if (isMap(n)) {
            const flow = n.flow === true
            const coll: Coll = { kind: "map", column: 0, parent, flow, slots: [] }
            const seen = new Map<string, number>()
            const src = n.srcToken
            const cstItems = src !== undefined && "items" in src && src.type === "block-map" ? src.items : undefined
            n.items.forEach((pair, i) => {
                const k = pair.key as YNode | null
                let keyNode = k
                if (isAlias(k)) {
                    keyNode = this.target(k, !register)
                    this.budget.count(true)
                } else {
                    this.budget.count(!register)
                }
                const offset = k?.range?.[0] ?? (pair.value as YNode | null)?.range?.[0] ?? 0
                const line = this.pos.at(offset).line
                if (register && i === 0) {
                    // The mapping's indentation is where its first entry starts: at `?` for an explicit key.
                    const ind = cstItems?.[0]?.start.find((t) => t.type === "explicit-key-ind")
                    coll.column = this.pos.at(ind !== undefined && "offset" in ind ? ind.offset : offset).column - 1
                }
                let key: string
                if (keyNode === null || keyNode === undefined) {
                    throw new FormatError(`non-string key (type null) at line ${line}: only string keys are supported`)
                } else if (isScalar(keyNode)) {
                    const sc = this.scalar(keyNode, coll.column)
                    if (sc.kind !== "str") {
                        throw new FormatError(`non-string key (type ${sc.kind}) at line ${line}: only string keys are supported`)
                    }
                    key = sc.value
                } else {
                    const kind = isMap(keyNode) ? "map" : "list"
                    throw new FormatError(`non-string key (type ${kind}) at line ${line}: only string keys are supported`)
                }
                if (register && this.checkDuplicates && isScalar(keyNode)) this.checkMerge(keyNode, pair.value as YNode | null, line)
                if (register && this.checkDuplicates) {
                    const first = seen.get(key)
                    if (first !== undefined) throw new FormatError(`mapping key ${quote(key)} already defined at line ${first}`)
                    seen.set(key, line)
                }
                const anchor = register ? this.anchor(offset, coll) : undefined
                const value = this.node(pair.value as YNode | null, coll, register, depth + 1)
                if (anchor !== undefined) [anchor.value, anchor.empty] = [value, hasNoText(pair.value as YNode | null)]
                coll.slots.push({ offset, key, value })
            })
            return coll
        }
        if (isSeq(n)) {
            const flow = n.flow === true
            const coll: Coll = { kind: "list", column: 0, parent, flow, slots: [] }
            const src = n.srcToken
            const cstItems = src !== undefined && "items" in src && src.type === "block-seq" ? src.items : undefined
            n.items.forEach((item, i) => {
                const it = item as YNode | null
                const ind = cstItems?.[i]?.start.find((t) => t.type === "seq-item-ind")
                const offset = ind !== undefined && "offset" in ind ? ind.offset : (it?.range?.[0] ?? 0)
                let anchor: Anchor | undefined
                if (register) {
                    if (i === 0) coll.column = this.pos.at(offset).column - 1
                    anchor = this.anchor(offset, coll)
                }
                const value = this.node(it, coll, register, depth + 1)
                if (anchor !== undefined) [anchor.value, anchor.empty] = [value, hasNoText(it)]
                coll.slots.push({ offset, value })
            })
            return coll
        }
        throw new FormatError(`unsupported yaml node at line ${this.lineOf(n)}`)
    }
}

interface SourceComment {
    /** How many flow collections (`[`, `{`) are open where the comment stands. */
    readonly flowDepth: number
    readonly offset: number
    readonly line: number
    readonly column: number
    readonly ownLine: boolean
    readonly text: string
    readonly doc: number
}

// The lexer emits control characters for document starts, scalars and flow ends that
// are not part of the source text.
const CONTROL_TOKENS = new Set(["\u0002", "\u0018", "\u001f"])

/** The comments of a YAML stream, collected from the lexemes as parseYamlStream reads them. */
class SourceComments {
    readonly list: SourceComment[] = []
    private offset = 0
    private doc = -1
    private flow = 0
    private readonly text: string
    private readonly pos: Positions

    constructor(text: string, pos: Positions) {
        this.text = text
        this.pos = pos
    }

    add(tok: string): void {
        if (CONTROL_TOKENS.has(tok)) {
            if (tok === "\u0002") this.doc++
            return
        }
        const offset = this.offset
        if (tok === "[" || tok === "{") this.flow++
        else if ((tok === "]" || tok === "}") && this.flow > 0) this.flow--
        else if (tok.startsWith("#")) {
            const { line, column } = this.pos.at(offset)
            const lineStart = offset - (column - 1)
            const ownLine = this.text.slice(lineStart, offset).trim() === ""
            this.list.push({ flowDepth: this.flow, offset, line, column: column - 1, ownLine, text: tok.slice(1).replace(/\r$/, ""), doc: Math.max(this.doc, 0) })
        }
        this.offset += tok.length
    }
}

/**
 * go-yaml knows two directives and one YAML version: `%YAML 1.1` and `%TAG`; any other
 * name is a scanner error and `%YAML 1.2` "an incompatible YAML document".
 */
function checkDirective(source: string, line: number): void {
    if (/^%TAG[ \t]/.test(source) || /^%YAML[ \t]+1\.1(?:[ \t#]|$)/.test(source)) return
    const what = source.split(/[ \t#]/)[0] === "%YAML" ? "YAML version" : "directive"
    throw new FormatError(`invalid YAML at line ${line}: go-yaml (sops) reads only %YAML 1.1 and %TAG, not the ${what} ${quote(source.trim())}`)
}

const isColl = (v: Scalar | Coll | undefined): v is Coll => v !== undefined && "slots" in v

/** A missing value, or an empty plain scalar with no tag or anchor. */
function hasNoText(n: YNode | null | undefined): boolean {
    if (n === null || n === undefined) return true
    return isScalar(n) && n.range?.[0] === n.range?.[1] && !n.tag && !n.anchor
}

function flowDepthOf(coll: Coll): number {
    let d = 0
    for (let c: Coll | null = coll; c !== null && c.flow; c = c.parent) d++
    return d
}

/**
 * Where yaml.v3 and sops's walk put a comment that follows content on its line:
 * - after a scalar: the scalar's line comment, inline before its entry or item;
 * - after a key or `-` whose block collection starts on the next line: non-inline,
 *   before the entry (a key's line comment) or first in that collection (a `-`'s);
 * - after a flow collection closes: the collection's line comment, first in it
 *   (non-inline) as a mapping value, inline before it as a sequence item.
 */
function placeTrailing(c: SourceComment, on: Anchor): void {
    const comment = (inline: boolean): Comment => (inline ? { kind: "comment", text: c.text, inline: true } : { kind: "comment", text: c.text })
    const depth = flowDepthOf(on.coll)
    if (c.flowDepth < depth) {
        let closed = on.coll
        while (flowDepthOf(closed) > c.flowDepth + 1 && closed.parent !== null) closed = closed.parent
        const parent = closed.parent
        const slot = parent?.slots.find((sl) => sl.value === closed)
        if (parent !== null && parent.kind === "list" && slot !== undefined) {
            parent.slots.push({ offset: slot.offset - 0.5, comment: comment(true) })
        } else {
            closed.slots.push({ offset: -1, comment: comment(false) })
        }
        return
    }
    if (on.empty === true) {
        // No value node on the line: yaml.v3 gives the comment to the key (a plain comment
        // before the entry) or, after a lone `-`, to what follows the item.
        on.coll.slots.push({ offset: on.offset + (on.coll.kind === "map" ? -0.5 : 0.5), comment: comment(false) })
        return
    }
    if (isColl(on.value) && !on.value.flow) {
        if (on.coll.kind === "map") on.coll.slots.push({ offset: on.offset - 0.5, comment: comment(false) })
        else on.value.slots.push({ offset: -1, comment: comment(false) })
        return
    }
    // sops ≥ 3.13: the inline comment goes right before its entry (spec §5).
    on.coll.slots.push({ offset: on.offset - 0.5, comment: comment(true) })
}

function placeComment(c: SourceComment, anchors: readonly Anchor[], root: Coll): void {
    if (!c.ownLine) {
        let on: Anchor | undefined
        for (const a of anchors) if (a.line === c.line && a.offset < c.offset) on = a
        if (on !== undefined) return placeTrailing(c, on)
    }
    const next = anchors.find((a) => a.offset > c.offset)
    let target: Coll | undefined
    if (next !== undefined && c.column <= next.column) {
        target = next.coll
    } else {
        let prev: Anchor | undefined
        for (const a of anchors) if (a.offset < c.offset) prev = a
        target = prev?.coll ?? root
        while (target.column > c.column && target.parent !== null) target = target.parent
    }
    target.slots.push({ offset: c.offset, comment: { kind: "comment", text: c.text } })
}

function finish(v: Scalar | Coll): Node {
    if (!("slots" in v)) return v
    const slots = [...v.slots].sort((a, b) => a.offset - b.offset)
    if (v.kind === "map") {
        const items: MapItem[] = slots.map((s) =>
            s.comment ?? { kind: "entry", key: s.key ?? "", value: finish(s.value ?? { kind: "null" }) },
        )
        return { kind: "map", items }
    }
    const items: ListItem[] = slots.map((s) => s.comment ?? finish(s.value ?? { kind: "null" }))
    return { kind: "list", items }
}

/** Parses every document of a YAML stream into branches. */
export function parseYaml(text: string): Branch[] {
    const pos = new Positions(text)
    // One lexing pass serves the parser, the depth check and the comments.
    const comments = new SourceComments(text, pos)
    const list = parseYamlStream(
        text,
        { schema: "failsafe", keepSourceTokens: true, uniqueKeys: false, resolveKnownTags: false },
        { onLexeme: (tok) => comments.add(tok), onDirective: (source, offset) => checkDirective(source, pos.at(offset).line) },
    )
    // go-yaml's first Decode in sops finds no document in a stream of blank lines and
    // comments and fails with EOF; only a zero-byte file is an empty file to sops.
    if (list.length === 0 && text.length > 0) {
        throw new FormatError("invalid YAML: the file has only blank lines or comments, no document (sops cannot read it either)")
    }
    for (const d of list) {
        const err = d.errors[0]
        if (err !== undefined) {
            const at = err.pos[0] >= 0 ? pos.at(err.pos[0]) : { line: 0, column: 0 }
            throw new FormatError(`invalid YAML at line ${at.line}, column ${at.column}: ${reasonFor(err.code)}`)
        }
    }
    const readers: DocumentReader[] = []
    const roots: Coll[] = []
    list.forEach((d, i) => {
        // sops decodes only the first document into a map, which is where yaml.v3's
        // duplicate-key check runs (spec §7.1).
        const reader = new DocumentReader(d, text, pos, i === 0)
        const c = d.contents as YNode | null
        let root: Coll
        const top = c !== null && isAlias(c) ? c.resolve(d) : c
        if (top === null || top === undefined) {
            root = { kind: "map", column: 0, parent: null, flow: false, slots: [] }
        } else if (isMap(top)) {
            root = reader.node(c, null, true) as Coll
        } else if (isSeq(top)) {
            throw new FormatError("yaml documents that are sequences are not supported")
        } else if (isScalar(top) && reader.scalar(top).kind === "null") {
            root = { kind: "map", column: 0, parent: null, flow: false, slots: [] }
        } else {
            throw new FormatError("yaml documents that are values are not supported")
        }
        readers.push(reader)
        roots.push(root)
    })
    if (roots.length > 0) {
        for (const c of comments.list) {
            const i = Math.min(c.doc, roots.length - 1)
            const root = roots[i] as Coll
            placeComment(c, (readers[i] as DocumentReader).anchors, root)
        }
        for (const r of readers) r.copyComments()
    }
    return roots.map((r) => finish(r) as Branch)
}
