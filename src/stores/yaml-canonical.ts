/**
 * Encrypted YAML in exactly the shape the store's own emitter writes, read and
 * written without the general parser (`yaml` package + yaml-parse.ts) and emitter
 * (yaml-events.ts + yaml-emitter.ts). A fleet re-key changes only the `sops:` block
 * of each file, and parsing and emitting the whole file (mostly the armored data-key
 * blocks) was half of its CPU per file (issue 14 target 5).
 *
 * Why the result is exactly the general path's, whatever this module gets wrong:
 * 1. `emitItems` writes, for the trees it accepts, the very bytes the store's
 *    emitter writes for them (block mappings and sequences, plain, simple
 *    double-quoted and literal scalars, no comments, unique simple keys; anything
 *    else is refused). The two are held equal by a property test
 *    (test/unit/stores/yaml-canonical.test.ts).
 * 2. `readCanonical` parses the text with a small line parser into a tree, emits
 *    that tree with (1) and accepts the text only when the bytes are the same. So
 *    an accepted text IS the emitter's output for that tree, and the store's parser
 *    reads the emitter's output back to the tree it was written from (the store's
 *    round trip, held by the same test on these trees): the tree is what
 *    `parseEncrypted` gives. A line parser mistake can only make a file fall back.
 * 3. Without comments, the emitter writes a document's top-level entries one after
 *    the other, each from the start of a line to the end of one, independently of
 *    its neighbours. So an accepted file is its values part followed by the `sops`
 *    entry, and the file with new metadata is the same values part followed by the
 *    new entry: what `emitEncrypted` writes for the same tree and new metadata.
 *
 * Anything else (comments, several documents, other indentation, quoting styles,
 * floats, timestamps, empty collections, foreign-looking files) returns undefined
 * and the caller takes the general path.
 */
import type { ListItem, MapItem, Mapping, Node, Scalar } from "../core/tree.js"
import type { EncryptedDocument } from "./store.js"
import { stringStyle } from "./yaml-events.js"
import { resolvePlain } from "./yaml-resolve.js"

/** An encrypted YAML file accepted as canonical. */
export interface CanonicalYaml {
    /** The text before the top-level `sops:` key: the values, kept byte for byte on a re-key. */
    readonly values: string
    /** What the store's `parseEncrypted` gives for the file. */
    readonly doc: EncryptedDocument
}

/** Deeper trees go the general way (the parser's own limit is far above this). */
const MAX_DEPTH = 64
/** The emitter writes a key longer than 128 bytes as an explicit `? key`; such keys, and odd ones, go the general way. */
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/
/** A value as sops encrypts it: plain in the emitter's eyes (checked in the test against stringStyle). */
const ENC_VALUE = /^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]$/
/** Lines of printable ASCII without leading or trailing blanks, each ended by one line break (an armored data key): literal. */
const PLAIN_LINES = /^(?:[!-~](?:[ -~]*[!-~])?\n)+$/
const PRINTABLE_ASCII = /^[ -~]*$/
const PRINTABLE_ASCII_LINES = /^[ -~\n]*$/

/** Thrown inside this module when a tree or text is outside what it handles. */
const NOT_CANONICAL = Symbol("not canonical")

function refuse(): never {
    throw NOT_CANONICAL
}

/** Run `f`, or undefined when it refused. */
function attempt<T>(f: () => T): T | undefined {
    try {
        return f()
    } catch (e) {
        if (e === NOT_CANONICAL) return undefined
        throw e
    }
}

// ---- writing (1) ----

const keyIsPlain = new Map<string, boolean>()

/** The key's text when the emitter writes it as a plain simple key. */
function keyText(key: string): string {
    let plain = keyIsPlain.get(key)
    if (plain === undefined) {
        plain = SIMPLE_KEY.test(key) && stringStyle(key) === "plain"
        if (keyIsPlain.size > 4096) keyIsPlain.clear()
        keyIsPlain.set(key, plain)
    }
    if (!plain) refuse()
    return key
}

type ScalarText = { readonly inline: string } | { readonly literal: string; readonly chomp: "" | "-" }

function styleOf(s: string): string {
    // stringStyle walks the string code point by code point: fine for short strings only.
    return s.length <= 512 ? stringStyle(s) : refuse()
}

