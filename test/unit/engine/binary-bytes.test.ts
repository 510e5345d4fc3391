/**
 * The binary byte path (engine/binary-file.ts, stores/binary-bytes.ts) against the
 * tree path it replaces for binary files (seal / decryptWithDataKey on `{data:
 * <bytes>}`): the same bytes out for the same data key, IV and metadata, and each
 * reads the other's output. Random binary data (mostly invalid UTF-8), UTF-8 text,
 * a BOM, 0 bytes, and sizes around the base64 piece edges.
 */
import { randomBytes } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { IvStash } from "../../../src/core/cipher.js"
import { decryptBase64, PLAIN_PIECE } from "../../../src/core/binary-value.js"
import { openMac } from "../../../src/core/mac.js"
import type { Metadata } from "../../../src/core/metadata.js"
import { bytes, entry, map } from "../../../src/core/tree.js"
import { decryptBinaryWithKey, sealBinary } from "../../../src/engine/binary-file.js"
import { decryptWithDataKey } from "../../../src/engine/open.js"
import { seal } from "../../../src/engine/seal.js"
import { ExitCode, IntegrityError } from "../../../src/errors.js"
import { createBinaryStore } from "../../../src/stores/binary.js"
import { locateBinaryValue } from "../../../src/stores/binary-bytes.js"
import { metadataFromTree } from "../../../src/stores/metadata.js"
import type { Store } from "../../../src/stores/store.js"

const NOW = new Date("2026-12-06T12:00:00Z")

function metadataFor(macOnlyEncrypted: boolean): Metadata {
    return {
        keyGroups: [[{ type: "age", recipient: "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", enc: "-----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n" }]],
        shamirThreshold: 0,
        lastModified: "",
        mac: "",
        rule: {},
        macOnlyEncrypted,
        version: "3.13.2",
    }
}

/** Deterministic bytes of `size` from `seed` (fast-check shrinks the seed, not megabytes). */
function bytesFrom(seed: number, size: number): Uint8Array {
    const out = new Uint8Array(size)
    let x = seed >>> 0 || 1
    for (let i = 0; i < size; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        out[i] = x & 0xff
    }
    return out
}

/** The tree path's output with a chosen IV for the data value (through the IV stash). */
function treeSeal(plain: Uint8Array, store: Store, metadata: Metadata, key: Uint8Array, iv: Uint8Array): Buffer {
    const stash = new IvStash()
    stash.remember("data:", bytes(plain), iv)
    return Buffer.from(seal([map(entry("data", bytes(plain)))], store, metadata, key, stash, NOW))
}

/** The file with its MAC's ENC string (a fresh IV each time) replaced by the MAC it holds. */
function macOpened(file: Buffer, key: Uint8Array): string {
    return file.toString("latin1").replace(/"mac": "(ENC\[[^"]*\])"/, (_, enc: string) => `"mac": "${openMac(enc, key, "2026-12-06T12:00:00Z")}"`)
}

function plainOfTree(file: Buffer, store: Store, key: Uint8Array): Buffer {
    const doc = store.parseEncrypted(file)
    const opened = decryptWithDataKey(doc.branches, metadataFromTree(doc.metadata), key, true)
    return Buffer.from(store.emitPlain(opened.branches))
}

function plainOfBytes(file: Buffer, store: Store, key: Uint8Array): Buffer | null {
    const located = locateBinaryValue(file, store)
    if (located === null) return null
    const pieces = decryptBinaryWithKey(file, located, metadataFromTree(located.doc.metadata), key)
    return pieces === null ? null : Buffer.concat(pieces)
}

// Around the encrypt pieces (3 MiB of plaintext) and the decrypt pieces (4 MiB of
// base64 = 3 MiB of plaintext), and the padding cases of small sizes.
const EDGES = [0, 1, 2, 3, 4, 5, 6, 100, PLAIN_PIECE - 2, PLAIN_PIECE - 1, PLAIN_PIECE, PLAIN_PIECE + 1, PLAIN_PIECE + 2, 2 * PLAIN_PIECE + 1]

