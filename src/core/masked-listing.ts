/**
 * What `secrets ls` shows of a decrypted document (issue 13 point 5): every leaf's
 * key path in the index syntax `set` and `--extract` take, with its value masked.
 *
 * The mask tells a reader which secret is which (type, length, a tail to tell two
 * tokens apart) without handing out the secret: a string shows its length and at
 * most its last 2 characters, and none at all under 8 characters, because 2 of a
 * short value (a PIN, a 6-letter password) is a large share of it. Numbers, booleans
 * and timestamps show only their type: their digits are the whole value. Bytes that
 * are not UTF-8 show only their length. Pure: no files, no console.
 */
import { describePath, type PathStep } from "./tree-path.js"
import type { Branch, Node, Scalar } from "./tree.js"

/** A string shorter than this shows no character at all. */
export const MIN_LENGTH_FOR_TAIL = 8
/** The most characters a masked string shows. */
export const MAX_TAIL = 2

/** One leaf: its key path and its value. */
export interface Leaf {
    readonly path: readonly PathStep[]
    readonly value: Scalar
}

/** The masked form of a value, as `--json` prints it. */
export interface MaskedValue {
    readonly type: Scalar["kind"]
    /** Characters (code points) of a string, bytes of binary data; absent for other types. */
    readonly length?: number
    /** The last characters of a string of 8 or more; absent otherwise. */
    readonly tail?: string
}

/** Every non-comment leaf of `root` in file order, list items by index. Empty mappings and lists have none. */
export function leavesOf(root: Branch): Leaf[] {
    const out: Leaf[] = []
    const walk = (node: Node, path: PathStep[]): void => {
        if (node.kind === "map") {
            for (const item of node.items) if (item.kind === "entry") walk(item.value, [...path, item.key])
        } else if (node.kind === "list") {
            let index = 0
            for (const item of node.items) {
                if (item.kind === "comment") continue
                walk(item, [...path, index])
                index += 1
            }
        } else {
            out.push({ path, value: node })
        }
    }
    walk(root, [])
    return out
}

/** The key path as `set` takes it: `["db"]["hosts"][0]`. */
export function keyPathText(path: readonly PathStep[]): string {
    return describePath(path)
}

/** The masked value (see the file comment for the rule). */
export function maskValue(value: Scalar): MaskedValue {
    switch (value.kind) {
        case "str": {
            // Code points, so a tail never splits a surrogate pair into half a character.
            const chars = Array.from(value.value)
            if (chars.length < MIN_LENGTH_FOR_TAIL) return { type: "str", length: chars.length }
            return { type: "str", length: chars.length, tail: chars.slice(-MAX_TAIL).join("") }
        }
        case "bytes":
            return { type: "bytes", length: value.value.length }
        default:
            return { type: value.kind }
    }
}

/** The masked value in one line: `str(24) …x9`, `str(5)`, `int`, `null`. */
export function maskText(value: Scalar): string {
    const m = maskValue(value)
    const head = m.length === undefined ? m.type : `${m.type}(${m.length})`
    // A tail of a newline or a control character would break the line or the terminal:
    // it is shown escaped, as JSON writes it.
    return m.tail === undefined ? head : `${head} …${escapeControls(m.tail)}`
}

/** The value itself, for `--reveal`: strings JSON-quoted so a line break stays on one line. */
export function revealText(value: Scalar): string {
    switch (value.kind) {
        case "str":
            return JSON.stringify(value.value)
        case "bytes":
            return `bytes(${value.value.length}) ${Buffer.from(value.value).toString("base64")}`
        case "int":
            return value.value.toString()
        case "null":
            return "null"
        default:
            return String(value.value)
    }
}

/** The value for `--reveal --json`: JSON's own types where they fit, text otherwise. */
export function revealJson(value: Scalar): string | number | boolean | null {
    switch (value.kind) {
        case "str":
        case "time":
            return value.value
        case "bytes":
            return Buffer.from(value.value).toString("base64")
        case "int":
            return Number.isSafeInteger(Number(value.value)) ? Number(value.value) : value.value.toString()
        case "null":
            return null
        default:
            return value.value
    }
}

function escapeControls(s: string): string {
    // eslint-disable-next-line no-control-regex
    return s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))
}
