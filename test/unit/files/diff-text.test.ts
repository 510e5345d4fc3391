/**
 * The pure parts of the textconv (src/files/diff-text.ts): the data key id and the
 * format of a file whose name git kept but whose extension may say nothing.
 */
import { createHash, createHmac } from "node:crypto"
import { describe, expect, it } from "vitest"
import { dataKeyId, diffFormat } from "../../../src/files/diff-text.js"

const bytes = (s: string) => new TextEncoder().encode(s)

describe("dataKeyId", () => {
    it("is 8 hex of HMAC-SHA256(dataKey, label): not the key, not a plain hash of it", () => {
        const key = new Uint8Array(32).fill(7)
        const id = dataKeyId(key)
        expect(id).toBe(createHmac("sha256", key).update("secrets diff data key id").digest("hex").slice(0, 8))
        expect(id).not.toBe(createHash("sha256").update(key).digest("hex").slice(0, 8))
        expect(dataKeyId(new Uint8Array(32).fill(8))).not.toBe(id)
    })
})

describe("diffFormat", () => {
    it("takes --input-type first, then the extension git kept in the temp name", () => {
        expect(diffFormat("/tmp/git-blob-abc/app.env", bytes("{}"), "json")).toBe("json")
        expect(diffFormat("/tmp/git-blob-abc/app.env", bytes("{}"))).toBe("dotenv")
        expect(diffFormat("/tmp/git-blob-abc/app.yml", bytes("a=1"))).toBe("yaml")
    })

    it("recognises each store's sops metadata in a file without a known extension", () => {
        expect(diffFormat("secrets/app", bytes('{\n\t"a": "ENC[…]",\n\t"sops": {}\n}'))).toBe("binary")
        expect(diffFormat("secrets/app", bytes("a: ENC[…]\nsops:\n    mac: x\n"))).toBe("yaml")
        expect(diffFormat("secrets/app", bytes("a=ENC[…]\nsops_version=3.13.0\n"))).toBe("dotenv")
        expect(diffFormat("secrets/app", bytes("[db]\na = ENC[…]\n\n[sops]\nversion = 3.13.0\n"))).toBe("ini")
        expect(diffFormat("secrets/app", bytes("just some bytes\n"))).toBe("binary")
    })
})