function roundTrip(plain: Uint8Array, opts: { macOnlyEncrypted: boolean; indent?: number }): void {
    const store = createBinaryStore(opts.indent === undefined ? {} : { indent: opts.indent })
    const key = new Uint8Array(randomBytes(32))
    const iv = new Uint8Array(randomBytes(32))
    const metadata = metadataFor(opts.macOnlyEncrypted)
    const tree = treeSeal(plain, store, metadata, key, iv)
    const fast = Buffer.concat(sealBinary(plain, store, metadata, key, NOW, iv))
    expect(macOpened(fast, key)).toBe(macOpened(tree, key))
    // Each path reads the other's file.
    expect(plainOfTree(fast, store, key).equals(plain)).toBe(true)
    const back = plainOfBytes(tree, store, key)
    if (plain.length === 0) expect(back).toBeNull() // "data": "" is the general path's
    else expect(back?.equals(plain)).toBe(true)
}

describe("binary byte path = tree path", () => {
    it("the same file and plaintext for random bytes of sizes around the piece edges", () => {
        fc.assert(
            fc.property(fc.constantFrom(...EDGES), fc.integer(), fc.boolean(), fc.constantFrom(undefined, 0, 2, 4), (size, seed, macOnlyEncrypted, indent) => {
                roundTrip(bytesFrom(seed, size), { macOnlyEncrypted, ...(indent !== undefined ? { indent } : {}) })
            }),
            { numRuns: 30 },
        )
    })

    it("the same for small arbitrary byte strings, UTF-8 text and a leading BOM", () => {
        fc.assert(
            fc.property(
                fc.oneof(
                    fc.uint8Array({ maxLength: 64 }),
                    fc.string({ unit: "binary" }).map((s) => new Uint8Array(Buffer.from(s, "utf8"))),
                    fc.uint8Array({ maxLength: 16 }).map((b) => new Uint8Array([0xef, 0xbb, 0xbf, ...b])),
                ),
                (plain) => roundTrip(plain, { macOnlyEncrypted: false }),
            ),
            { numRuns: 200 },
        )
    })
})

describe("the byte path's base64 check = Go's standard base64 (BASE64_RE)", () => {
    const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/
    // 64 KiB of text is one decrypt piece: edits land in the first piece, at its end, and in the last.
    const TEXT_PIECE = (PLAIN_PIECE / 3) * 4
    it("refuses (null) exactly the texts Go refuses, whatever piece the bad character is in", () => {
        const key = new Uint8Array(32)
        const iv = new Uint8Array(32)
        const tag = new Uint8Array(16)
        fc.assert(
            fc.property(
                fc.constantFrom(4, 8, 100, TEXT_PIECE, TEXT_PIECE + 4, 2 * TEXT_PIECE - 4),
                fc.integer(),
                fc.array(fc.tuple(fc.nat(), fc.constantFrom("=", "-", "_", "*", "\n", " ", "\u0080", "A", "/", "+", ",", '"', "\\")), { maxLength: 3 }),
                fc.boolean(),
                (length, seed, edits, atEdges) => {
                    const chars = Buffer.from(Buffer.from(bytesFrom(seed, (length / 4) * 3)).toString("base64"), "latin1")
                    for (const [at, c] of edits) {
                        const edges = [0, TEXT_PIECE - 1, TEXT_PIECE - 2, chars.length - 1, chars.length - 2, chars.length - 3]
                        const where = atEdges ? (edges[at % edges.length] ?? 0) % chars.length : at % chars.length
                        chars.write(c, where, "latin1")
                    }
                    const valid = BASE64_RE.test(chars.toString("latin1"))
                    const src = Buffer.concat([Buffer.from("xx"), chars, Buffer.from("yy")])
                    let verdict: "null" | "auth" | "plain"
                    try {
                        verdict = decryptBase64(src, 2, 2 + chars.length, key, "data:", iv, tag) === null ? "null" : "plain"
                    } catch (e) {
                        expect(e).toBeInstanceOf(IntegrityError)
                        verdict = "auth"
                    }
                    // Valid text decrypts (and fails its made-up tag); anything else is left to the general path.
                    expect(verdict).toBe(valid ? "auth" : "null")
                },
            ),
            { numRuns: 300 },
        )
    })
})

