/**
 * The dotenv store (sops-format.md §7.3, §6.1). sops' dotenv is deliberately dumb:
 * lines split on `\n` only, no quotes, no `export`, no escapes except a literal
 * `\n` in values, and a key is everything before the first `=`, spaces included
 * (`foo = bar` is key `foo `, value ` bar`; issues #1127, #1271, #1951).
 */
import { ExitCode, FormatError, quote } from "../errors.js"
import type { Branch, MapItem, Node } from "../core/tree.js"
import { bytes, comment, entry, isScalar, str } from "../core/tree.js"
import { flatten, unflatten, valueToString } from "./flatten.js"
import type { EncryptedDocument, Store } from "./store.js"

/** Every metadata line's key starts with this; the rest is the flattened path. */
const SOPS_PREFIX = "sops_"
const NL = 0x0a
const EQ = 0x3d
const BACKSLASH = 0x5c

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const lenient = new TextDecoder("utf-8", { ignoreBOM: true })
const encoder = new TextEncoder()

/** Literal `\n` (backslash, n) -> newline, on bytes so that non-UTF-8 values survive. */
function decodeNewlines(b: Uint8Array): Uint8Array {
    const out: number[] = []
    for (let i = 0; i < b.length; i++) {
        const c = b[i] ?? 0
        if (c === BACKSLASH && b[i + 1] === 0x6e) {
            out.push(NL)
            i++
        } else {
            out.push(c)
        }
    }
    return Uint8Array.from(out)
}

/** A value as a `str` scalar, or as `bytes` when it is not valid UTF-8 (Go strings are bytes). */
function valueScalar(b: Uint8Array): Node {
    try {
        return str(strict.decode(b))
    } catch {
        return bytes(b)
    }
}

/** Parse lines into items, each entry with the 1-based line it came from. */
function parseLines(input: Uint8Array): { item: MapItem; line: number }[] {
    const out: { item: MapItem; line: number }[] = []
    let start = 0
    let lineNo = 0
    while (start <= input.length) {
        let end = input.indexOf(NL, start)
        if (end === -1) end = input.length
        const line = input.subarray(start, end)
        start = end + 1
        lineNo++
        if (line.length === 0) continue
        if (line[0] === 0x23) {
            out.push({ item: comment(lenient.decode(line.subarray(1))), line: lineNo })
            continue
        }
        const eq = line.indexOf(EQ)
        if (eq === -1) throw new FormatError(`invalid dotenv input line ${lineNo}`, ["each line must be KEY=value or a #comment"])
        const key = lenient.decode(line.subarray(0, eq))
        out.push({ item: entry(key, valueScalar(decodeNewlines(line.subarray(eq + 1)))), line: lineNo })
    }
    return out
}

/** Encode one line's value: newlines become a literal `\n`, bytes stay bytes. */
function valueBytes(key: string, v: Node): Uint8Array {
    if (!isScalar(v)) {
        throw new FormatError(`cannot write the nested value at ${quote(key)} to a dotenv file`, [
            "dotenv files hold only flat KEY=value pairs; use yaml or json for nested data",
        ])
    }
    const raw = v.kind === "bytes" ? v.value : encoder.encode(valueToString(v))
    const out: number[] = []
    for (const c of raw) {
        if (c === NL) out.push(BACKSLASH, 0x6e)
        else out.push(c)
    }
    return Uint8Array.from(out)
}

function concat(chunks: Uint8Array[]): Uint8Array {
    const total = chunks.reduce((n, c) => n + c.length, 0)
    const out = new Uint8Array(total)
    let at = 0
    for (const c of chunks) {
        out.set(c, at)
        at += c.length
    }
    return out
}

function emitItems(items: readonly MapItem[]): Uint8Array {
    const chunks: Uint8Array[] = []
    for (const item of items) {
        if (item.kind === "comment") {
            chunks.push(encoder.encode("#" + item.text + "\n"))
        } else {
            chunks.push(encoder.encode(item.key + "="), valueBytes(item.key, item.value), encoder.encode("\n"))
        }
    }
    return concat(chunks)
}

function onlyBranch(branches: readonly Branch[]): Branch {
    const b = branches[0]
    if (b === undefined) throw new FormatError("there is no document to write")
    return b
}

/** A dotenv store. */
export function createDotenvStore(): Store {
    return {
        format: "dotenv",
        parsePlain(input: Uint8Array): Branch[] {
            const lines = parseLines(input)
            for (const { item, line } of lines) {
                if (item.kind === "entry" && item.key.startsWith(SOPS_PREFIX)) {
                    // sops refuses these too: on encryption they would read as metadata.
                    throw new FormatError(
                        `dotenv key on line ${line} starts with the reserved prefix ${quote(SOPS_PREFIX)}`,
                        ["keys starting with sops_ hold sops metadata; is the file already encrypted?"],
                        ExitCode.FileAlreadyEncrypted,
                    )
                }
            }
            return [{ kind: "map", items: lines.map((l) => l.item) }]
        },
        parseEncrypted(input: Uint8Array): EncryptedDocument {
            const items: MapItem[] = []
            const pairs: [string, string][] = []
            for (const { item } of parseLines(input)) {
                if (item.kind === "entry" && item.key.startsWith(SOPS_PREFIX)) {
                    const v = item.value
                    const text = v.kind === "str" ? v.value : isScalar(v) ? valueToString(v) : ""
                    pairs.push([item.key.slice(SOPS_PREFIX.length), text])
                } else {
                    items.push(item)
                }
            }
            if (pairs.length === 0) {
                throw new FormatError("no sops metadata found in file", ["is the file encrypted?"])
            }
            return { branches: [{ kind: "map", items }], metadata: unflatten(pairs) }
        },
        emitPlain(branches: readonly Branch[]): Uint8Array {
            return emitItems(onlyBranch(branches).items)
        },
        emitEncrypted(doc: EncryptedDocument): Uint8Array {
            // Metadata lines come after every data line, sorted (sops ≥ 3.8).
            const meta = flatten(doc.metadata, SOPS_PREFIX).map(([k, v]) => entry(k, str(v)))
            return emitItems([...onlyBranch(doc.branches).items, ...meta])
        },
        emitValue(node: Node): Uint8Array {
            if (node.kind === "str") return encoder.encode(node.value)
            if (node.kind === "bytes") return node.value
            if (node.kind === "map") return emitItems(node.items)
            throw new FormatError("the dotenv store can only extract strings and mappings")
        },
    }
}