function scalarText(sc: Scalar): ScalarText {
    switch (sc.kind) {
        case "str": {
            const s = sc.value
            // The two shapes of nearly every string in a sops file, decided without stringStyle.
            if (ENC_VALUE.test(s)) return { inline: s }
            if (PLAIN_LINES.test(s)) return { literal: s, chomp: "" }
            const style = styleOf(s)
            if (style === "plain") return { inline: s }
            if (style === "double") return PRINTABLE_ASCII.test(s) && !s.includes('"') && !s.includes("\\") ? { inline: `"${s}"` } : refuse()
            if (style !== "literal" || !PRINTABLE_ASCII_LINES.test(s)) refuse()
            // A leading blank or break needs an indentation indicator, two final breaks "keep" chomping: not handled.
            if (s.startsWith(" ") || s.startsWith("\n") || s.endsWith("\n\n")) refuse()
            return { literal: s, chomp: s.endsWith("\n") ? "" : "-" }
        }
        case "int":
            return { inline: sc.value.toString() }
        case "bool":
            return { inline: sc.value ? "true" : "false" }
        case "null":
            return { inline: "null" }
        default:
            return refuse()
    }
}

const spaces = (n: number): string => " ".repeat(n)

/** The lines of a literal block's content at column `at`; empty lines get no indentation. */
function literalBody(s: string, at: number): string {
    const body = s.endsWith("\n") ? s.slice(0, -1) : s
    let out = ""
    for (const line of body.split("\n")) out += line === "" ? "\n" : `${spaces(at)}${line}\n`
    return out
}

/**
 * The emitter's indentation (yaml-emitter.ts increaseIndent): a collection or block
 * scalar under a mapping key snaps to the next multiple of the indent; under a
 * sequence item it goes two columns in, past "- ".
 */
const underKey = (keyColumn: number, indent: number): number => indent * Math.floor((keyColumn + indent) / indent)

class Writer {
    private readonly indent: number
    constructor(indent: number) {
        this.indent = indent
    }

    /** A block mapping's entries at `column`; `inline`: the first key goes on the current line (after "- "). */
    mapping(items: readonly MapItem[], column: number, inline: boolean, depth: number): string {
        if (items.length === 0 || depth > MAX_DEPTH) refuse()
        const seen = new Set<string>()
        let out = ""
        items.forEach((item, i) => {
            if (item.kind !== "entry" || seen.has(item.key)) refuse()
            seen.add(item.key)
            out += this.entry(item.key, item.value, column, inline && i === 0 ? "" : spaces(column), depth)
        })
        return out
    }

    entry(key: string, value: Node, column: number, lead: string, depth: number): string {
        const head = `${lead}${keyText(key)}:`
        if (value.kind === "map") return `${head}\n${this.mapping(value.items, underKey(column, this.indent), false, depth + 1)}`
        if (value.kind === "list") return `${head}\n${this.sequence(value.items, underKey(column, this.indent), false, depth + 1)}`
        const t = scalarText(value)
        return "inline" in t ? `${head} ${t.inline}\n` : `${head} |${t.chomp}\n${literalBody(t.literal, underKey(column, this.indent))}`
    }

    /** A block sequence's items with their "- " at `column`. */
    sequence(items: readonly ListItem[], column: number, inline: boolean, depth: number): string {
        if (items.length === 0 || depth > MAX_DEPTH) refuse()
        let out = ""
        items.forEach((item, i) => {
            const lead = `${inline && i === 0 ? "" : spaces(column)}-`
            if (item.kind === "comment") refuse()
            if (item.kind === "map") out += `${lead} ${this.mapping(item.items, column + 2, true, depth + 1)}`
            else if (item.kind === "list") out += `${lead} ${this.sequence(item.items, column + 2, true, depth + 1)}`
            else {
                const t = scalarText(item)
                out += "inline" in t ? `${lead} ${t.inline}\n` : `${lead} |${t.chomp}\n${literalBody(t.literal, column + 2)}`
            }
        })
        return out
    }
}

/**
 * The text the store's emitter writes for a document whose top-level items are
 * `items` (no `sops` among them) followed by the `sops` entry `metadata`, or
 * undefined when the trees are outside what this module writes.
 */
export function emitCanonical(items: readonly MapItem[], metadata: Mapping, indent: number): string | undefined {
    return attempt(() => {
        if (items.some((it) => it.kind === "entry" && it.key === "sops")) refuse()
        const w = new Writer(indent)
        return (items.length === 0 ? "" : w.mapping(items, 0, false, 1)) + w.entry("sops", metadata, 0, "", 1)
    })
}

/** The values part of a canonical file followed by a new `sops` entry, or undefined when the metadata is outside what this module writes. */
export function withCanonicalMetadata(values: string, metadata: Mapping, indent: number): string | undefined {
    return attempt(() => values + new Writer(indent).entry("sops", metadata, 0, "", 1))
}

// ---- reading (2) ----

class LineReader {
    i = 0
    private readonly lines: string[]
    private readonly end: number
    private readonly indent: number
    constructor(lines: string[], end: number, indent: number) {
        this.lines = lines
        this.end = end
        this.indent = indent
    }

    private columnOf(line: string): number {
        let n = 0
        while (line.charCodeAt(n) === 32) n++
        return n
    }

