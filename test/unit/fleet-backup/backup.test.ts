import { Decrypter, armor } from "age-encryption"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { generatePqIdentity, generateX25519Identity } from "../../../src/keys/age.js"
import {
    BACKUP_HEADER,
    buildBackupPayload,
    confirmPassphrase,
    mergeIdentities,
    openBackup,
    parseBackupPayload,
    sealBackup,
} from "../../../src/fleet/backup.js"

const WHEN = new Date("2025-01-02T03:04:05.678Z")
const X1 = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

async function keyFile(n: number, pq = false) {
    const pairs = []
    for (let i = 0; i < n; i++) pairs.push(pq && i === n - 1 ? await generatePqIdentity() : await generateX25519Identity())
    const text = pairs.map((p) => `# created: 2024-05-06T07:08:09Z\n# public key: ${p.recipient}\n${p.identity}\n`).join("")
    return { pairs, text }
}

describe("backup payload", () => {
    it("is the header, the date, then each source verbatim after a source line", async () => {
        const a = await keyFile(1)
        const b = await keyFile(1)
        const payload = buildBackupPayload([{ path: "/h/keys.txt", text: a.text }, { path: "/h/extra.txt", text: b.text }], WHEN)
        expect(payload).toBe(`${BACKUP_HEADER}\n# created: 2025-01-02T03:04:05Z\n# source: /h/keys.txt\n${a.text}# source: /h/extra.txt\n${b.text}`)
    })

    it("parses back to each identity with the comments above it", async () => {
        const a = await keyFile(2, true)
        const entries = parseBackupPayload(buildBackupPayload([{ path: "/k", text: a.text }], WHEN))
        expect(entries).toEqual(
            a.pairs.map((p) => ({ identity: p.identity, comments: ["# created: 2024-05-06T07:08:09Z", `# public key: ${p.recipient}`] })),
        )
    })

    it("refuses ssh keys, passphrase-protected files and bad lines, without quoting them", () => {
        const ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        expect(() => buildBackupPayload([{ path: "/s", text: ssh }], WHEN)).toThrow("/s is an ssh private key, not an age key file")
        expect(() => buildBackupPayload([{ path: "/p", text: "-----BEGIN AGE ENCRYPTED FILE-----\n" }], WHEN)).toThrow("/p is already passphrase-protected")
        expect(() => buildBackupPayload([{ path: "/b", text: "# ok\nnot-a-key-SECRETVALUE\n" }], WHEN)).toThrow(/^unknown identity type at \/b line 2$/)
    })

    it("refuses a payload without the v1 header", () => {
        expect(() => parseBackupPayload(`${X1}\n`, "f")).toThrow("f is not a secrets identity backup (no v1 header)")
    })
})

describe("merging into a key file", () => {
    it("appends what is missing, keeps the file byte for byte, and adds nothing the second time", async () => {
        const mine = await keyFile(1)
        const backup = await keyFile(2)
        const existing = `# my notes\n${mine.text}`
        const entries = parseBackupPayload(buildBackupPayload([{ path: "/k", text: backup.text + mine.text }], WHEN))
        const first = await mergeIdentities(existing, entries)
        expect(first.added).toEqual(backup.pairs.map((p) => p.recipient))
        expect(first.present).toBe(1)
        expect(first.text).toBe(existing + backup.text)
        const again = await mergeIdentities(first.text, entries)
        expect(again).toEqual({ text: first.text, added: [], present: 3 })
    })

    it("adds a newline to a file without one and creates from empty", async () => {
        const b = await keyFile(1)
        const entries = parseBackupPayload(buildBackupPayload([{ path: "/k", text: b.text }], WHEN))
        const mine = await keyFile(1)
        const noNl = mine.text.slice(0, -1)
        expect((await mergeIdentities(noNl, entries)).text).toBe(noNl + "\n" + b.text)
        expect((await mergeIdentities("", entries)).text).toBe(b.text)
    })

    it("treats one identity listed twice in the backup as one", async () => {
        const b = await keyFile(1)
        const entries = parseBackupPayload(buildBackupPayload([{ path: "/a", text: b.text }, { path: "/b", text: b.text }], WHEN))
        const r = await mergeIdentities("", entries)
        expect(r.added).toHaveLength(1)
        expect(r.present).toBe(1)
    })

    it("round-trips any set of identities (property)", async () => {
        const pool = await Promise.all([0, 1, 2, 3, 4].map(() => generateX25519Identity()))
        await fc.assert(
            fc.asyncProperty(fc.subarray([0, 1, 2, 3, 4]), fc.subarray([0, 1, 2, 3, 4]), async (have, backed) => {
                const text = (ix: number[]) => ix.map((i) => `${pool[i]!.identity}\n`).join("")
                const entries = parseBackupPayload(buildBackupPayload([{ path: "/k", text: text(backed) }], WHEN))
                const r = await mergeIdentities(text(have), entries)
                const missing = backed.filter((i) => !have.includes(i))
                expect(r.added).toEqual(missing.map((i) => pool[i]!.recipient))
                expect(r.present).toBe(backed.length - missing.length)
                expect(r.text).toBe(text(have) + text(missing))
            }),
            { numRuns: 40 },
        )
    })
})

describe("sealing with a passphrase", () => {
    it("writes an armored age scrypt file that age-encryption opens with the passphrase", async () => {
        const sealed = await sealBackup("hello\n", "correct horse", 10)
        expect(sealed.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true)
        const bin = armor.decode(sealed)
        const header = new TextDecoder().decode(bin.subarray(0, 60))
        expect(header).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 10\n/)
        const d = new Decrypter()
        d.addPassphrase("correct horse")
        expect(await d.decrypt(bin, "text")).toBe("hello\n")
        expect(await openBackup(sealed, "correct horse")).toBe("hello\n")
    })

    it("uses age's default work factor (18) unless told otherwise", async () => {
        const bin = armor.decode(await sealBackup("x", "pw"))
        expect(new TextDecoder().decode(bin.subarray(0, 60))).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/)
    })

    it("reports a wrong passphrase as exit 1 without the payload", async () => {
        const sealed = await sealBackup("AGE-SECRET-KEY-1SECRET\n", "right", 10)
        const err = await openBackup(sealed, "wrong", "b.age").catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 1, message: "b.age: incorrect passphrase" })
    })

    it("refuses a file that is not passphrase-encrypted", async () => {
        await expect(openBackup("# just a key file\n", "pw", "k.txt")).rejects.toThrow("k.txt is not a passphrase-encrypted age file")
    })

    it("refuses an empty passphrase and mismatched confirmations", async () => {
        await expect(sealBackup("x", "")).rejects.toThrow("the passphrase is empty")
        expect(() => confirmPassphrase("one", "two")).toThrow("the passphrases do not match: nothing written")
        expect(confirmPassphrase("same", "same")).toBe("same")
    })
})
