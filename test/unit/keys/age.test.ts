import { randomBytes } from "node:crypto"

import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { FormatError, IntegrityError } from "../../../src/errors.js"
import { generatePqIdentity, generateX25519Identity, unwrapDataKey, wrapDataKey } from "../../../src/keys/age.js"
import { ageKeygen, hex, run, tempDir, write } from "./helpers.js"

const ARMOR_RE = /^-----BEGIN AGE ENCRYPTED FILE-----\n(?:[A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END AGE ENCRYPTED FILE-----\n$/

describe("wrapDataKey / unwrapDataKey against Debian age 1.1.1", () => {
    it("writes the armored form sops stores, one X25519 stanza, and age -d opens it", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const dataKey = new Uint8Array(randomBytes(32))
        const enc = await wrapDataKey(`  ${key.recipient}\n`, dataKey)
        expect(enc).toMatch(ARMOR_RE)
        const header = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1")
        expect(header.startsWith("age-encryption.org/v1\n-> X25519 ")).toBe(true)
        expect(header.match(/\n-> /g)).toHaveLength(1)
        const out = run("age", ["-d", "-i", key.path], enc)
        expect(hex(out)).toBe(hex(dataKey))
    })

    it("opens a file made by age -e -a -r", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const payload = new Uint8Array(randomBytes(33))
        const enc = Buffer.from(run("age", ["-e", "-a", "-r", key.recipient], payload)).toString()
        expect(hex(await unwrapDataKey(enc, [key.identity]))).toBe(hex(payload))
    })

    it("returns null when no identity matches", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const other = await generateX25519Identity()
        const enc = await wrapDataKey(key.recipient, new Uint8Array(32))
        expect(await unwrapDataKey(enc, [other.identity])).toBeNull()
        expect(await unwrapDataKey(enc, [])).toBeNull()
        expect(hex(await unwrapDataKey(enc, [other.identity, key.identity]))).toBe(hex(new Uint8Array(32)))
    })
})

describe("round trips", () => {
    it("X25519: any payload comes back unchanged", async () => {
        const pair = await generateX25519Identity()
        expect(pair.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/)
        expect(pair.recipient).toMatch(/^age1[0-9a-z]{58}$/)
        await fc.assert(
            fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 100 }), async (payload) => {
                const enc = await wrapDataKey(pair.recipient, payload)
                expect(hex(await unwrapDataKey(enc, [pair.identity]))).toBe(hex(payload))
            }),
            { numRuns: 25 },
        )
    })

    // Debian's age 1.1.1 predates the hybrid type (age ≥1.3), so this one is ours only.
    it("post-quantum hybrid: generatePqIdentity wraps and unwraps", async () => {
        const pair = await generatePqIdentity()
        expect(pair.identity.startsWith("AGE-SECRET-KEY-PQ-1")).toBe(true)
        expect(pair.recipient.startsWith("age1pq1")).toBe(true)
        const dataKey = new Uint8Array(randomBytes(32))
        const enc = await wrapDataKey(pair.recipient, dataKey)
        expect(enc).toMatch(ARMOR_RE)
        const header = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1")
        expect(header.startsWith("age-encryption.org/v1\n-> mlkem768x25519 ")).toBe(true)
        expect(hex(await unwrapDataKey(enc, [pair.identity]))).toBe(hex(dataKey))
        const x = await generateX25519Identity()
        expect(await unwrapDataKey(enc, [x.identity])).toBeNull()
    })
})

describe("malformed input", () => {
    it("a truncated armored block is a FormatError", async () => {
        const pair = await generateX25519Identity()
        const enc = await wrapDataKey(pair.recipient, new Uint8Array(32))
        const lines = enc.split("\n")
        const truncated = lines.slice(0, 3).join("\n") + "\n"
        await expect(unwrapDataKey(truncated, [pair.identity])).rejects.toThrow(new FormatError("malformed age armor: invalid footer"))
        const cut = [...lines.slice(0, 2), (lines[2] ?? "").slice(0, 30), ...lines.slice(-2)].join("\n")
        await expect(unwrapDataKey(cut, [pair.identity])).rejects.toBeInstanceOf(FormatError)
        await expect(unwrapDataKey("hello", [pair.identity])).rejects.toThrow("malformed age armor: invalid header")
    })

    it("a header that is not age v1 is a FormatError that does not echo it", async () => {
        const body = Buffer.from("not-age secret-stuff\n--- AAAA\n").toString("base64")
        const enc = `-----BEGIN AGE ENCRYPTED FILE-----\n${body}\n-----END AGE ENCRYPTED FILE-----\n`
        const err = await unwrapDataKey(enc, []).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(FormatError)
        expect((err as Error).message).toBe("malformed age file: not an age-encryption.org/v1 header")
    })

    it("a flipped payload byte is an IntegrityError", async () => {
        const pair = await generateX25519Identity()
        const enc = await wrapDataKey(pair.recipient, new Uint8Array(32))
        const raw = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64")
        raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1
        const b64 = raw.toString("base64").match(/.{1,64}/g)?.join("\n") ?? ""
        const bad = `-----BEGIN AGE ENCRYPTED FILE-----\n${b64}\n-----END AGE ENCRYPTED FILE-----\n`
        await expect(unwrapDataKey(bad, [pair.identity])).rejects.toBeInstanceOf(IntegrityError)
    })

    it("a truncated payload is a FormatError, an altered header MAC an IntegrityError", async () => {
        const pair = await generateX25519Identity()
        const enc = await wrapDataKey(pair.recipient, new Uint8Array(32))
        const raw = Buffer.from(enc.split("\n").slice(1, -2).join(""), "base64")
        const macEnd = raw.indexOf("\n", raw.indexOf("\n--- ") + 1) + 1
        const rearmor = (b: Buffer): string =>
            `-----BEGIN AGE ENCRYPTED FILE-----\n${b.toString("base64").match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END AGE ENCRYPTED FILE-----\n`
        await expect(unwrapDataKey(rearmor(raw.subarray(0, macEnd + 5)), [pair.identity])).rejects.toThrow(
            new FormatError("malformed age file: truncated payload"),
        )
        const header = raw.subarray(0, macEnd).toString("latin1")
        const mac = header.slice(header.indexOf("\n--- ") + 5, -1)
        const otherMac = Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "")
        const forged = Buffer.concat([Buffer.from(header.replace(mac, otherMac), "latin1"), raw.subarray(macEnd)])
        await expect(unwrapDataKey(rearmor(forged), [pair.identity])).rejects.toThrow(
            new IntegrityError("age header MAC mismatch: the encrypted data key was altered"),
        )
    })

    it("an invalid identity string is rejected without echoing it", async () => {
        const pair = await generateX25519Identity()
        const enc = await wrapDataKey(pair.recipient, new Uint8Array(32))
        const broken = pair.identity.slice(0, -1) + (pair.identity.endsWith("Q") ? "P" : "Q")
        const err = await unwrapDataKey(enc, [broken]).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(FormatError)
        expect((err as Error).message).toBe("invalid age identity")
        expect((err as Error).message).not.toContain(pair.identity.slice(16, 40))
    })

    it("writes age files that a key file on disk can open repeatedly", async () => {
        const dir = tempDir()
        const pair = await generateX25519Identity()
        const path = write(dir, "k.txt", pair.identity + "\n")
        for (let i = 0; i < 3; i++) {
            const dk = new Uint8Array(randomBytes(32))
            expect(hex(run("age", ["-d", "-i", path], await wrapDataKey(pair.recipient, dk)))).toBe(hex(dk))
        }
    })
})
