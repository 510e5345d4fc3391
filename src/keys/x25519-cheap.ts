/**
 * The cheaper spellings of three `node:crypto` calls that the native age wrap and
 * unwrap (age-wrap-native.ts, age-x25519-native.ts) make once per stanza, which a
 * fleet re-key makes thousands of times (issue 14 target 5).
 *
 * - Raw X25519 public keys go in and out of KeyObjects as JWK, not DER: OpenSSL 3
 *   imports and exports DER through its generic decoder framework, ~250 µs a
 *   key on the bench machine, against ~20 µs for JWK (the same 32 bytes,
 *   base64url in `x`). Either way any 32 bytes are accepted (X25519 has no
 *   invalid points); a low-order key still fails at the ECDH, as before.
 * - HKDF-SHA256 to 32 bytes is two HMACs (RFC 5869: extract, then one expand
 *   block, since 32 bytes fit in one SHA-256 output). `hkdfSync` fetches an
 *   OpenSSL KDF object on every call, ~3× the cost of the two HMACs. An empty salt
 *   is the same as RFC 5869's HashLen zero bytes: HMAC pads its key with zeros.
 */
import { createHmac, createPublicKey, type KeyObject } from "node:crypto"

/** An X25519 public KeyObject from its 32 raw bytes. */
export function x25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
    const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64url")
    return createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" })
}

/**
 * The 32 raw bytes of an X25519 public KeyObject. Never for a key that
 * generateKeyPairSync made: Node 20 can deadlock exporting it (age-wrap-native.ts).
 */
export function x25519RawFromPublicKey(key: KeyObject): Uint8Array {
    const { x } = key.export({ format: "jwk" })
    if (typeof x !== "string") throw new Error("internal: an X25519 public key without its x coordinate")
    return new Uint8Array(Buffer.from(x, "base64url"))
}

/** HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info`, 32 bytes long. */
export function hkdfSha256To32(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
    const prk = createHmac("sha256", salt).update(ikm).digest()
    return new Uint8Array(createHmac("sha256", prk).update(info).update(ONE).digest())
}

const ONE = Uint8Array.of(1)
