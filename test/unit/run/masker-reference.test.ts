/**
 * The streaming masker (src/run/masker.ts) against a naive reference: mark every
 * byte any occurrence of any needle covers, then replace each maximal run of
 * marked bytes by one marker. The masker skips idle stretches four bytes at a time
 * and keeps state across chunks; whatever the bytes and the chunking, its output
 * must be exactly the reference's.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { buildMatcher, CONCEALED, Masker, MaskingStream } from "../../../src/run/masker.js"

const marker = Buffer.from(CONCEALED)

/** The definition: the union of all occurrences, each maximal covered run one marker. */
function reference(needles: Uint8Array[], text: Uint8Array): Buffer {
    const covered = new Uint8Array(text.length)
    for (const n of needles) {
        if (n.length === 0) continue
        for (let at = Buffer.from(text).indexOf(n); at >= 0; at = Buffer.from(text).indexOf(n, at + 1)) covered.fill(1, at, at + n.length)
    }
    const parts: Uint8Array[] = []
    for (let i = 0; i < text.length; ) {
        let j = i
        while (j < text.length && covered[j] === covered[i]) j++
        parts.push(covered[i] === 1 ? marker : text.subarray(i, j))
        i = j
    }
    return Buffer.concat(parts)
}

/** Feed `text` in chunks of the given sizes (cycled), each chunk at a random offset of its own buffer. */
function masked(needles: Uint8Array[], text: Uint8Array, sizes: number[], offsets: number[]): Buffer {
    const m = new Masker(buildMatcher(needles))
    const out: Uint8Array[] = []
    for (let i = 0, k = 0; i < text.length; k++) {
        const n = Math.max(1, sizes[k % sizes.length]!)
        // Chunks from a pipe start anywhere in their ArrayBuffer: the word-at-a-time
        // scan must not assume alignment.
        const pad = offsets[k % offsets.length]!
        const backing = Buffer.alloc(pad + n)
        const piece = text.subarray(i, i + n)
        backing.set(piece, pad)
        out.push(m.push(backing.subarray(pad, pad + piece.length)))
        i += n
    }
    out.push(m.end())
    return Buffer.concat(out)
}

// A four-letter alphabet, so that needles overlap, nest, touch and almost match often.
const byte = fc.constantFrom(0x61, 0x62, 0x63, 0x0a)
const bytes = (min: number, max: number) => fc.array(byte, { minLength: min, maxLength: max, size: "max" }).map((a) => Uint8Array.from(a))

describe("masker against the union-of-occurrences reference", () => {
    it("property: random needles, random bytes (with needles planted), random chunkings", () => {
        fc.assert(
            fc.property(
                fc.array(bytes(1, 6), { minLength: 1, maxLength: 5 }),
                fc.array(fc.oneof(bytes(0, 40), fc.nat({ max: 4 })), { maxLength: 12 }),
                fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 5 }),
                fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 }),
                (needles, pieces, sizes, offsets) => {
                    const text = Buffer.concat(pieces.map((p) => (typeof p === "number" ? needles[p % needles.length]! : p)))
                    expect(masked(needles, text, sizes, offsets).toString("latin1")).toBe(reference(needles, text).toString("latin1"))
                },
            ),
            { numRuns: 1500 },
        )
    })

    it("property: long idle stretches with rare needle bytes, as in a log", () => {
        // Mostly bytes that start no needle (the word-at-a-time path), with needles
        // and their prefixes straddling words and chunk edges.
        // (size "max": fast-check's default would keep these arrays to about ten bytes.)
        const idle = fc.array(fc.constantFrom(0x20, 0x2e, 0x30, 0x78), { maxLength: 300, size: "max" }).map((a) => Uint8Array.from(a))
        fc.assert(
            fc.property(
                fc.array(bytes(1, 8), { minLength: 1, maxLength: 4 }),
                fc.array(fc.oneof(idle, fc.nat({ max: 3 }), bytes(1, 3)), { maxLength: 10 }),
                fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 4 }),
                fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 }),
                (needles, pieces, sizes, offsets) => {
                    const text = Buffer.concat(pieces.map((p) => (typeof p === "number" ? needles[p % needles.length]! : p)))
                    expect(masked(needles, text, sizes, offsets).toString("latin1")).toBe(reference(needles, text).toString("latin1"))
                },
            ),
            { numRuns: 800 },
        )
    })

    it("finds a needle that a chunk's edge splits, wherever the edge falls against the words", () => {
        // Exhaustive over the cases random chunkings rarely hit: the chunk edge on or
        // just past a word boundary, the needle's first byte the chunk's last.
        const needles = [Buffer.from("vault"), Buffer.from("q")]
        for (const needle of needles) {
            for (let size = 64; size < 76; size++) {
                for (let pad = 0; pad < 4; pad++) {
                    for (let cut = 0; cut <= needle.length; cut++) {
                        const text = Buffer.concat([Buffer.alloc(size - cut, "."), needle, Buffer.alloc(9, ".")])
                        const got = masked(needles, text, [size, 40], [pad])
                        expect(got.toString("latin1"), `size ${size} pad ${pad} cut ${cut}`).toBe(reference(needles, text).toString("latin1"))
                    }
                }
            }
        }
    })

    it("hands the stream views of the chunk it was given, not copies, when a tail was held back", async () => {
        // "se" ends the first chunk and might begin the value: it is held back. The
        // plain bytes of the second chunk must go out as a view of that chunk (no
        // copy of a 64 KiB pipe read per chunk), after the two held bytes.
        const s = new MaskingStream(buildMatcher(["secret"]))
        const got: Buffer[] = []
        s.on("data", (c: Buffer) => got.push(c))
        const second = Buffer.from("xy plain text after the held tail ")
        s.write(Buffer.from("abc se"))
        s.write(second)
        s.end()
        await new Promise((r) => s.on("end", r))
        expect(Buffer.concat(got).toString()).toBe("abc sexy plain text after the held tail ")
        expect(got.some((c) => c.buffer === second.buffer && c.byteOffset === second.byteOffset)).toBe(true)
    })
})
