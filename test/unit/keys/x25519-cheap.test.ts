/**
 * The cheaper node:crypto spellings of x25519-cheap.ts against the calls they
 * replace: JWK in and out gives the same keys as DER (SPKI), and the two-HMAC
 * HKDF gives `hkdfSync`'s bytes for any key material, salt and info. The wrap and
 * unwrap built on them are held to Debian age and typage in age-wrap-native.test.ts
 * and age-native.test.ts.
 */
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from "node:crypto"

import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { hkdfSha256To32, x25519PublicKeyFromRaw, x25519RawFromPublicKey } from "../../../src/keys/x25519-cheap.js"

const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex")
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex")

/**
 * A key pair from 32 random bytes. Not generateKeyPairSync: Node 20 can deadlock
 * exporting a key it made when a GC runs during the export (age-wrap-native.ts).
 */
function keyPair() {
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(32)]), format: "der", type: "pkcs8" })
    return { privateKey, publicKey: createPublicKey(privateKey) }
}

describe("x25519-cheap", () => {
    it("HKDF-SHA256 to 32 bytes equals hkdfSync for any ikm, salt (empty too) and info (property)", () => {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 100 }), fc.string({ maxLength: 40 }), (ikm, salt, info) => {
                const want = new Uint8Array(hkdfSync("sha256", ikm, salt, info, 32))
                expect(hkdfSha256To32(ikm, salt, info)).toEqual(want)
            }),
            { numRuns: 300 },
        )
        // The three infos age uses, with the salts it uses them with.
        const key = new Uint8Array(16).fill(7)
        for (const [salt, info] of [[new Uint8Array(0), "header"], [new Uint8Array(16).fill(1), "payload"], [new Uint8Array(64).fill(2), "age-encryption.org/v1/X25519"]] as const) {
            expect(hkdfSha256To32(key, salt, info)).toEqual(new Uint8Array(hkdfSync("sha256", key, salt, info, 32)))
        }
    })

    it("a raw public key read through JWK is the key DER gives, and exports back to the same bytes (property)", () => {
        fc.assert(
            fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
                const viaJwk = x25519PublicKeyFromRaw(raw)
                const viaDer = createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: "der", type: "spki" })
                expect(viaJwk.equals(viaDer)).toBe(true)
                expect(x25519RawFromPublicKey(viaJwk)).toEqual(raw)
            }),
            { numRuns: 200 },
        )
    })

    it("an ephemeral key's raw public bytes are its DER key's, and ECDH agrees both ways", () => {
        for (let i = 0; i < 20; i++) {
            const a = keyPair()
            const b = keyPair()
            const rawA = x25519RawFromPublicKey(a.publicKey)
            expect(rawA).toEqual(new Uint8Array(a.publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_X25519.length)))
            const ab = diffieHellman({ privateKey: b.privateKey, publicKey: x25519PublicKeyFromRaw(rawA) })
            expect(ab).toEqual(diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }))
        }
    })

    it("refuses a key that is not 32 bytes, as the DER path did", () => {
        expect(() => x25519PublicKeyFromRaw(new Uint8Array(31))).toThrow()
        expect(() => x25519PublicKeyFromRaw(new Uint8Array(33))).toThrow()
    })
})
