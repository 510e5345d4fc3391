/**
 * The value cipher: one scalar or comment <-> one `ENC[AES256_GCM,…]` string
 * (sops-format.md §1, sops aes/cipher.go).
 *
 * AES-GCM with the 32-byte data key, a 32-byte random IV (sops' `nonceSize`; GCM
 * accepts any IV length and hashes long ones), the tag stored apart from the
 * ciphertext, and the value's path as additional data so that a value cannot be
 * moved to another key unnoticed.
 */
import { isAscii } from "node:buffer"
import { createCipheriv, createDecipheriv, createHash, randomFillSync, type CipherGCM } from "node:crypto"
import { ExitCode, FormatError, IntegrityError } from "../errors.js"
import type { Comment, Scalar } from "./tree.js"
import { base64Size, decodeBase64, decodeBase64Pieces, LARGE, splitEnc } from "./enc-text.js"
import { formatFloat, formatRfc3339, parseGoBool, parseGoFloat, parseGoInt, parseRfc3339 } from "./go-format.js"

/** The four fields of an ENC string, base64-decoded. */
export interface EncValue {
    readonly data: Uint8Array
    readonly iv: Uint8Array
    readonly tag: Uint8Array
    /** The `type:` tag as written (`str`, `int`, `float`, `bool`, `time`, `comment`, legacy `bytes`). */
    readonly type: string
}

/** The `type:` tags sops writes. */
export type TypeTag = "str" | "int" | "float" | "bool" | "time" | "comment"

/** A value the cipher handles: any non-null scalar, or a comment. */
export type Plain = Exclude<Scalar, { kind: "null" }> | Comment

const IV_SIZE = 32
const TAG_SIZE = 16