    mapping(column: number, depth: number): MapItem[] {
        if (depth > MAX_DEPTH) refuse()
        const items: MapItem[] = []
        while (this.i < this.end) {
            const line = this.lines[this.i] as string
            const at = this.columnOf(line)
            if (at < column) break
            if (at > column) refuse()
            const rest = line.slice(column)
            const colon = rest.indexOf(":")
            const key = rest.slice(0, colon)
            if (colon < 0 || !SIMPLE_KEY.test(key)) refuse()
            items.push({ kind: "entry", key, value: this.value(rest.slice(colon + 1), underKey(column, this.indent), column, depth) })
        }
        return items
    }

    /** The value after `key:` (`after` starts after the colon); `inner` is where its block content goes. */
    private value(after: string, inner: number, column: number, depth: number): Node {
        this.i++
        if (after === "") return this.nested(column, depth + 1)
        if (!after.startsWith(" ")) refuse()
        return this.scalar(after.slice(1), inner)
    }

    /** The collection on the lines after a `key:` line. */
    private nested(column: number, depth: number): Node {
        const line = this.lines[this.i]
        if (line === undefined || this.i >= this.end) refuse()
        const at = this.columnOf(line)
        if (at <= column) refuse()
        return line.startsWith("- ", at) ? { kind: "list", items: this.sequence(at, depth) } : { kind: "map", items: this.mapping(at, depth) }
    }

    sequence(column: number, depth: number): ListItem[] {
        if (depth > MAX_DEPTH) refuse()
        const items: ListItem[] = []
        while (this.i < this.end) {
            const line = this.lines[this.i] as string
            const at = this.columnOf(line)
            if (at < column) break
            if (at > column || !line.startsWith("- ", column)) refuse()
            const rest = line.slice(column + 2)
            if (rest.startsWith("- ") || /^[A-Za-z_][A-Za-z0-9_.-]*:(?: |$)/.test(rest)) {
                // A collection starting on the item's line: read it as if it began its own line two columns in.
                this.lines[this.i] = spaces(column + 2) + rest
                items.push(rest.startsWith("- ") ? { kind: "list", items: this.sequence(column + 2, depth + 1) } : { kind: "map", items: this.mapping(column + 2, depth + 1) })
            } else {
                this.i++
                items.push(this.scalar(rest, column + 2))
            }
        }
        return items
    }

    /** A scalar whose text starts on the current line (already consumed); a literal block's lines follow it at `inner`. */
    private scalar(text: string, inner: number): Scalar {
        if (text === "|" || text === "|-") {
            const pad = spaces(inner)
            const body: string[] = []
            while (this.i < this.end) {
                const line = this.lines[this.i] as string
                if (line !== "" && !line.startsWith(pad)) break
                body.push(line.slice(inner))
                this.i++
            }
            // Trailing empty lines belong to what follows (clip and strip chomping drop them).
            while (body.length > 0 && body[body.length - 1] === "") {
                body.pop()
                this.i--
            }
            return { kind: "str", value: body.join("\n") + (text === "|" ? "\n" : "") }
        }
        if (text.startsWith('"')) {
            const inner2 = text.slice(1, -1)
            if (text.length < 2 || !text.endsWith('"') || inner2.includes('"') || inner2.includes("\\")) refuse()
            return { kind: "str", value: inner2 }
        }
        const r = resolvePlain(text)
        if (r.kind === "str" || r.kind === "int" || r.kind === "bool" || r.kind === "null") return r
        return refuse()
    }
}

/**
 * The file as the store's parseEncrypted would read it, with its values part, when
 * the text is exactly what the emitter writes for that tree (see the top of this
 * file); else undefined.
 */
export function readCanonical(text: string, indent: number): CanonicalYaml | undefined {
    if (!text.endsWith("\n")) return undefined
    const at = text.startsWith("sops:\n") ? 0 : text.lastIndexOf("\nsops:\n") + 1
    if (at === 0 && !text.startsWith("sops:\n")) return undefined
    return attempt(() => {
        const lines = text.slice(0, -1).split("\n")
        const valueLines = at === 0 ? 0 : text.slice(0, at - 1).split("\n").length
        const values = new LineReader(lines, valueLines, indent)
        const items = values.mapping(0, 1)
        if (values.i !== valueLines) refuse()
        const sops = new LineReader(lines, lines.length, indent)
        sops.i = valueLines
        const [entry, ...more] = sops.mapping(0, 1)
        if (sops.i !== lines.length || more.length > 0 || entry?.kind !== "entry" || entry.key !== "sops" || entry.value.kind !== "map") refuse()
        const metadata = entry.value
        if (emitCanonical(items, metadata, indent) !== text) refuse()
        return { values: text.slice(0, at), doc: { branches: [{ kind: "map", items }], metadata } }
    })
}
