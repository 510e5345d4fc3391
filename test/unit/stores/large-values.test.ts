/**
 * Large values (issue 14): the cipher's piecewise path gives exactly the ENC string
 * and the plaintext the one-shot path gives, with the same errors; binary files
 * round-trip through the engine byte for byte (a leading BOM and invalid UTF-8
 * included); and the size limits refuse with one line and sops' exit 2.
 */
import { createCipheriv, randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { decryptValue, encryptValue, formatEnc, parseEnc } from "../../../src/core/cipher.js"
import { LARGE } from "../../../src/core/enc-text.js"
import { InputLimitError, MAX_BINARY_BYTES, MAX_INPUT_BYTES } from "../../../src/core/input-limits.js"
import type { Node } from "../../../src/core/tree.js"
import { ExitCode, FormatError, IntegrityError } from "../../../src/errors.js"
import { openEncrypted } from "../../../src/engine/open.js"
import { encryptNew } from "../../../src/engine/seal.js"
import { createBinaryStore } from "../../../src/stores/binary.js"
import { parseJsonDocument } from "../../../src/stores/json-parse.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"

const KEY = new Uint8Array(randomBytes(32))
const AAD = "data:"

/** The ENC string of `plain` made in one shot, as the small-value path makes it. */
function oneShotEnc(plain: Uint8Array, iv: Uint8Array, type = "str"): string {
    const c = createCipheriv("aes-256-gcm", KEY, iv, { authTagLength: 16 })
    c.setAAD(new TextEncoder().encode(AAD))
    const data = Buffer.concat([c.update(plain), c.final()])
    return formatEnc({ data, iv, tag: c.getAuthTag(), type })
}

// Every padding case, one piece and several (the pieces are 3 MiB of plaintext).
const SIZES = [LARGE, LARGE + 1, LARGE + 2, (3 << 20) - 1, 3 << 20, (3 << 20) + 1, (7 << 20) + 2]

describe("the cipher's piecewise path for large values", () => {
    for (const n of SIZES) {
        it(`${n} bytes: the same ENC string as one shot, and back`, () => {
            const plain = new Uint8Array(randomBytes(n))
            plain[0] = 0xff // not UTF-8, so it decrypts to bytes
            const iv = new Uint8Array(randomBytes(32))
            const enc = encryptValue({ kind: "bytes", value: plain }, KEY, AAD, iv)
            expect(enc.length).toBeGreaterThanOrEqual(LARGE)
            expect(enc).toBe(oneShotEnc(plain, iv))
            const back = decryptValue(enc, KEY, AAD)
            expect(back.kind).toBe("bytes")
            expect(back.kind === "bytes" && Buffer.from(back.value).equals(Buffer.from(plain))).toBe(true)
        })
    }

    it("a large UTF-8 value decrypts to the same string, a leading BOM kept", () => {
        const text = "\ufeff" + "é€😀 line\n".repeat(20_000)
        const enc = encryptValue({ kind: "str", value: text }, KEY, AAD)
        expect(enc.length).toBeGreaterThanOrEqual(LARGE)
        expect(decryptValue(enc, KEY, AAD)).toEqual({ kind: "str", value: text })
    })

    it("a small value with a leading BOM decrypts whole (the decoder used to drop it)", () => {
        for (const value of ["\ufeff", "\ufeffsecret"]) {
            expect(decryptValue(encryptValue({ kind: "str", value }, KEY, AAD), KEY, AAD)).toEqual({ kind: "str", value })
        }
    })

    const big = (): string => encryptValue({ kind: "bytes", value: new Uint8Array(randomBytes(5 << 20)) }, KEY, AAD)
    const dataStart = "ENC[AES256_GCM,data:".length

    it("an edited ciphertext fails authentication with exit 25, as a small one does", () => {
        const enc = big()
        const at = dataStart + (4 << 20) + 7 // in the second piece
        const edited = enc.slice(0, at) + (enc[at] === "A" ? "B" : "A") + enc.slice(at + 1)
        expect(() => decryptValue(edited, KEY, AAD)).toThrow(IntegrityError)
        try {
            decryptValue(edited, KEY, AAD)
        } catch (e) {
            expect((e as IntegrityError).code).toBe(ExitCode.ErrorDecryptingTree)
        }
        expect(() => decryptValue(enc, KEY, "other:")).toThrow(IntegrityError)
    })

    it("invalid base64 anywhere in the data is malformed, not unauthentic, and the message quotes nothing", () => {
        const enc = big()
        for (const [at, c] of [[dataStart + 10, "*"], [dataStart + (4 << 20) + 3, "-"], [dataStart + (4 << 20) - 1, "="]] as const) {
            const bad = enc.slice(0, at) + c + enc.slice(at + 1)
            let err: unknown
            try {
                decryptValue(bad, KEY, AAD)
            } catch (e) {
                err = e
            }
            expect(err).toBeInstanceOf(FormatError)
            expect(err).not.toBeInstanceOf(IntegrityError)
            expect((err as FormatError).message).toBe("value does not match sops' data format")
        }
    })

    it("parseEnc reads a large ENC string the way the one-shot path wrote it", () => {
        const plain = new Uint8Array(randomBytes(LARGE * 2))
        const iv = new Uint8Array(randomBytes(32))
        const p = parseEnc(oneShotEnc(plain, iv, "bytes"))
        expect(p?.type).toBe("bytes")
        expect(p && Buffer.from(p.iv).equals(Buffer.from(iv))).toBe(true)
        expect(p?.data.length).toBe(plain.length)
    })
})

describe("binary files through the engine, byte for byte", () => {
    const cases: [string, Uint8Array][] = [
        ["a leading BOM", new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("hello\n")])],
        ["only a BOM", new Uint8Array([0xef, 0xbb, 0xbf])],
        ["invalid UTF-8", new Uint8Array([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98])],
        ["2 MiB of random bytes", new Uint8Array(randomBytes(2 << 20))],
        ["2 MiB of text", new TextEncoder().encode("\ufeffline é€\n".repeat(200_000))],
    ]
    for (const [name, bytes] of cases) {
        it(name, async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            const identity = key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) ?? ""
            const store = createBinaryStore()
            const file = await encryptNew(store.parsePlain(bytes), store, { groups: [[key.recipient]] }, new Date("2026-01-01T00:00:00Z"))
            const opened = await openEncrypted(file, store, [identity])
            expect(Buffer.from(store.emitPlain(opened.branches)).equals(Buffer.from(bytes))).toBe(true)
        })
    }

    it("a YAML value that starts with a BOM opens (its MAC used to mismatch)", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir, "k")
        const identity = key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) ?? ""
        const store = createYamlStore()
        const plain = new TextEncoder().encode("a: \"\\uFEFFx\"\n")
        const file = await encryptNew(store.parsePlain(plain), store, { groups: [[key.recipient]] }, new Date("2026-01-01T00:00:00Z"))
        const opened = await openEncrypted(file, store, [identity])
        const a = opened.branches[0]?.items[0]
        expect(a?.kind === "entry" ? (a.value as Node) : a).toEqual({ kind: "str", value: "\ufeffx" })
    })
})