// A Uint8Array view of a Buffer's bytes, without copying them (callers and tests
// expect plain Uint8Arrays, not Buffers).
function asUint8Array(b: Buffer): Uint8Array {
    return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

function encodeBase64(b: Uint8Array): string {
    // A Buffer over the same bytes: Buffer.from(b) would copy a 100 MiB value first.
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64")
}

function malformed(): FormatError {
    // Never echo the input: a malformed value may be a plaintext secret (sops prints it).
    return new FormatError("value does not match sops' data format", [], ExitCode.ErrorDecryptingTree)
}

/** Parse an ENC string, or null when the text does not match sops' format at all. */
export function parseEnc(s: string): EncValue | null {
    const fields = splitEnc(s)
    if (fields === null) return null
    const [data, iv, tag, type] = fields
    const d = decodeBase64(data)
    const i = decodeBase64(iv)
    const t = decodeBase64(tag)
    if (d === null || i === null || t === null) return null
    return { data: asUint8Array(d), iv: asUint8Array(i), tag: asUint8Array(t), type }
}

/** The ENC string for a value, in sops' field order. */
export function formatEnc(v: EncValue): string {
    return `ENC[AES256_GCM,data:${encodeBase64(v.data)},iv:${encodeBase64(v.iv)},tag:${encodeBase64(v.tag)},type:${v.type}]`
}

/** The `type:` tag sops writes for a value. Bytes are strings to sops. */
export function typeTag(v: Scalar | Comment): TypeTag {
    if (v.kind === "null") throw nullValue()
    return v.kind === "bytes" ? "str" : v.kind
}

// Nulls are never walked (sops skips nil leaves), so one reaching the cipher is a bug.
function nullValue(): FormatError {
    return new FormatError("a null value has no plaintext")
}

const utf8 = new TextEncoder()

/**
 * sops' `ToBytes` before encoding: the text whose UTF-8 the cipher encrypts and the
 * MAC hashes, or the bytes themselves. Floats use Go's `'f'` format, bools are
 * Titlecase (a python-sops legacy), times their RFC 3339 text, comments their text
 * without `#`. Node's hash and cipher take the text as is (`update(text, "utf8")`,
 * which encodes lone surrogates as U+FFFD like TextEncoder): encoding every value
 * into a new array first was a tenth of a 100k-value decrypt's time (issue 14).
 */
export function valueToText(v: Scalar | Comment): string | Uint8Array {
    switch (v.kind) {
        case "null":
            throw nullValue()
        case "str":
        case "time":
            return v.value
        case "bytes":
            return v.value
        case "int":
            return v.value.toString()
        case "float":
            return formatFloat(v.value, "f")
        case "bool":
            return v.value ? "True" : "False"
        case "comment":
            return v.text
    }
}

/** sops' `ToBytes`: valueToText, encoded. */
export function valueToBytes(v: Scalar | Comment): Uint8Array {
    const t = valueToText(v)
    return typeof t === "string" ? utf8.encode(t) : t
}

// ignoreBOM keeps a leading U+FEFF: without it the decoder drops it, and a value that
// starts with one (a binary file with a BOM) came back shorter and failed its MAC.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

function badPlaintext(type: string): FormatError {
    return new FormatError(`decrypted value is not a valid ${type}`, [], ExitCode.ErrorDecryptingTree)
}

/**
 * The typed value for decrypted bytes, with Go's parsers (`Atoi`, `ParseFloat`,
 * `ParseBool`, `time.UnmarshalText`). A `time` comes back as Go's `MarshalText` of
 * the parsed time, which is what sops hashes and re-encrypts.
 */
export function bytesToValue(type: string, b: Uint8Array): Plain {
    if (type === "bytes") return { kind: "bytes", value: b }
    let text: string
    try {
        // ASCII (nearly every value) is the same text in Latin-1, which Node copies
        // out in one call; the fatal decoder cost a microsecond a value.
        const buf = Buffer.from(b.buffer, b.byteOffset, b.length)
        text = isAscii(buf) ? buf.toString("latin1") : strictUtf8.decode(b)
    } catch {
        if (type === "str") return { kind: "bytes", value: b }
        throw badPlaintext(type)
    }
    switch (type) {
        case "str":
            return { kind: "str", value: text }
        case "int": {
            const v = parseGoInt(text)
            if (v === null) throw badPlaintext(type)
            return { kind: "int", value: v }
        }
        case "float": {
            const v = parseGoFloat(text)
            if (v === null) throw badPlaintext(type)
            return { kind: "float", value: v }
        }
        case "bool": {
            const v = parseGoBool(text)
            if (v === null) throw badPlaintext(type)
            return { kind: "bool", value: v }
        }
        case "time": {
            const t = parseRfc3339(text)
            if (t === null) throw badPlaintext(type)
            return { kind: "time", value: formatRfc3339(t, true) }
        }
        case "comment":
            return { kind: "comment", text }
        default: {
            // The tag is file structure, not a secret, but a malformed file could put
            // anything there; name it only when it looks like a tag.
            const shown = /^[a-z0-9_]{1,16}$/.test(type) ? ` ${type}` : ""
            throw new FormatError(`unknown datatype${shown}`, [], ExitCode.ErrorDecryptingTree)
        }
    }
}

function gcmAlgorithm(key: Uint8Array): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
    // Go's aes.NewCipher picks AES-128/192/256 by key length; sops always makes 32 bytes.
    switch (key.length) {
        case 16:
            return "aes-128-gcm"
        case 24:
            return "aes-192-gcm"
        case 32:
            return "aes-256-gcm"
        default:
            throw new FormatError(`data key has ${key.length} bytes, expected 32`)
    }
}

/**
 * Remembers the IV of every value decrypted, keyed by (AAD, type tag, plaintext),
 * so that re-encrypting an unchanged value at the same path yields the same ENC
 * string and an edit only changes the lines it touched (sops' cipher "stash").
 * Keys are SHA-256 digests so the map holds no plaintext.
 */
export class IvStash {
    readonly #ivs = new Map<string, Uint8Array>()

