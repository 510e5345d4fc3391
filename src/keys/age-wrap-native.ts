/**
 * Writing the age file of a sops data-key block with `node:crypto`, the write-side
 * twin of age-x25519-native.ts: every `encrypt`, `updatekeys`, `rotate` and fleet
 * re-key wraps one data key per recipient.
 *
 * Why not typage's Encrypter: given bytes, it collects its output with
 * `new Response(stream)`, which makes Node compile its whole fetch stack (undici),
 * and it runs X25519, HKDF and ChaCha20-Poly1305 in JavaScript; together about a
 * third of a small `encrypt` (docs/benchmarks.md, issue 14). OpenSSL does the same
 * work in microseconds.
 *
 * What it writes is what age and typage write (https://age-encryption.org/v1):
 * the version line; per stanza `-> ARGS` and the body in unpadded base64 lines of
 * 48 bytes, with an empty line after a body whose length is a multiple of 48; `---`
 * and the header MAC (HMAC-SHA256 under HKDF(file key, "header")); then a 16-byte
 * nonce and the payload in STREAM chunks of 64 KiB (ChaCha20-Poly1305 under
 * HKDF(file key, nonce, "payload"), nonce = 11-byte big-endian counter and a
 * last-chunk flag). The file key is 16 fresh random bytes per file. The stanzas come
 * from the recipient types: X25519 here, ssh-ed25519 and ssh-rsa from ssh.ts.
 */
import { createCipheriv, createHmac, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto"

import { FormatError } from "../errors.js"
import { hkdfSha256To32, x25519PublicKeyFromRaw } from "./x25519-cheap.js"

/** One recipient stanza: its arguments (type first) and its body. typage's Stanza has this shape. */
export interface StanzaParts {
    readonly args: readonly string[]
    readonly body: Uint8Array
}

const VERSION_LINE = "age-encryption.org/v1\n"
const X25519_INFO = "age-encryption.org/v1/X25519"
const CHUNK = 64 * 1024

/** A new random file key: one per age file, never reused. */
export function newFileKey(): Uint8Array {
    return new Uint8Array(randomBytes(16))
}

/**
 * The age file for `payload`, whose header holds `stanzas` (each made with
 * `fileKey`). Binary, as `age -e` writes it; see armorAgeFile.
 */
export function sealAgeFile(stanzas: readonly StanzaParts[], fileKey: Uint8Array, payload: Uint8Array): Uint8Array {
    let header = VERSION_LINE
    for (const s of stanzas) {
        header += `-> ${s.args.join(" ")}\n`
        for (let i = 0; i < s.body.length; i += 48) header += `${noPad(s.body.subarray(i, i + 48))}\n`
        // A body line shorter than 48 bytes ends the body; a full last line needs an empty one after it.
        if (s.body.length % 48 === 0) header += "\n"
    }
    header += "---"
    const hmacKey = hkdfSha256To32(fileKey, new Uint8Array(0), "header")
    const mac = createHmac("sha256", hmacKey).update(header, "latin1").digest()
    const nonce = randomBytes(16)
    const payloadKey = hkdfSha256To32(fileKey, nonce, "payload")
    const parts: Uint8Array[] = [Buffer.from(`${header} ${noPad(mac)}\n`, "latin1"), nonce]
    // The last chunk is flagged; it is empty only when the whole payload is.
    const chunks = Math.max(1, Math.ceil(payload.length / CHUNK))
    for (let i = 0; i < chunks; i++) {
        const streamNonce = Buffer.alloc(12)
        streamNonce.writeUIntBE(i, 5, 6)
        if (i === chunks - 1) streamNonce[11] = 1
        parts.push(chachaSeal(payloadKey, streamNonce, payload.subarray(i * CHUNK, (i + 1) * CHUNK)))
    }
    return new Uint8Array(Buffer.concat(parts))
}

/**
 * The armor exactly as sops stores it (and typage's armor.encode writes it): BEGIN
 * line, padded standard base64 in 64-column lines, END line, final newline.
 */
export function armorAgeFile(file: Uint8Array): string {
    const b64 = Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString("base64")
    let out = "-----BEGIN AGE ENCRYPTED FILE-----\n"
    for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`
    return `${out}-----END AGE ENCRYPTED FILE-----\n`
}

let basePointKey: KeyObject | undefined
/** X25519's base point (u = 9) as a public KeyObject, made once. */
function basePoint(): KeyObject {
    basePointKey ??= x25519PublicKeyFromRaw(Uint8Array.of(9, ...new Array<number>(31).fill(0)))
    return basePointKey
}

/** Recipients' public keys as KeyObjects, decoded once per run: a fleet re-key wraps for the same few thousands of times. */
const recipientKeys = new Map<string, KeyObject>()

/**
 * The X25519 stanza for the 32-byte public key `theirs`: an ephemeral key pair, ECDH,
 * HKDF-SHA256 (salt = ephemeral share || their key) to a wrap key, and the file key
 * sealed with ChaCha20-Poly1305 under a zero nonce. `shown` names the recipient in
 * the error for a low-order key (public, so it may be quoted).
 */
export function x25519Stanza(theirs: Uint8Array, fileKey: Uint8Array, shown: string): StanzaParts {
    const cacheKey = Buffer.from(theirs).toString("hex")
    let theirKey = recipientKeys.get(cacheKey)
    if (theirKey === undefined) {
        theirKey = x25519PublicKeyFromRaw(theirs)
        recipientKeys.set(cacheKey, theirKey)
    }
    const ephemeral = generateKeyPairSync("x25519")
    // The ephemeral share is X25519(secret, 9), computed as an ECDH with the base
    // point, never exported from the key pair: Node 20 deadlocks exporting a key that
    // generateKeyPairSync made (the JWK export holds the key's mutex while it builds
    // the JS object; a GC in that allocation finalises the finished key-generation
    // job, whose destructor takes the same mutex), which hung a write about once in a
    // hundred runs, and at once under GC pressure (test/unit/keys/wrap-under-gc.test.ts).
    const share = new Uint8Array(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: basePoint() }))
    let shared: Buffer
    try {
        shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: theirKey })
    } catch {
        shared = Buffer.alloc(32) // OpenSSL refuses an all-zero result: a low-order point
    }
    // age refuses a low-order recipient: anyone could compute the shared secret.
    if (shared.every((b) => b === 0)) throw new FormatError(`invalid age recipient ${JSON.stringify(shown)}: low-order key`)
    const wrapKey = hkdfSha256To32(shared, Buffer.concat([share, theirs]), X25519_INFO)
    return { args: ["X25519", noPad(share)], body: chachaSeal(wrapKey, new Uint8Array(12), fileKey) }
}

/** ChaCha20-Poly1305: ciphertext followed by the 16-byte tag. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 })
    return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]))
}

/** age's base64: standard alphabet, no padding. */
function noPad(b: Uint8Array): string {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64").replace(/=+$/, "")
}