describe("size limits: one line, exit 2, before any string is made", () => {
    const caught = (f: () => unknown): InputLimitError => {
        try {
            f()
        } catch (e) {
            if (e instanceof InputLimitError) return e
            throw e
        }
        throw new Error("no error")
    }

    it(`a binary file of more than ${MAX_BINARY_BYTES} bytes is refused`, () => {
        // calloc'd lazily: the pages are never touched.
        const e = caught(() => createBinaryStore().parsePlain(new Uint8Array(MAX_BINARY_BYTES + 1)))
        expect(e.code).toBe(ExitCode.CouldNotReadInputFile)
        expect(e.message).toBe(
            `the binary file is larger than 2048 MiB, the most secrets encrypts (it has ${MAX_BINARY_BYTES + 1} bytes)`,
        )
        expect(e.message).not.toContain("\n")
    })

    it(`JSON text of more than ${MAX_INPUT_BYTES} bytes (from stdin) is refused`, () => {
        const e = caught(() => parseJsonDocument(new Uint8Array(MAX_INPUT_BYTES + 1)))
        expect(e.code).toBe(ExitCode.CouldNotReadInputFile)
        expect(e.message).toBe(`the input is larger than 500 MiB, the most secrets reads (it has ${MAX_INPUT_BYTES + 1} bytes)`)
    })

    it("a binary file at the limit is accepted", () => {
        const branches = createBinaryStore().parsePlain(new Uint8Array(MAX_BINARY_BYTES))
        const data = branches[0]?.items[0]
        expect(data?.kind === "entry" && data.value.kind === "bytes" && data.value.value.length).toBe(MAX_BINARY_BYTES)
    })
})