    static #key(aad: string, v: Scalar | Comment): string {
        // Each part is framed by its 64-bit big-endian byte length. Strings are hashed
        // without being encoded into new arrays first: this runs once per value of a
        // file on every decrypt, and the allocations showed up in profiles.
        const h = createHash("sha256")
        const len = Buffer.allocUnsafe(8)
        const frame = (n: number) => {
            len.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 0)
            len.writeUInt32BE(n >>> 0, 4)
            h.update(len)
        }
        const tag = typeTag(v)
        frame(Buffer.byteLength(aad, "utf8"))
        h.update(aad, "utf8")
        frame(Buffer.byteLength(tag, "utf8"))
        h.update(tag, "utf8")
        const t = valueToText(v)
        if (typeof t === "string") {
            frame(Buffer.byteLength(t, "utf8"))
            h.update(t, "utf8")
        } else {
            frame(t.length)
            h.update(t)
        }
        return h.digest("hex")
    }

    // Values remembered but not hashed yet. Hashing every value on every decrypt cost
    // as much as decrypting it (a SHA-256 pass over a 100 MiB file; a hash object per
    // value of a 100k-value file), and most commands never ask: the first lookup
    // hashes them, in order, so a later duplicate still wins. Until then the list
    // holds the same value objects as the decrypted tree, no copies.
    // The IV may be its base64 text, decoded here: a decrypt then keeps a slice of
    // the ENC string it read rather than a new array per value.
    #pending: [string, Scalar | Comment, Uint8Array | string][] = []

    remember(aad: string, v: Scalar | Comment, iv: Uint8Array | string): void {
        this.#pending.push([aad, v, iv])
    }

    #settle(): void {
        for (const [aad, v, iv] of this.#pending) {
            this.#ivs.set(IvStash.#key(aad, v), typeof iv === "string" ? asUint8Array(Buffer.from(iv, "base64")) : iv)
        }
        this.#pending = []
    }

    lookup(aad: string, v: Scalar | Comment): Uint8Array | undefined {
        if (this.#pending.length > 0) this.#settle()
        return this.#ivs.get(IvStash.#key(aad, v))
    }

    get size(): number {
        if (this.#pending.length > 0) this.#settle()
        return this.#ivs.size
    }
}

function isEmpty(v: Scalar | Comment): boolean {
    if (v.kind === "str") return v.value === ""
    if (v.kind === "bytes") return v.value.length === 0
    if (v.kind === "comment") return v.text === ""
    return false
}

/**
 * Encrypt one value under `aad`. Empty strings, bytes and comments stay `""`:
 * sops never encrypts them (so emptiness is visible in the file). The IV is, in
 * order of preference, `iv`, the stash's IV for this exact value and path, or 32
 * fresh random bytes.
 */
export function encryptValue(value: Scalar | Comment, key: Uint8Array, aad: string, iv?: Uint8Array, stash?: IvStash): string {
    if (isEmpty(value)) return ""
    const nonce = iv ?? stash?.lookup(aad, value) ?? freshIv()
    const cipher = createCipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: TAG_SIZE })
    cipher.setAAD(aadBytes(aad))
    const text = valueToText(value)
    let head: Buffer
    if (typeof text === "string" && text.length * 3 < LARGE) {
        // A short text goes to the cipher as is: no array per value.
        head = cipher.update(text, "utf8")
    } else {
        const plain = typeof text === "string" ? utf8.encode(text) : text
        if (plain.length >= LARGE) return encryptLarge(cipher, plain, nonce, typeTag(value))
        head = cipher.update(plain)
    }
    // GCM's final() returns no bytes; concatenating would copy a large value once more.
    const tail = cipher.final()
    const data = tail.length === 0 ? head : Buffer.concat([head, tail])
    const tag = cipher.getAuthTag()
    // Joined, not concatenated: `+` or a template literal leaves a tree of cons
    // strings (~470 bytes a value, 47 MB of heap at 100k values until the file is
    // written); join() makes one flat string of the ENC text's own size.
    const parts = ENC_PARTS
    parts[1] = data.toString("base64")
    parts[3] = encodeBase64(nonce)
    parts[5] = tag.toString("base64")
    parts[7] = typeTag(value)
    const enc = parts.join("")
    parts[1] = parts[3] = parts[5] = parts[7] = ""
    return enc
}

const ENC_PARTS = ["ENC[AES256_GCM,data:", "", ",iv:", "", ",tag:", "", ",type:", "", "]"]

// Fresh IVs are cut from one random block of 256: a randomBytes call per value was
// a syscall and a Buffer each. Each 32-byte slot comes from the same CSPRNG
// (randomFillSync is randomBytes into a given buffer), is handed out once, and a
// used block is never refilled (a new one is made), so IVs stay independent and
// unique as before. The slot is only read by createCipheriv and the ENC text.
const IVS_PER_BLOCK = 256
let ivBlock = Buffer.alloc(0)
let ivNext = 0

