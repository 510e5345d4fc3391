/**
 * Opening a sops data-key block with a native X25519 identity using only
 * `node:crypto`, the common case of every `secrets decrypt`.
 *
 * Why not always typage: its Decrypter reads through web streams and runs X25519
 * and ChaCha20-Poly1305 in JavaScript, about 20 ms of a 100 ms start-up
 * (docs/benchmarks.md); OpenSSL does the same work in well under a millisecond.
 *
 * This is a fast path, not a second age implementation: it handles exactly
 * one shape (a v1 header whose X25519 stanzas are canonical, and a payload of a
 * single STREAM chunk, which is what a 32-byte data key or a 33-byte Shamir share
 * is) and returns `undefined` for anything else, including every malformed or
 * unusual file, so that typage decides and reports it with its own checks. A
 * result is returned only after the stanza, the header MAC and the payload tag
 * all authenticated; an authentic-stanza-but-bad-MAC file is reported as tampered,
 * as typage would.
 *
 * Spec: https://age-encryption.org/v1 (X25519 recipient stanza, header MAC,
 * payload STREAM with 64 KiB chunks and a 12-byte nonce of an 11-byte big-endian
 * counter and a last-chunk flag).
 */
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, timingSafeEqual, type KeyObject } from "node:crypto"

import { IntegrityError } from "../errors.js"
import { bech32Decode, bech32Encode } from "./bech32.js"
import { hkdfSha256To32, x25519PublicKeyFromRaw } from "./x25519-cheap.js"

const VERSION_LINE = "age-encryption.org/v1\n"
const X25519_INFO = "age-encryption.org/v1/X25519"
/** PKCS#8 and SPKI DER prefixes for a raw 32-byte X25519 key (RFC 8410). */
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex")
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex")
const TAG = 16
const CHUNK = 64 * 1024

/** One native identity, decoded once per run. */
interface NativeX25519 {
    readonly privateKey: KeyObject
    readonly publicKey: Uint8Array
}

/**
 * Try to open `file` (the de-armored age file) with the `AGE-SECRET-KEY-1…`
 * strings among `identities`. Returns the payload, or `undefined` when this path
 * cannot decide (no native identity matched, or the file is not the simple shape).
 */
export function unwrapNativeX25519(file: Uint8Array, identities: readonly unknown[]): Uint8Array | undefined {
    const natives = identities.filter((id): id is string => typeof id === "string" && id.startsWith("AGE-SECRET-KEY-1"))
    if (natives.length === 0) return undefined
    const header = parseHeader(file)
    if (header === undefined) return undefined
    for (const stanza of header.stanzas) {
        if (stanza.type !== "X25519") continue
        for (const text of natives) {
            const id = decodeIdentity(text)
            if (id === undefined) return undefined
            const fileKey = unwrapStanza(id, stanza.share, stanza.body)
            if (fileKey === undefined) continue
            return openPayload(file, header, fileKey)
        }
    }
    return undefined
}

/**
 * Unwrap a file key from typage's stanzas with one `AGE-SECRET-KEY-1…` identity,
 * for an identity object that learns its key only when asked (a passphrase-
 * protected ed25519 SSH key's X25519 twin, ssh-lazy.ts). Null when no X25519
 * stanza is for this key; typage has checked the stanzas' shape already.
 */
export function unwrapX25519Stanzas(identity: string, stanzas: readonly { readonly args: readonly string[]; readonly body: Uint8Array }[]): Uint8Array | null {
    const id = decodeIdentity(identity)
    if (id === undefined) return null
    for (const s of stanzas) {
        if (s.args[0] !== "X25519" || s.args.length !== 2 || s.body.length !== 32) continue
        const share = canonicalBase64(s.args[1])
        if (share?.length !== 32) continue
        const fileKey = unwrapStanza(id, share, s.body)
        if (fileKey !== undefined) return fileKey
    }
    return null
}

/**
 * The `age1…` recipient of an `AGE-SECRET-KEY-1…` identity, or undefined when the
 * text is not one (the caller then asks typage, which words the error). encrypt's
 * "could you decrypt the result?" check derives it for every identity held, and
 * typage's version loads its post-quantum and curve code for it.
 */
export function x25519RecipientOfIdentity(identity: string): string | undefined {
    if (!identity.startsWith("AGE-SECRET-KEY-1")) return undefined
    const id = decodeIdentity(identity)
    return id === undefined ? undefined : bech32Encode("age", id.publicKey)
}

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----\n"
const ARMOR_END = "-----END AGE ENCRYPTED FILE-----"

/**
 * The armor exactly as age and sops write it: the BEGIN line, padded standard
 * base64 in 64-column lines, the END line, an optional final newline. Returns
 * undefined for any other spelling; typage's armor.decode then decides.
 */
export function dearmorStrict(enc: string): Uint8Array | undefined {
    if (!enc.startsWith(ARMOR_BEGIN)) return undefined
    const endAt = enc.indexOf(ARMOR_END, ARMOR_BEGIN.length)
    const tail = endAt < 0 ? "" : enc.slice(endAt + ARMOR_END.length)
    if (endAt < 0 || (tail !== "" && tail !== "\n")) return undefined
    const body = enc.slice(ARMOR_BEGIN.length, endAt)
    const b64 = body.replaceAll("\n", "")
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined
    const bytes = Buffer.from(b64, "base64")
    const lines = b64.match(/.{1,64}/g) ?? []
    return body === lines.join("\n") + "\n" ? new Uint8Array(bytes) : undefined
}

interface Stanza {
    readonly type: string
    readonly share: Uint8Array
    readonly body: Uint8Array
}

interface Header {
    readonly stanzas: readonly Stanza[]
    /** Bytes covered by the header MAC: from the start through `---`. */
    readonly macInput: Uint8Array
    readonly mac: Uint8Array
    /** Where the payload (nonce, then chunks) starts. */
    readonly payloadStart: number
}

