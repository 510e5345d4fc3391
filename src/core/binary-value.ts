/**
 * The value cipher for the one value of a binary file, on bytes instead of strings
 * (issue 14). A binary file's ENC value is 4/3 of the file, and V8 cannot make a
 * string of more than 512 MiB; here the ciphertext is base64 text in byte pieces,
 * made and read a few MiB at a time, so no whole-file string ever exists.
 *
 * The text is the one encryptValue writes and decryptValue reads (cipher.ts), for
 * a `str` value: `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:str]`. The
 * property tests hold the two paths to the same bytes.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from "node:crypto"
import { ExitCode, IntegrityError } from "../errors.js"

const TAG_SIZE = 16

/**
 * Plaintext bytes per piece: whole 3-byte groups, so the pieces' base64 joins
 * without padding. Small enough that each piece's base64 text is a young string
 * the next scavenge frees: with 3 MiB pieces their texts (external strings, freed
 * only by a full collection) added 60-70 MiB to the peak of a 100 MiB file.
 */
export const PLAIN_PIECE = 48 << 10
/** Base64 characters per piece on decrypt: whole 4-character groups, PLAIN_PIECE's worth. */
const TEXT_PIECE = (PLAIN_PIECE / 3) * 4

/** What comes before and after the data field in a `str` ENC string. */
export const ENC_PREFIX = "ENC[AES256_GCM,data:"

/** The text after the data field: `,iv:…,tag:…,type:str]`. */
export function encSuffix(iv: Uint8Array, tag: Uint8Array): string {
    return `,iv:${base64(iv)},tag:${base64(tag)},type:str]`
}

function base64(b: Uint8Array): string {
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64")
}

function algorithm(key: Uint8Array): CipherGCMTypes {
    // The same choice as cipher.ts's gcmAlgorithm (Go's aes.NewCipher by key length).
    if (key.length === 16) return "aes-128-gcm"
    if (key.length === 24) return "aes-192-gcm"
    if (key.length === 32) return "aes-256-gcm"
    throw new IntegrityError(`data key has ${key.length} bytes, expected 32`, [], ExitCode.ErrorDecryptingTree)
}

/** The encrypted value: the data field's base64 as ASCII bytes, and the tag. */
export interface SealedBytes {
    readonly data: Uint8Array
    readonly tag: Uint8Array
}

/**
 * AES-GCM of `plain` under `key`, `aad` and `iv`, with the ciphertext's base64 in
 * pieces. `each` sees every plaintext piece in order (the MAC hashes them). `plain`
 * must not be empty: sops writes an empty value as "" (encryptValue's isEmpty).
 */
export function encryptBytes(plain: Uint8Array, key: Uint8Array, aad: string, iv: Uint8Array, each?: (piece: Uint8Array) => void): SealedBytes {
    const cipher = createCipheriv(algorithm(key), key, iv, { authTagLength: TAG_SIZE })
    cipher.setAAD(Buffer.from(aad, "utf8"))
    // The base64 is written into one buffer of its final size: no piece list, and
    // no copy of each piece beside its text.
    const data = Buffer.allocUnsafe(Math.ceil(plain.length / 3) * 4)
    let filled = 0
    let carry: Buffer = Buffer.alloc(0)
    for (let at = 0; at < plain.length; at += PLAIN_PIECE) {
        const piece = plain.subarray(at, at + PLAIN_PIECE)
        each?.(piece)
        // GCM returns as many bytes as it is given; the carry keeps the pieces in
        // whole 3-byte groups even if it did not.
        let out = cipher.update(piece)
        if (carry.length > 0) out = Buffer.concat([carry, out])
        const whole = out.length - (out.length % 3)
        filled += data.write(out.subarray(0, whole).toString("base64"), filled, "latin1")
        carry = out.subarray(whole)
    }
    const last = Buffer.concat([carry, cipher.final()])
    if (last.length > 0) filled += data.write(last.toString("base64"), filled, "latin1")
    if (filled !== data.length) throw new Error("internal: the base64 of the binary value has the wrong length")
    return { data, tag: new Uint8Array(cipher.getAuthTag()) }
}

/**
 * How many bytes Go's standard base64 decoder would make of a piece of padded text
 * (a multiple of 4 characters; `last` when the text's end is in it), or -1 when the
 * piece has a character Node's lenient decoder reads as a digit but Go does not:
 * the URL-safe '-' and '_'. Every other foreign character (a '=' before the end, a
 * line break, a byte above 0x7f) makes Node skip or stop, so its output comes up
 * short of this count, and the caller compares the two: the same verdict as
 * BASE64_RE (enc-text.ts), held to it by a property test. The searches run on the
 * piece's text just made, in cache, not over the whole file.
 */
function expectedSize(text: string, last: boolean): number {
    if (text.includes("-") || text.includes("_")) return -1
    const pads = last ? (text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0) : 0
    return (text.length / 4) * 3 - pads
}

/**
 * Decrypt the base64 ciphertext at `src[start, end)` into plaintext pieces, `each`
 * seeing every piece in order. Null when the text is not valid base64 (the caller
 * takes the general path, which reports it); an IntegrityError (sops' exit 25, as
 * decryptValue) when the tag does not verify. Nothing is returned before the tag
 * is checked.
 */
export function decryptBase64(
    src: Uint8Array,
    start: number,
    end: number,
    key: Uint8Array,
    aad: string,
    iv: Uint8Array,
    tag: Uint8Array,
    each?: (piece: Uint8Array) => void,
): Uint8Array[] | null {
    if ((end - start) % 4 !== 0) return null
    const buf = Buffer.from(src.buffer, src.byteOffset, src.length)
    const decipher = createDecipheriv(algorithm(key), key, iv, { authTagLength: TAG_SIZE })
    decipher.setAAD(Buffer.from(aad, "utf8"))
    decipher.setAuthTag(tag)
    const plain: Uint8Array[] = []
    // Each piece's ciphertext is decoded into the same scratch buffer.
    const scratch = Buffer.allocUnsafe((TEXT_PIECE / 4) * 3)
    for (let at = start; at < end; at += TEXT_PIECE) {
        const text = buf.toString("latin1", at, Math.min(at + TEXT_PIECE, end))
        const n = scratch.write(text, 0, "base64")
        if (n !== expectedSize(text, at + TEXT_PIECE >= end)) return null
        const out = decipher.update(scratch.subarray(0, n))
        each?.(out)
        plain.push(out)
    }
    try {
        const tail = decipher.final()
        if (tail.length > 0) {
            each?.(tail)
            plain.push(tail)
        }
    } catch {
        throw new IntegrityError("could not decrypt value: authentication failed", [], ExitCode.ErrorDecryptingTree)
    }
    return plain
}