function freshIv(): Uint8Array {
    if (ivNext + IV_SIZE > ivBlock.length) {
        ivBlock = randomFillSync(Buffer.allocUnsafeSlow(IV_SIZE * IVS_PER_BLOCK))
        ivNext = 0
    }
    const iv = ivBlock.subarray(ivNext, ivNext + IV_SIZE)
    ivNext += IV_SIZE
    return iv
}

// One scratch buffer for what the native cipher copies at once and never keeps:
// the AAD's bytes, and on decrypt the IV, tag and ciphertext of a small value.
// Fresh arrays for these were most of the garbage of a 100k-value file.
let scratch = Buffer.allocUnsafeSlow(1 << 16)

function scratchOf(size: number): Buffer {
    if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2))
    return scratch
}

/** `aad`'s UTF-8 in the scratch buffer (valid until the next use of it). */
function aadBytes(aad: string): Buffer {
    const b = scratchOf(aad.length * 3)
    return b.subarray(0, b.write(aad, 0, "utf8"))
}

/**
 * encryptValue for a large value: the ciphertext is made and base64-encoded a few
 * MiB at a time and joined once into the ENC string, so a 100 MiB file is never held
 * as ciphertext, as base64 and as the ENC string all at once.
 */
function encryptLarge(cipher: CipherGCM, plain: Uint8Array, nonce: Uint8Array, type: TypeTag): string {
    const step = 3 << 20 // whole 3-byte groups, so the pieces' base64 joins without padding
    const pieces = ["ENC[AES256_GCM,data:"]
    let carry: Buffer = Buffer.alloc(0)
    for (let at = 0; at < plain.length; at += step) {
        // GCM is a stream mode: update() returns as many bytes as it is given, but
        // the carry keeps the pieces in whole groups even if it did not.
        let out = cipher.update(plain.subarray(at, at + step))
        if (carry.length > 0) out = Buffer.concat([carry, out])
        const whole = out.length - (out.length % 3)
        pieces.push(encodeBase64(out.subarray(0, whole)))
        carry = out.subarray(whole)
    }
    const tail = cipher.final()
    pieces.push(encodeBase64(Buffer.concat([carry, tail])))
    pieces.push(`,iv:${encodeBase64(nonce)},tag:${encodeBase64(cipher.getAuthTag())},type:${type}]`)
    return pieces.join("")
}

/**
 * Decrypt one ENC string under `aad`. `""` is the empty string. A string that is
 * not an ENC value is a FormatError; a failed tag (wrong key, wrong path, edited
 * ciphertext) is an IntegrityError with sops's exit 25, ErrorDecryptingTree: sops
 * keeps 51 for the MAC, and openMac (mac.ts) turns a failure there into 51.
 * Neither message quotes the input. With a stash, the IV is remembered for
 * re-encryption.
 */
export function decryptValue(enc: string, key: Uint8Array, aad: string, stash?: IvStash): Plain {
    if (enc === "") return { kind: "str", value: "" }
    if (enc.length >= LARGE) return decryptLarge(enc, key, aad, stash)
    const m = PLAIN_ENC.exec(enc)
    if (m !== null) return decryptPlainShape(m, key, aad, stash)
    const parsed = parseEnc(enc)
    if (parsed === null) throw malformed()
    if (parsed.iv.length === 0 || parsed.tag.length !== TAG_SIZE) throw malformed()
    let plain: Uint8Array
    try {
        const decipher = createDecipheriv(gcmAlgorithm(key), key, parsed.iv, { authTagLength: TAG_SIZE })
        decipher.setAAD(utf8.encode(aad))
        decipher.setAuthTag(parsed.tag)
        const head = decipher.update(parsed.data)
        // GCM's final() only checks the tag and returns no bytes; skip the copy then.
        const tail = decipher.final()
        plain = asUint8Array(tail.length === 0 ? head : Buffer.concat([head, tail]))
    } catch (e) {
        if (e instanceof FormatError) throw e
        throw new IntegrityError("could not decrypt value: authentication failed", [], ExitCode.ErrorDecryptingTree)
    }
    const value = bytesToValue(parsed.type, plain)
    stash?.remember(aad, value, parsed.iv)
    return value
}

const B64 = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"

/**
 * An ENC string as encryptValue writes it: three non-empty fields of strict base64
 * (Go's StdEncoding, no line breaks) and a type, with no comma or line terminator
 * anywhere but the three separators and nothing after the "]". Then sops' greedy
 * regex can only split it here, and each field is valid base64 as decodeBase64
 * judges it; any other text takes parseEnc's general path. A property test holds
 * the two paths to the same results.
 */
