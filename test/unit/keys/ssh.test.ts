import { randomBytes } from "node:crypto"
import { join } from "node:path"

import { describe, expect, it } from "vitest"

import { FormatError, IntegrityError } from "../../../src/errors.js"
import { unwrapDataKey, wrapDataKey } from "../../../src/keys/age.js"
import { identityToRecipientString, parseIdentities } from "../../../src/keys/identity-file.js"
import { parseRecipient } from "../../../src/keys/recipient.js"
import { parseSshPrivateKey, parseSshPublicKey, sshTag } from "../../../src/keys/ssh-parse.js"
import { hex, INTEROP, run, sshKeygen, tempDir } from "./helpers.js"

function stanzaLine(enc: string): string {
    const header = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1")
    return header.split("\n")[1] ?? ""
}

for (const type of ["ed25519", "rsa"] as const) {
    describe(`ssh-${type} against Debian age 1.1.1 and ssh-keygen`, () => {
        it("our wrap to the .pub opens with age -d -i <private key>", async () => {
            const dir = tempDir()
            const key = sshKeygen(dir, type)
            const dataKey = new Uint8Array(randomBytes(32))
            const enc = await wrapDataKey(key.pub, dataKey)
            const tag = sshTag(parseSshPublicKey(key.pub))
            expect(stanzaLine(enc).startsWith(`-> ssh-${type} ${tag}`)).toBe(true)
            expect(hex(run("age", ["-d", "-i", key.path], enc))).toBe(hex(dataKey))
        })

        it("age -e -R <.pub> -a output opens with our parsed private key", async () => {
            const dir = tempDir()
            const key = sshKeygen(dir, type)
            const payload = new Uint8Array(randomBytes(33))
            const enc = Buffer.from(run("age", ["-e", "-a", "-R", key.path + ".pub"], payload)).toString()
            const ids = parseIdentities(key.priv, key.path)
            // An ed25519 key also gives its X25519 twin (ssh-encrypted.test.ts).
            expect(ids).toHaveLength(type === "ed25519" ? 2 : 1)
            expect(hex(await unwrapDataKey(enc, ids))).toBe(hex(payload))
        })

        it("another key of the same type does not match (null, not an error)", async () => {
            const a = sshKeygen(tempDir(), type)
            const b = sshKeygen(tempDir(), type)
            const enc = await wrapDataKey(a.pub, new Uint8Array(32))
            expect(await unwrapDataKey(enc, parseIdentities(b.priv, "b"))).toBeNull()
        })

        it("the identity lists the same recipient as the .pub (without comment)", async () => {
            const key = sshKeygen(tempDir(), type)
            const [id] = parseIdentities(key.priv, "k")
            const pubNoComment = key.pub.trim().split(" ").slice(0, 2).join(" ")
            expect(await identityToRecipientString(id ?? "")).toBe(pubNoComment)
            expect(parseRecipient(key.pub).kind).toBe(`ssh-${type}`)
            expect(parseRecipient(key.pub).text).toBe(key.pub.trim())
        })

        it("a passphrase-protected key lists its recipient without asking (ssh-encrypted.test.ts opens it)", async () => {
            const key = sshKeygen(tempDir(), type, "correct horse")
            const [id] = parseIdentities(key.priv, "id_protected")
            expect(await identityToRecipientString(id!)).toBe(key.pub.trim().split(" ").slice(0, 2).join(" "))
        })
    })
}

describe("ssh-rsa PEM (PKCS#1) private keys", () => {
    it("age -e -R output opens with a key converted to PEM by ssh-keygen", async () => {
        const dir = tempDir()
        const key = sshKeygen(dir, "rsa")
        run("ssh-keygen", ["-q", "-p", "-N", "", "-m", "PEM", "-f", key.path])
        const pem = run("cat", [key.path])
        const text = Buffer.from(pem).toString()
        expect(text.startsWith("-----BEGIN RSA PRIVATE KEY-----")).toBe(true)
        const payload = new Uint8Array(randomBytes(32))
        const enc = Buffer.from(run("age", ["-e", "-a", "-R", key.path + ".pub"], payload)).toString()
        expect(hex(await unwrapDataKey(enc, parseIdentities(text, "pem")))).toBe(hex(payload))
        expect(parseSshPrivateKey(text, "pem").publicKey.wire).toEqual(parseSshPublicKey(key.pub).wire)
    })
})

describe("ssh-ed25519 vectors and tampering", () => {
    const dir = join(INTEROP, "getsops-sops/age-keysource-test")

    it("the mock recipient's tag is the one in the mock file's stanza", async () => {
        const { readFileSync } = await import("node:fs")
        const pub = parseSshPublicKey(readFileSync(join(dir, "mockSshRecipient.pub"), "utf8"))
        expect(pub.comment).toBe("Test")
        expect(stanzaLine(readFileSync(join(dir, "mockEncryptedSshKey.age"), "utf8"))).toMatch(new RegExp(`^-> ssh-ed25519 ${sshTag(pub)} `))
        expect(sshTag(pub)).toBe("2cwDxw")
    })

    it("a stanza for our key whose body was altered is an IntegrityError", async () => {
        const key = sshKeygen(tempDir(), "ed25519")
        const enc = await wrapDataKey(key.pub, new Uint8Array(32))
        const raw = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1")
        const lines = raw.split("\n")
        const body = Buffer.from(lines[2] ?? "", "base64")
        body[0] = (body[0] ?? 0) ^ 1
        lines[2] = body.toString("base64").replace(/=+$/, "")
        const b64 = Buffer.from(lines.join("\n"), "latin1").toString("base64").match(/.{1,64}/g)?.join("\n") ?? ""
        const bad = `-----BEGIN AGE ENCRYPTED FILE-----\n${b64}\n-----END AGE ENCRYPTED FILE-----\n`
        await expect(unwrapDataKey(bad, parseIdentities(key.priv, "k"))).rejects.toThrow(
            new IntegrityError("an ssh-ed25519 stanza for this key failed to decrypt"),
        )
    })
})

describe("broken ssh private keys", () => {
    it("a truncated or garbled OpenSSH key is a FormatError naming only the source", () => {
        const key = sshKeygen(tempDir(), "ed25519")
        const lines = key.priv.trim().split("\n")
        const truncated = [...lines.slice(0, 5), lines[lines.length - 1]].join("\n") // 4 × 70 base64 chars: valid base64, cut blob
        const errors = [truncated, key.priv.replace(/^(-----BEGIN OPENSSH PRIVATE KEY-----\n)b3Bl/, "$1AAAA")].map((t) => {
            try {
                parseIdentities(t, "id_broken")
            } catch (e) {
                return e as Error
            }
            return null
        })
        expect(errors[0]).toEqual(new FormatError("truncated ssh private key id_broken"))
        expect(errors[1]).toEqual(new FormatError("id_broken: not an openssh-key-v1 private key"))
        for (const line of lines.slice(1, -1)) {
            for (const e of errors) expect(e?.message).not.toContain(line.slice(10, 30))
        }
    })

    it("wrapping to the .pub of a passphrase-protected key works (only the public half is needed)", async () => {
        const dir = tempDir()
        const key = sshKeygen(dir, "ed25519", "pw")
        const enc = await wrapDataKey(key.pub, new Uint8Array(32).fill(9))
        expect(stanzaLine(enc).startsWith("-> ssh-ed25519 ")).toBe(true)
    })
})