/**
 * A strict reading of the header: every line and stanza as the spec writes them,
 * base64 canonical and unpadded. Anything else is left to typage.
 */
function parseHeader(file: Uint8Array): Header | undefined {
    const end = indexOf(file, "\n--- ")
    if (end < 0) return undefined
    const macLineEnd = file.indexOf(0x0a, end + 5)
    if (macLineEnd < 0) return undefined
    const text = Buffer.from(file.subarray(0, end + 1)).toString("latin1")
    if (!text.startsWith(VERSION_LINE)) return undefined
    const lines = text.slice(VERSION_LINE.length).split("\n")
    lines.pop() // the empty string after the final "\n"
    const stanzas: Stanza[] = []
    for (let i = 0; i < lines.length; ) {
        const args = (lines[i] ?? "").split(" ")
        if (args[0] !== "->" || args.length < 2) return undefined
        i++
        // A body is 64-column lines ending with a shorter (possibly empty) line.
        let body = ""
        for (;;) {
            const line = lines[i++]
            if (line === undefined || line.length > 64) return undefined
            body += line
            if (line.length < 64) break
        }
        const type = args[1] ?? ""
        // An scrypt stanza must be alone in its file: typage enforces that, not us.
        if (type === "scrypt") return undefined
        if (type !== "X25519") {
            stanzas.push({ type, share: new Uint8Array(0), body: new Uint8Array(0) })
            continue
        }
        const share = canonicalBase64(args[2])
        const decoded = canonicalBase64(body)
        if (args.length !== 3 || share?.length !== 32 || decoded?.length !== 32) return undefined
        stanzas.push({ type, share, body: decoded })
    }
    const mac = canonicalBase64(Buffer.from(file.subarray(end + 5, macLineEnd)).toString("latin1"))
    if (mac?.length !== 32) return undefined
    return { stanzas, macInput: file.subarray(0, end + 4), mac, payloadStart: macLineEnd + 1 }
}

/**
 * Identities decoded once per run: a re-key of a thousand files tries the same
 * one or two identities on every stanza of every file, and importing a private
 * key costs more than the X25519 itself. The cache holds what the caller's
 * identity strings already hold, in this process only.
 */
const decoded = new Map<string, NativeX25519 | undefined>()

function decodeIdentity(text: string): NativeX25519 | undefined {
    if (decoded.has(text)) return decoded.get(text)
    const d = bech32Decode(text)
    let id: NativeX25519 | undefined
    if (d !== null && d.hrp === "age-secret-key-" && d.bytes.length === 32) {
        const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, d.bytes]), format: "der", type: "pkcs8" })
        const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" })
        id = { privateKey, publicKey: spki.subarray(SPKI_X25519.length) }
    }
    // Bounded: a long-lived process (the Node API, op sync --watch) sees few identities, but never grows without limit.
    if (decoded.size >= 64) decoded.clear()
    decoded.set(text, id)
    return id
}

/** The X25519 stanza: ECDH, HKDF to a wrap key, ChaCha20-Poly1305 of the file key. */
function unwrapStanza(id: NativeX25519, share: Uint8Array, body: Uint8Array): Uint8Array | undefined {
    const ephemeral = x25519PublicKeyFromRaw(share)
    let shared: Buffer
    try {
        shared = diffieHellman({ privateKey: id.privateKey, publicKey: ephemeral })
    } catch {
        return undefined // a low-order share: typage rejects it with its own message
    }
    if (shared.every((b) => b === 0)) return undefined
    const salt = Buffer.concat([share, id.publicKey])
    const wrapKey = hkdfSha256To32(shared, salt, X25519_INFO)
    // Not our stanza when it does not authenticate: the spec says try the next one.
    return chachaOpen(wrapKey, new Uint8Array(12), body)
}

function openPayload(file: Uint8Array, header: Header, fileKey: Uint8Array): Uint8Array | undefined {
    const hmacKey = hkdfSha256To32(fileKey, new Uint8Array(0), "header")
    const mac = createHmac("sha256", hmacKey).update(header.macInput).digest()
    if (!timingSafeEqual(mac, header.mac)) throw new IntegrityError("age header MAC mismatch: the encrypted data key was altered")
    const nonce = file.subarray(header.payloadStart, header.payloadStart + 16)
    const chunk = file.subarray(header.payloadStart + 16)
    // One final chunk only: longer payloads (never a data key) go to typage.
    if (nonce.length !== 16 || chunk.length <= TAG || chunk.length > CHUNK + TAG) return undefined
    const payloadKey = hkdfSha256To32(fileKey, nonce, "payload")
    const streamNonce = new Uint8Array(12)
    streamNonce[11] = 1 // counter 0, last chunk
    const plain = chachaOpen(payloadKey, streamNonce, chunk)
    if (plain === undefined) throw new IntegrityError("age payload does not authenticate: the encrypted data key was altered")
    return plain
}

function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < TAG) return undefined
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG })
    d.setAuthTag(sealed.subarray(sealed.length - TAG))
    const head = d.update(sealed.subarray(0, sealed.length - TAG))
    try {
        return new Uint8Array(Buffer.concat([head, d.final()]))
    } catch {
        return undefined
    }
}

/** Standard base64 without padding, and only its canonical spelling (age rejects the rest). */
function canonicalBase64(s: string | undefined): Uint8Array | undefined {
    if (s === undefined || !/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return undefined
    const bytes = Buffer.from(s, "base64")
    return bytes.toString("base64").replace(/=+$/, "") === s ? new Uint8Array(bytes) : undefined
}

function indexOf(haystack: Uint8Array, needle: string): number {
    return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle, 0, "latin1")
}