const PLAIN_ENC = new RegExp(
    `^ENC\\[AES256_GCM,data:(?=[^,])(${B64}),iv:(?=[^,])(${B64}),tag:(?=[^,])(${B64}),type:([^,\\n\\r\\u2028\\u2029]+)\\]$`,
)

/** The number of bytes valid base64 text decodes to. */
function decodedSize(b64: string): number {
    const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0
    return (b64.length / 4) * 3 - pad
}

/**
 * decryptValue for a PLAIN_ENC match: the fields are decoded into the scratch
 * buffer (the cipher copies IV and tag, and reads the ciphertext once), and the
 * stash keeps the IV's text. Checks and errors are decryptValue's.
 */
function decryptPlainShape(m: RegExpExecArray, key: Uint8Array, aad: string, stash?: IvStash): Plain {
    const data = m[1] ?? ""
    const ivText = m[2] ?? ""
    const tagText = m[3] ?? ""
    const type = m[4] ?? ""
    const dataSize = decodedSize(data)
    const ivSize = decodedSize(ivText)
    if (decodedSize(tagText) !== TAG_SIZE) throw malformed()
    const b = scratchOf(dataSize + ivSize + TAG_SIZE + aad.length * 3)
    b.write(data, 0, dataSize, "base64")
    b.write(ivText, dataSize, ivSize, "base64")
    b.write(tagText, dataSize + ivSize, TAG_SIZE, "base64")
    const aadEnd = dataSize + ivSize + TAG_SIZE
    const aadSize = b.write(aad, aadEnd, "utf8")
    let plain: Buffer
    try {
        const decipher = createDecipheriv(gcmAlgorithm(key), key, b.subarray(dataSize, dataSize + ivSize), { authTagLength: TAG_SIZE })
        decipher.setAAD(b.subarray(aadEnd, aadEnd + aadSize))
        decipher.setAuthTag(b.subarray(dataSize + ivSize, aadEnd))
        const head = decipher.update(b.subarray(0, dataSize))
        const tail = decipher.final()
        plain = tail.length === 0 ? head : Buffer.concat([head, tail])
    } catch (e) {
        if (e instanceof FormatError) throw e
        throw new IntegrityError("could not decrypt value: authentication failed", [], ExitCode.ErrorDecryptingTree)
    }
    const value = bytesToValue(type, asUint8Array(plain))
    stash?.remember(aad, value, ivText)
    return value
}

/**
 * decryptValue for a large ENC string: the ciphertext is base64-decoded and
 * decrypted a few MiB at a time into the plaintext's buffer, so it is never whole in
 * memory. The checks and errors are decryptValue's, in the same order.
 */
function decryptLarge(enc: string, key: Uint8Array, aad: string, stash?: IvStash): Plain {
    const fields = splitEnc(enc)
    if (fields === null) throw malformed()
    const [data, ivText, tagText, type] = fields
    const iv = decodeBase64(ivText)
    const tag = decodeBase64(tagText)
    if (iv === null || tag === null || iv.length === 0 || tag.length !== TAG_SIZE) throw malformed()
    if (data.length % 4 !== 0) throw malformed()
    const plain = Buffer.allocUnsafe(base64Size(data))
    let filled = 0
    let ok: boolean
    try {
        const decipher = createDecipheriv(gcmAlgorithm(key), key, iv, { authTagLength: TAG_SIZE })
        decipher.setAAD(utf8.encode(aad))
        decipher.setAuthTag(tag)
        ok = decodeBase64Pieces(data, (bytes) => {
            filled += decipher.update(bytes).copy(plain, filled)
        })
        if (ok) filled += decipher.final().copy(plain, filled)
    } catch (e) {
        if (e instanceof FormatError) throw e
        throw new IntegrityError("could not decrypt value: authentication failed", [], ExitCode.ErrorDecryptingTree)
    }
    // Invalid base64 is malformed before it is unauthentic, as in decryptValue.
    if (!ok) throw malformed()
    const value = bytesToValue(type, asUint8Array(plain.subarray(0, filled)))
    stash?.remember(aad, value, asUint8Array(iv))
    return value
}