describe("locating the value: only the plain shape, anything else to the general path", () => {
    const store = createBinaryStore()
    const key = new Uint8Array(randomBytes(32))
    const plain = bytesFrom(7, 1000)
    const file = Buffer.concat(sealBinary(plain, store, metadataFor(false), key, NOW)).toString("latin1")

    it("other whitespace around the value is still the plain shape", () => {
        const spaced = file.replace(/^\{\n\t"data": "/, '  {\r\n  "data"  :\n "')
        expect(plainOfBytes(Buffer.from(spaced, "latin1"), store, key)?.equals(plain)).toBe(true)
    })

    for (const [what, change] of [
        ["an escape in the value", (f: string) => f.replace("data:", "data:\\u0041")],
        ["an escaped key", (f: string) => f.replace('"data"', '"d\\u0061ta"')],
        ["a key before data", (f: string) => f.replace("{\n", '{\n\t"a": "b",\n')],
        ["a key after data", (f: string) => f.replace(',\n\t"sops"', ',\n\t"b": "c",\n\t"sops"')],
        ["a second data key", (f: string) => f.replace(',\n\t"sops"', ',\n\t"data": "x",\n\t"sops"')],
        ["another type", (f: string) => f.replace("type:str]", "type:bytes]")],
        ["text after the type", (f: string) => f.replace("type:str]", "type:str]]")],
        ["an empty IV", (f: string) => f.replace(/,iv:[^,]*,/, ",iv:,")],
        ["a URL-safe digit in the data", (f: string) => f.replace(/data:(.)/, "data:-")],
        ["a line break in the data", (f: string) => f.replace(/data:(....)/, "data:$1\n")],
        ["a stray '=' in the data", (f: string) => f.replace(/data:(.)/, "data:=")],
        ["a missing quote", (f: string) => f.replace('"data": "', '"data": ')],
        ["a JSON syntax error after the value", (f: string) => f.replace(',\n\t"sops"', ' x,\n\t"sops"')],
    ] as const) {
        it(`${what}: the general path reads it`, () => {
            const changed = Buffer.from(change(file), "latin1")
            expect(changed.equals(Buffer.from(file, "latin1"))).toBe(false)
            let got: Buffer | null = null
            try {
                got = plainOfBytes(changed, store, key)
            } catch (e) {
                // A syntax error outside the value is the general path's to report.
                expect(what).toBe("a JSON syntax error after the value")
                return
            }
            expect(got).toBeNull()
        })
    }

    it("a flipped tag byte fails with sops' exit 25 and no plaintext", () => {
        const flipped = file.replace(/tag:(.)/, (_, c: string) => `tag:${c === "A" ? "B" : "A"}`)
        const e = caught(() => plainOfBytes(Buffer.from(flipped, "latin1"), store, key))
        expect(e).toBeInstanceOf(IntegrityError)
        expect((e as IntegrityError).code).toBe(ExitCode.ErrorDecryptingTree)
    })

    it("a file whose MAC does not match fails with exit 51", () => {
        // The MAC of another plaintext under the same key and lastmodified.
        const other = Buffer.concat(sealBinary(bytesFrom(8, 1000), store, metadataFor(false), key, NOW)).toString("latin1")
        const otherMac = /"mac": "(ENC\[[^"]*\])"/.exec(other)?.[1] ?? ""
        const swapped = file.replace(/"mac": "(ENC\[[^"]*\])"/, `"mac": "${otherMac}"`)
        const e = caught(() => plainOfBytes(Buffer.from(swapped, "latin1"), store, key))
        expect(e).toBeInstanceOf(IntegrityError)
        expect((e as IntegrityError).code).toBe(ExitCode.MacMismatch)
        expect((e as IntegrityError).message).toBe("MAC mismatch")
    })
})

function caught(f: () => unknown): unknown {
    try {
        f()
    } catch (e) {
        return e
    }
    throw new Error("no error")
}
