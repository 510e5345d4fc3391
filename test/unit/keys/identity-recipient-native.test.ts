/**
 * The recipient of an X25519 identity, derived with node:crypto
 * (x25519RecipientOfIdentity), must be what typage and `age-keygen -y` derive, and
 * anything that is not such an identity is left to typage.
 */
import { identityToRecipient } from "age-encryption"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { x25519RecipientOfIdentity } from "../../../src/keys/age-x25519-native.js"
import { bech32Encode } from "../../../src/keys/bech32.js"
import { identityToRecipientString } from "../../../src/keys/identity-file.js"
import { ageKeygen, run, tempDir } from "./helpers.js"

describe("x25519RecipientOfIdentity", () => {
    it("agrees with typage's identityToRecipient for any 32-byte key (property)", async () => {
        await fc.assert(
            fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (bytes) => {
                const identity = bech32Encode("AGE-SECRET-KEY-", bytes, true)
                expect(x25519RecipientOfIdentity(identity)).toBe(await identityToRecipient(identity))
            }),
            { numRuns: 200 },
        )
    })

    it("agrees with age-keygen -y", () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        expect(x25519RecipientOfIdentity(key.identity)).toBe(Buffer.from(run("age-keygen", ["-y", key.path])).toString().trim())
    })

    it("declines what is not an upper-case X25519 identity; identityToRecipientString still answers or refuses as before", async () => {
        const bytes = new Uint8Array(32).fill(7)
        const upper = bech32Encode("AGE-SECRET-KEY-", bytes, true)
        expect(x25519RecipientOfIdentity(upper.toLowerCase())).toBeUndefined()
        expect(x25519RecipientOfIdentity(bech32Encode("AGE-SECRET-KEY-", new Uint8Array(31), true))).toBeUndefined()
        expect(x25519RecipientOfIdentity("AGE-SECRET-KEY-PQ-1QQQ")).toBeUndefined()
        await expect(identityToRecipientString(upper.toLowerCase())).rejects.toThrow("invalid age identity")
        expect(await identityToRecipientString(upper)).toBe(await identityToRecipient(upper))
    })
})
