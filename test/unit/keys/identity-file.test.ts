import { thrown } from "../../helpers/errors.js"
import { randomBytes } from "node:crypto"

import { Encrypter, armor } from "age-encryption"
import { describe, expect, it } from "vitest"

import { FormatError, NoIdentityError } from "../../../src/errors.js"
import { generatePqIdentity, generateX25519Identity, unwrapDataKey, wrapDataKey } from "../../../src/keys/age.js"
import { decryptIdentityFile, identityToRecipientString, isPassphraseProtected, parseIdentities } from "../../../src/keys/identity-file.js"
import { ageKeygen, hex, tempDir } from "./helpers.js"

async function passphraseFile(plaintext: string, passphrase: string): Promise<Uint8Array> {
    const e = new Encrypter()
    e.setPassphrase(passphrase)
    e.setScryptWorkFactor(10) // fast tests; age's default is 18
    return e.encrypt(plaintext)
}

describe("parseIdentities", () => {
    it("reads an age-keygen file: comments and blank lines skipped, CRLF tolerated", async () => {
        const key = ageKeygen(tempDir())
        const pq = await generatePqIdentity()
        const text = `# created: today\r\n\r\n${key.identity}\r\n# another\n\n${pq.identity}\n`
        const ids = parseIdentities(text, "keys.txt")
        expect(ids).toEqual([key.identity, pq.identity])
        expect(await identityToRecipientString(key.identity)).toBe(key.recipient)
        expect(await identityToRecipientString(pq.identity)).toBe(pq.recipient)
    })

    it("an empty or comment-only file has no identities", () => {
        expect(parseIdentities("", "a")).toEqual([])
        expect(parseIdentities("# nothing\n\n", "a")).toEqual([])
    })

    it("a garbage line fails the source with its line number and without echoing the line", () => {
        const err = thrown(() => parseIdentities("# ok\nAGE-SECRET-KEY-1QQQQ\n", "keys.txt"))
        expect(err).toBeInstanceOf(FormatError)
        expect(err.message).toBe("malformed age identity at keys.txt line 2")
        const err2 = thrown(() => parseIdentities("\n\nhunter2-super-secret\n", "SOPS_AGE_KEY"))
        expect(err2.message).toBe("unknown identity type at SOPS_AGE_KEY line 3")
        expect(err2.message).not.toContain("hunter2")
    })

    it("a valid identity with a flipped character fails its checksum without leaking it", async () => {
        const { identity } = await generateX25519Identity()
        const flipped = identity.slice(0, 30) + (identity[30] === "Q" ? "P" : "Q") + identity.slice(31)
        const err = thrown(() => parseIdentities(`${flipped}\n`, "k"))
        expect(err.message).toBe("malformed age identity at k line 1")
        expect(err.message).not.toContain(identity.slice(16, 30))
    })

    it("several identities per line only when asked (SOPS_AGE_KEY since sops 3.13)", async () => {
        const a = await generateX25519Identity()
        const b = await generatePqIdentity()
        const text = `${a.identity} ${b.identity}\n\t${a.identity}\n`
        expect(parseIdentities(text, "SOPS_AGE_KEY", { severalPerLine: true })).toEqual([a.identity, b.identity, a.identity])
        expect(() => parseIdentities(text, "k")).toThrow(/^malformed age identity at k line 1$/)
    })

    it("plugin identities are rejected as not supported yet", () => {
        const err = thrown(() => parseIdentities("AGE-PLUGIN-YUBIKEY-1QQQQQQ\n", "k"))
        expect(err).toBeInstanceOf(FormatError)
        expect(err.message).toBe("age plugin identities are not supported yet (at k line 1)")
    })

    it("a leading-space identity is not silently accepted (age requires the exact line)", async () => {
        const { identity } = await generateX25519Identity()
        expect(thrown(() => parseIdentities(` ${identity}\n`, "k")).message).toBe("unknown identity type at k line 1")
    })
})

describe("passphrase-protected identity files", () => {
    it("are detected by their first bytes, binary or armored", async () => {
        const bin = await passphraseFile("x", "pw")
        expect(isPassphraseProtected(bin)).toBe(true)
        expect(isPassphraseProtected(armor.encode(bin))).toBe(true)
        expect(isPassphraseProtected("AGE-SECRET-KEY-1…")).toBe(false)
        expect(isPassphraseProtected(" -----BEGIN AGE")).toBe(false)
        expect(() => parseIdentities(armor.encode(bin), "enc.txt")).toThrow(/^enc.txt is encrypted with a passphrase$/)
    })

    it("decrypt with the right passphrase to a key file that then opens data keys", async () => {
        const pair = await generateX25519Identity()
        const keyFile = `# my key\n${pair.identity}\n`
        const bin = await passphraseFile(keyFile, "correct horse battery staple")
        for (const content of [bin, armor.encode(bin)]) {
            const text = await decryptIdentityFile(content, "correct horse battery staple")
            expect(text).toBe(keyFile)
            const dk = new Uint8Array(randomBytes(32))
            const enc = await wrapDataKey(pair.recipient, dk)
            expect(hex(await unwrapDataKey(enc, parseIdentities(text, "enc")))).toBe(hex(dk))
        }
    })

    it("a wrong passphrase is a NoIdentityError that names the source only", async () => {
        const pair = await generateX25519Identity()
        const armored = armor.encode(await passphraseFile(pair.identity + "\n", "right"))
        const err: unknown = await decryptIdentityFile(armored, "wrong", "keys.age").catch((e: unknown) => e)
        expect(err).toBeInstanceOf(NoIdentityError)
        expect((err as Error).message).toBe("keys.age: incorrect passphrase, or the file is not passphrase-encrypted")
    })

    it("an age file encrypted to a recipient (not a passphrase) is rejected the same way", async () => {
        const pair = await generateX25519Identity()
        const enc = await wrapDataKey(pair.recipient, new Uint8Array(4))
        await expect(decryptIdentityFile(enc, "pw")).rejects.toBeInstanceOf(NoIdentityError)
    })

    it("a truncated armored identity file is a FormatError", async () => {
        const armored = armor.encode(await passphraseFile("x", "pw"))
        await expect(decryptIdentityFile(armored.slice(0, 60), "pw", "k.age")).rejects.toThrow(new FormatError("k.age: malformed age armor"))
    })
})
