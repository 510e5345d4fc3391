/**
 * An encrypted binary file as bytes (issue 14): where its one ENC value's data
 * field lies, without decoding the file into a string, and the emitted file split
 * around that field so it can be written in pieces.
 *
 * Only the exact shape sops and secrets write is taken: `{"data": "ENC[…]",
 * "sops": {…}}` with nothing unusual in the value (no escapes, the `str` type, the
 * fields in order). The rest of the file, with the value replaced by a short
 * placeholder, goes through the JSON store's own parser, so its metadata, its
 * syntax and any extra or duplicate key are judged exactly as always. Anything
 * else is null: the caller takes the general path, which reads (or rejects) it.
 */
import { entry, map, str } from "../core/tree.js"
import type { Branch } from "../core/tree.js"
import { ENC_PREFIX } from "../core/binary-value.js"
import type { EncryptedDocument, Store } from "./store.js"

/** Where the data field of a binary file's ENC value lies, and the rest of the file parsed. */
export interface LocatedBinaryValue {
    readonly doc: EncryptedDocument
    /** The data field's base64: input[dataStart, dataEnd). */
    readonly dataStart: number
    readonly dataEnd: number
    readonly iv: Uint8Array
    readonly tag: Uint8Array
}

// A JSON string's content that no sops value can be, standing in for the ENC value.
const PLACEHOLDER = "secrets:binary-value-placeholder"

const HEAD = /^[ \t\n\r]*\{[ \t\n\r]*"data"[ \t\n\r]*:[ \t\n\r]*"$/
// Go base64 fields as encryptValue writes them; the type must be `str`.
const SUFFIX = /^,iv:([A-Za-z0-9+/]+={0,2}),tag:([A-Za-z0-9+/]+={0,2}),type:str\]$/
const QUOTE = 0x22

/** Locate the ENC value of an encrypted binary file, or null when the file is not in the plain shape. */
export function locateBinaryValue(input: Uint8Array, store: Store): LocatedBinaryValue | null {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.length)
    // The opening quote of the first string after the top-level `{`, which must be the key "data".
    const keyEnd = buf.indexOf(QUOTE, buf.indexOf(QUOTE) + 1)
    if (keyEnd < 0) return null
    const valueStart = buf.indexOf(QUOTE, keyEnd + 1) + 1
    if (valueStart <= 0 || valueStart > 256 || !HEAD.test(buf.toString("latin1", 0, valueStart))) return null
    // The value ends at the first quote: an escaped one (\") leaves a backslash in
    // the data field, which its base64 check (binary-value.ts) refuses, and an
    // escape anywhere else fails the prefix or the suffix below. So no escape gets
    // through without a scan of its own over the whole value.
    const valueEnd = buf.indexOf(QUOTE, valueStart)
    if (valueEnd < 0) return null
    const dataStart = valueStart + ENC_PREFIX.length
    if (valueEnd < dataStart || buf.toString("latin1", valueStart, dataStart) !== ENC_PREFIX) return null
    // The fields after the data are short: found from the value's end. A ',iv:'
    // inside the data field would leave a comma in it, which its base64 check refuses.
    const dataEnd = buf.lastIndexOf(",iv:", valueEnd)
    if (dataEnd <= dataStart || valueEnd - dataEnd > 256) return null
    const suffix = SUFFIX.exec(buf.toString("latin1", dataEnd, valueEnd))
    if (suffix === null) return null
    const iv = Buffer.from(suffix[1] ?? "", "base64")
    const tag = Buffer.from(suffix[2] ?? "", "base64")
    if (iv.length === 0 || tag.length !== 16) return null

    const rest = Buffer.concat([buf.subarray(0, valueStart), Buffer.from(PLACEHOLDER, "latin1"), buf.subarray(valueEnd)])
    const doc = store.parseEncrypted(rest)
    if (!isPlaceholderOnly(doc.branches)) return null
    return { doc, dataStart, dataEnd, iv: new Uint8Array(iv), tag: new Uint8Array(tag) }
}

function isPlaceholderOnly(branches: readonly Branch[]): boolean {
    if (branches.length !== 1) return false
    const items = branches[0]?.items ?? []
    const only = items[0]
    return items.length === 1 && only?.kind === "entry" && only.key === "data" && only.value.kind === "str" && only.value.value === PLACEHOLDER
}

/** The emitted file around its data field: head, then the data's pieces, then tail. */
export interface BinaryFileFrame {
    readonly head: Uint8Array
    readonly tail: Uint8Array
}

/**
 * Emit an encrypted binary file whose ENC value's data field is left out: the
 * store writes the value with a placeholder there, and the bytes are split around
 * it. The caller writes head, the data's base64, tail.
 */
export function emitBinaryFrame(store: Store, metadata: EncryptedDocument["metadata"], encSuffixText: string): BinaryFileFrame {
    const value = `${ENC_PREFIX}${PLACEHOLDER}${encSuffixText}`
    const out = Buffer.from(store.emitEncrypted({ branches: [map(entry("data", str(value)))], metadata }))
    const at = out.indexOf(PLACEHOLDER)
    // The placeholder and the base64 around it are plain ASCII, which no JSON emitter escapes.
    if (at < 0 || out.indexOf(PLACEHOLDER, at + 1) !== -1) throw new Error("internal: the binary placeholder is not in the emitted file once")
    return { head: out.subarray(0, at), tail: out.subarray(at + PLACEHOLDER.length) }
}

