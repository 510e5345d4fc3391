/**
 * The node:crypto wrap (age-wrap-native.ts) against the references: every file it
 * writes for X25519, ssh-ed25519 and ssh-rsa recipients must open with Debian
 * `age -d`, with typage's Decrypter and with our own unwrap, for any payload; its
 * armor and header must have the exact shape age and typage write; and wrapping
 * must not load typage's Encrypter path (Node's fetch stack).
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import { Decrypter, armor } from "age-encryption"
import { build } from "esbuild"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { FormatError } from "../../../src/errors.js"
import { dearmorStrict } from "../../../src/keys/age-x25519-native.js"
import { unwrapDataKey, wrapDataKey } from "../../../src/keys/age.js"
import { bech32Encode } from "../../../src/keys/bech32.js"
import { parseIdentities } from "../../../src/keys/identity-file.js"
import { ageKeygen, hex, run, sshKeygen, tempDir, write } from "./helpers.js"

async function typageOpen(enc: string, identity: string): Promise<Uint8Array> {
    const d = new Decrypter()
    d.addIdentity(identity)
    return d.decrypt(armor.decode(enc))
}

/** The binary age file's header lines, up to and including the MAC line. */
function headerLines(enc: string): string[] {
    const text = Buffer.from(armor.decode(enc)).toString("latin1")
    return text.slice(0, text.indexOf("\n", text.indexOf("\n--- ") + 1)).split("\n")
}

describe("native wrap for X25519 recipients", () => {
    it("opens with Debian age -d, typage and our unwrap, for any payload (property)", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        await fc.assert(
            fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (payload) => {
                const enc = await wrapDataKey(key.recipient, payload)
                expect(hex(run("age", ["-d", "-i", key.path], enc))).toBe(hex(payload))
                expect(hex(await typageOpen(enc, key.identity))).toBe(hex(payload))
                expect(hex(await unwrapDataKey(enc, [key.identity]))).toBe(hex(payload))
            }),
            { numRuns: 25 },
        )
    })

    it("writes payloads of several STREAM chunks as age does (64 KiB boundaries)", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        for (const size of [64 * 1024, 64 * 1024 + 1, 2 * 64 * 1024 + 17]) {
            const payload = new Uint8Array(randomBytes(size))
            const enc = await wrapDataKey(key.recipient, payload)
            expect(hex(run("age", ["-d", "-i", key.path], enc))).toBe(hex(payload))
            expect(hex(await typageOpen(enc, key.identity))).toBe(hex(payload))
        }
    })

    it("has the armor and header shape of age and typage: 64-column armor, one X25519 stanza, MAC line", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const enc = await wrapDataKey(`  ${key.recipient}\n`, new Uint8Array(32))
        // typage's armor.encode of the same bytes is the same text, byte for byte.
        expect(armor.encode(armor.decode(enc))).toBe(enc)
        expect(dearmorStrict(enc)).toBeDefined()
        const lines = headerLines(enc)
        expect(lines[0]).toBe("age-encryption.org/v1")
        expect(lines[1]).toMatch(/^-> X25519 [A-Za-z0-9+/]{43}$/)
        expect(lines[2]).toMatch(/^[A-Za-z0-9+/]{43}$/)
        expect(lines[3]).toMatch(/^--- [A-Za-z0-9+/]{43}$/)
        // A fresh file key and ephemeral share every time.
        expect(await wrapDataKey(key.recipient, new Uint8Array(32))).not.toBe(enc)
    })

    it("refuses a low-order recipient (anyone could open the stanza), naming it", async () => {
        const zero = bech32Encode("age", new Uint8Array(32))
        await expect(wrapDataKey(zero, new Uint8Array(32))).rejects.toThrow(new FormatError(`invalid age recipient "${zero}": low-order key`))
    })

    it("leaves malformed recipients to parseRecipient's errors", async () => {
        const X = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"
        const badSum = X.slice(0, -1) + "q"
        await expect(wrapDataKey(badSum, new Uint8Array(32))).rejects.toThrow(`malformed age recipient "${badSum}": bad length or checksum`)
        await expect(wrapDataKey("AGE-SECRET-KEY-1XYZ", new Uint8Array(32))).rejects.toThrow("this is an identity (secret key), not a recipient")
    })
})

describe("native wrap for SSH recipients", () => {
    for (const [type, bits] of [["ed25519", 0], ["rsa", 2048], ["rsa", 3072]] as const) {
        it(`ssh-${type}${bits ? ` ${bits}` : ""}: opens with Debian age -d -i and our unwrap, for any payload (property)`, async () => {
            const dir = tempDir()
            let key: { path: string; priv: string; pub: string }
            if (bits === 3072) {
                // A 384-byte RSA body is a multiple of 48 bytes: its stanza needs the empty line after it.
                const path = join(dir, "id_rsa3072")
                run("ssh-keygen", ["-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", path])
                key = { path, priv: readFileSync(path, "utf8"), pub: readFileSync(`${path}.pub`, "utf8") }
            } else {
                key = sshKeygen(dir, type)
            }
            const ids = parseIdentities(key.priv, key.path)
            await fc.assert(
                fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 100 }), async (payload) => {
                    const enc = await wrapDataKey(key.pub, payload)
                    expect(hex(run("age", ["-d", "-i", key.path], enc))).toBe(hex(payload))
                    expect(hex(await unwrapDataKey(enc, ids))).toBe(hex(payload))
                    expect(armor.encode(armor.decode(enc))).toBe(enc)
                }),
                { numRuns: 8 },
            )
        })
    }
})

describe("what wrapping loads", () => {
    it("wrapping for X25519 and ssh-ed25519 loads neither typage's Encrypter path nor Node's fetch stack", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir)
        const ssh = sshKeygen(dir, "ed25519")
        // A fresh Node (vitest's own process has loaded everything) runs src/keys/age.ts,
        // bundled here with its dependencies as the shipped bundle is.
        const bundle = join(dir, "age.mjs")
        await build({ entryPoints: [fileURLToPath(new URL("../../../src/keys/age.ts", import.meta.url))], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "error" })
        const script = write(
            dir,
            "wrap.mjs",
            `const { wrapDataKey } = await import(${JSON.stringify(bundle)})\n` +
                `const x = await wrapDataKey(${JSON.stringify(key.recipient)}, new Uint8Array(32))\n` +
                `const s = await wrapDataKey(${JSON.stringify(ssh.pub)}, new Uint8Array(32))\n` +
                `process.stdout.write(JSON.stringify({ x, s, undici: process.moduleLoadList.filter((m) => /undici|fetch/.test(m)) }))\n`,
        )
        const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: "utf8" })) as { x: string; s: string; undici: string[] }
        expect(out.undici).toEqual([])
        expect(hex(run("age", ["-d", "-i", key.path], out.x))).toBe(hex(new Uint8Array(32)))
        expect(hex(run("age", ["-d", "-i", ssh.path], out.s))).toBe(hex(new Uint8Array(32)))
    })
})
