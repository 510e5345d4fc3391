import { thrown } from "../../helpers/errors.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { FormatError } from "../../../src/errors.js"
import { generatePqIdentity, generateX25519Identity } from "../../../src/keys/age.js"
import { bech32Decode, bech32Encode, parseRecipient } from "../../../src/keys/recipient.js"

const MOCK_SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN Test"
const X = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"

describe("parseRecipient", () => {
    it("dispatches by prefix and trims whitespace like sops", async () => {
        expect(parseRecipient(`  ${X}\n`)).toEqual({ kind: "x25519", text: X, recipient: X })
        const pq = (await generatePqIdentity()).recipient
        expect(pq.length).toBeGreaterThan(1900)
        expect(parseRecipient(pq)).toEqual({ kind: "pq", text: pq, recipient: pq })
        const ssh = parseRecipient(` ${MOCK_SSH} `)
        expect(ssh.kind).toBe("ssh-ed25519")
        expect(ssh.text).toBe(MOCK_SSH)
        expect(typeof ssh.recipient).toBe("object")
    })

    it("rejects a bad checksum, a truncated key and an unknown prefix with clear FormatErrors", () => {
        const badSum = X.slice(0, -1) + (X.endsWith("s") ? "q" : "s")
        expect(thrown(() => parseRecipient(badSum))).toEqual(new FormatError(`malformed age recipient "${badSum}": bad length or checksum`))
        expect(thrown(() => parseRecipient(X.slice(0, 40)))).toBeInstanceOf(FormatError)
        // A secret key is named as one and never quoted (issue 10 §8; identity-as-recipient.test.ts).
        expect(thrown(() => parseRecipient("AGE-SECRET-KEY-1XYZ")).message).toBe("this is an identity (secret key), not a recipient")
        expect(thrown(() => parseRecipient("bogus")).message).toBe('unrecognized recipient "bogus"')
        expect(thrown(() => parseRecipient("")).message).toBe('unrecognized recipient ""')
        expect(thrown(() => parseRecipient("age1pq1qqqq")).message).toMatch(/^malformed post-quantum age recipient/)
        expect(thrown(() => parseRecipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs")).message).toMatch(/^malformed ssh recipient/)
        expect(thrown(() => parseRecipient("ssh-dss AAAAB3NzaC1kc3MAAACBAP")).message).toMatch(/^malformed ssh recipient/)
    })

    it("names an age plugin recipient as not supported yet", () => {
        const r = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t"
        expect(thrown(() => parseRecipient(r)).message).toBe(`age plugin recipients are not supported yet (age-plugin-yubikey): "${r}"`)
    })

    it("an ssh key whose type word disagrees with its blob is rejected", () => {
        const lying = MOCK_SSH.replace(/^ssh-ed25519/, "ssh-rsa")
        expect(thrown(() => parseRecipient(lying)).message).toMatch(/does not match the encoded key/)
    })
})

describe("bech32", () => {
    it("round-trips arbitrary bytes and rejects any single-character change", () => {
        const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
        fc.assert(
            fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.nat(), (bytes, at, sub) => {
                const s = bech32Encode("age", bytes)
                expect(bech32Decode(s)).toEqual({ hrp: "age", bytes })
                expect(bech32Decode(s.toUpperCase())).toEqual({ hrp: "age", bytes })
                const i = 4 + (at % (s.length - 4))
                const c = CHARSET[(CHARSET.indexOf(s[i] ?? "q") + 1 + (sub % 31)) % 32] ?? "q"
                expect(bech32Decode(s.slice(0, i) + c + s.slice(i + 1))).toBeNull()
            }),
        )
    })

    it("matches typage's encoding of generated keys", async () => {
        const { identity, recipient } = await generateX25519Identity()
        const id = bech32Decode(identity)
        expect(id?.hrp).toBe("age-secret-key-")
        expect(bech32Encode("AGE-SECRET-KEY-", id?.bytes ?? new Uint8Array(), true)).toBe(identity)
        const r = bech32Decode(recipient)
        expect(bech32Encode("age", r?.bytes ?? new Uint8Array())).toBe(recipient)
        expect(bech32Decode("Age1" + recipient.slice(4))).toBeNull()
    })
})
