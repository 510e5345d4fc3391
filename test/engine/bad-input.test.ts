/**
 * Bad input gets one clear error of the right class and exit code, and the message
 * never carries a plaintext value.
 */
import { describe, expect, it } from "vitest"
import { encryptNew } from "../../src/engine/seal.js"
import { openEncrypted } from "../../src/engine/open.js"
import { parseIdentities } from "../../src/keys/identity-file.js"
import { loadStore } from "../../src/stores/index.js"
import { FormatError, IntegrityError, NoIdentityError, SecretsError } from "../../src/errors.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "hunter2-very-secret"
const PLAIN = `user: admin\npassword: ${SECRET}\nport: 5432\n`

async function fixture() {
    const dir = tempDir()
    const key = ageKeygen(dir, "k")
    const store = await loadStore("yaml")
    const out = Buffer.from(await encryptNew(store.parsePlain(Buffer.from(PLAIN)), store, { groups: [[key.recipient]] }, new Date())).toString()
    return { store, out, ids: parseIdentities(key.text, key.file), dir }
}

async function failure(p: Promise<unknown>): Promise<SecretsError> {
    try {
        await p
    } catch (e) {
        expect(e).toBeInstanceOf(SecretsError)
        const err = e as SecretsError
        expect(err.message).not.toContain(SECRET)
        expect(err.message).not.toContain("\n")
        for (const h of err.hints) expect(h).not.toContain(SECRET)
        return err
    }
    throw new Error("expected a failure")
}

describe("opening a damaged file", () => {
    it("a value swapped for another value's ciphertext fails the GCM check (path-bound AAD)", async () => {
        const { store, out, ids } = await fixture()
        const lines = out.split("\n")
        const user = lines.findIndex((l) => l.startsWith("user:"))
        const pass = lines.findIndex((l) => l.startsWith("password:"))
        lines[user] = "user:" + lines[pass]!.slice("password:".length)
        const err = await failure(openEncrypted(Buffer.from(lines.join("\n")), store, ids))
        expect(err).toBeInstanceOf(IntegrityError)
        // sops: "Error decrypting tree", ErrorDecryptingTree; 51 is for the MAC.
        expect(err.code).toBe(25)
    })

    it("a clear value changed under the MAC fails with a MAC mismatch (exit 51)", async () => {
        const { store, ids } = await fixture()
        const dir = tempDir()
        const key = ageKeygen(dir, "k2")
        const src = `a: 1\nb_unencrypted: clear\n`
        const enc = Buffer.from(await encryptNew(store.parsePlain(Buffer.from(src)), store, { groups: [[key.recipient]] }, new Date())).toString()
        const tampered = enc.replace("b_unencrypted: clear", "b_unencrypted: changed")
        expect(tampered).not.toBe(enc)
        const err = await failure(openEncrypted(Buffer.from(tampered), store, parseIdentities(key.text, "k2")))
        expect(err).toBeInstanceOf(IntegrityError)
        expect(err.message).toMatch(/MAC mismatch/)
        void ids
    })

    it("a truncated file is a format error, not a crash", async () => {
        const { store, out, ids } = await fixture()
        const err = await failure(openEncrypted(Buffer.from(out.slice(0, out.indexOf("sops:") + 20)), store, ids))
        expect(err).toBeInstanceOf(FormatError)
    })

    it("a file without metadata says so", async () => {
        const { store, ids } = await fixture()
        const err = await failure(openEncrypted(Buffer.from(PLAIN), store, ids))
        expect(err.message).toMatch(/sops metadata not found/)
    })

    it("a malformed ENC value is reported by path, without the value", async () => {
        const { store, out, ids } = await fixture()
        const broken = out.replace(/^password: ENC\[AES256_GCM,data:/m, "password: ENC[AES256_GCM,dat:")
        const err = await failure(openEncrypted(Buffer.from(broken), store, ids))
        expect(err).toBeInstanceOf(FormatError)
    })

    it("an unknown metadata field is refused with a hint", async () => {
        const { store, out, ids } = await fixture()
        const err = await failure(openEncrypted(Buffer.from(out.replace("sops:\n", "sops:\n    frobnicate: yes\n")), store, ids))
        expect(err.message).toMatch(/unknown sops metadata field "frobnicate"/)
        expect(err.hints.length).toBeGreaterThan(0)
    })

    it("the wrong key exits 128 and names the file's recipients", async () => {
        const { store, out } = await fixture()
        const other = ageKeygen(tempDir(), "other")
        const err = await failure(openEncrypted(Buffer.from(out), store, parseIdentities(other.text, "other")))
        expect(err).toBeInstanceOf(NoIdentityError)
        expect(err.code).toBe(128)
        expect(err.hints.join(" ")).toMatch(/age1/)
    })
})

describe("encrypting bad plaintext", () => {
    it("refuses a document that already has a top-level sops key (exit 203)", async () => {
        const store = await loadStore("yaml")
        const key = ageKeygen(tempDir(), "k")
        const err = await failure(encryptNew(store.parsePlain(Buffer.from("a: 1\nsops: x\n")), store, { groups: [[key.recipient]] }, new Date()))
        expect(err.code).toBe(203)
    })

    it("refuses an empty recipient list", async () => {
        const store = await loadStore("yaml")
        const err = await failure(encryptNew(store.parsePlain(Buffer.from("a: 1\n")), store, { groups: [[]] }, new Date()))
        expect(err.message).toMatch(/no recipients/)
    })
})
