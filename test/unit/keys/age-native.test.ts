/**
 * The node:crypto fast path for X25519 data-key blocks must agree with Debian's
 * `age` and with typage on every file it accepts, decline what it does not handle,
 * and report tampering exactly as the typage path does.
 */
import { randomBytes } from "node:crypto"

import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { armor } from "age-encryption"
import { IntegrityError } from "../../../src/errors.js"
import { generateX25519Identity, unwrapDataKey, wrapDataKey } from "../../../src/keys/age.js"
import { dearmorStrict, unwrapNativeX25519 } from "../../../src/keys/age-x25519-native.js"
import { ageKeygen, hex, run, tempDir } from "./helpers.js"

/** Debian age, binary output, for the given recipients. */
function ageEncrypt(recipients: string[], payload: Uint8Array): Uint8Array {
    return run("age", ["-e", ...recipients.flatMap((r) => ["-r", r])], payload)
}

/** Flip one bit of the byte at `at` (negative: from the end). */
function flip(file: Uint8Array, at: number): Uint8Array {
    const copy = new Uint8Array(file)
    const i = at < 0 ? copy.length + at : at
    copy[i] = (copy[i] ?? 0) ^ 0x01
    return copy
}

describe("unwrapNativeX25519", () => {
    it("opens files made by Debian age -e with one and with three recipients", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const a = await generateX25519Identity()
        const b = await generateX25519Identity()
        const payload = new Uint8Array(randomBytes(32))
        expect(hex(unwrapNativeX25519(ageEncrypt([key.recipient], payload), [key.identity]) ?? null)).toBe(hex(payload))
        // Our identity's stanza is the last of three: the others must be skipped, not fail.
        const three = ageEncrypt([a.recipient, b.recipient, key.recipient], payload)
        expect(hex(unwrapNativeX25519(three, [key.identity]) ?? null)).toBe(hex(payload))
        expect(hex(unwrapNativeX25519(three, [a.identity, key.identity]) ?? null)).toBe(hex(payload))
    })

    it("agrees with typage for any payload a data key or share can be (property)", async () => {
        const id = await generateX25519Identity()
        await fc.assert(
            fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (payload) => {
                const enc = await wrapDataKey(id.recipient, payload)
                const file = armor.decode(enc)
                expect(hex(unwrapNativeX25519(file, [id.identity]) ?? null)).toBe(hex(payload))
            }),
            { numRuns: 50 },
        )
    })

    it("declines (undefined) when no native identity matches, or there is none", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const other = await generateX25519Identity()
        const file = ageEncrypt([key.recipient], new Uint8Array(32))
        expect(unwrapNativeX25519(file, [other.identity])).toBeUndefined()
        expect(unwrapNativeX25519(file, [])).toBeUndefined()
        expect(unwrapNativeX25519(file, [{ unwrapFileKey: () => null }])).toBeUndefined()
    })

    it("declines what it does not handle: multi-chunk payloads, scrypt files, non-canonical base64", async () => {
        const id = await generateX25519Identity()
        const big = new Uint8Array(70_000)
        const bigFile = ageEncrypt([id.recipient], big)
        expect(unwrapNativeX25519(bigFile, [id.identity])).toBeUndefined()
        // typage still opens it through unwrapDataKey's fallback.
        expect((await unwrapDataKey(armor.encode(bigFile), [id.identity]))?.length).toBe(70_000)

        const text = Buffer.from(ageEncrypt([id.recipient], new Uint8Array(32))).toString("latin1")
        // Add a padding "=" to the ephemeral share: valid base64 to a lax decoder, not to age.
        const padded = text.replace(/^(-> X25519 \S+)/m, "$1=")
        expect(unwrapNativeX25519(Buffer.from(padded, "latin1"), [id.identity])).toBeUndefined()
    })

    it("reports a changed header MAC or payload as tampering, like the typage path", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const file = ageEncrypt([key.recipient], new Uint8Array(randomBytes(32)))
        const text = Buffer.from(file).toString("latin1")
        const macAt = text.indexOf("\n--- ") + 5
        // Change the MAC's first base64 character to another valid one.
        const badMac = Buffer.from(text.slice(0, macAt) + (text[macAt] === "A" ? "B" : "A") + text.slice(macAt + 1), "latin1")
        expect(() => unwrapNativeX25519(badMac, [key.identity])).toThrow(IntegrityError)
        expect(() => unwrapNativeX25519(flip(file, -1), [key.identity])).toThrow(IntegrityError)
        // The typage path gives the same answer for the same files.
        await expect(unwrapDataKey(armor.encode(flip(file, -1)), [{ unwrapFileKey: () => null }, key.identity])).rejects.toThrow(IntegrityError)
    })

    it("treats a stanza that does not authenticate as not ours, so unwrapDataKey finds no match", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const file = Buffer.from(ageEncrypt([key.recipient], new Uint8Array(32))).toString("latin1")
        // The stanza body is the line after "-> X25519 …": change its first character.
        const bodyAt = file.indexOf("\n", file.indexOf("-> X25519")) + 1
        const bad = file.slice(0, bodyAt) + (file[bodyAt] === "A" ? "B" : "A") + file.slice(bodyAt + 1)
        expect(unwrapNativeX25519(Buffer.from(bad, "latin1"), [key.identity])).toBeUndefined()
        expect(await unwrapDataKey(armor.encode(Buffer.from(bad, "latin1")), [key.identity])).toBeNull()
    })

    it("dearmorStrict reads what age and sops write and declines other spellings, which typage still opens", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        for (const size of [32, 33, 200]) {
            const payload = new Uint8Array(randomBytes(size))
            const enc = Buffer.from(run("age", ["-e", "-a", "-r", key.recipient], payload)).toString()
            expect(hex(dearmorStrict(enc) ?? null)).toBe(hex(armor.decode(enc)))
            expect(hex(dearmorStrict(enc.trimEnd()) ?? null)).toBe(hex(armor.decode(enc)))
            const crlf = enc.replaceAll("\n", "\r\n")
            expect(dearmorStrict(crlf)).toBeUndefined()
            expect(hex(await unwrapDataKey(crlf, [key.identity]))).toBe(hex(payload))
        }
        expect(dearmorStrict("-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\nextra")).toBeUndefined()
        expect(dearmorStrict("-----BEGIN AGE ENCRYPTED FILE-----\nA A=\n-----END AGE ENCRYPTED FILE-----\n")).toBeUndefined()
    })
})
