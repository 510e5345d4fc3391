/**
 * The masker of `secrets run` (src/run/masker.ts): no needle survives, whatever
 * the chunking, and text without needles passes unchanged.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { buildMatcher, CONCEALED, Masker, MaskingStream } from "../../../src/run/masker.js"
import { maskNeedles } from "../../../src/run/needles.js"
import { addMaskLines, escapeCommandData } from "../../../src/run/github-mask.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Run `text` through a masker in chunks of the given sizes (cycled). */
function maskChunked(needles: string[], text: string, sizes: number[]): string {
    const masker = new Masker(buildMatcher(maskNeedles(needles)))
    const bytes = enc.encode(text)
    const out: Uint8Array[] = []
    let i = 0
    let k = 0
    while (i < bytes.length) {
        const n = Math.max(1, sizes.length === 0 ? bytes.length : sizes[k++ % sizes.length]!)
        out.push(masker.push(bytes.subarray(i, i + n)))
        i += n
    }
    out.push(masker.end())
    return dec.decode(Buffer.concat(out))
}

describe("masker", () => {
    it("conceals a value split across 1-byte writes, on both sides of plain text", () => {
        const out = maskChunked(["hunter2-secret"], "user=admin pass=hunter2-secret done", [1])
        expect(out).toBe(`user=admin pass=${CONCEALED} done`)
    })

    it("conceals each line of a multi-line value and its base64", () => {
        const key = "-----BEGIN KEY-----\nAAAAbbbbCCCC\nddddEEEE\n-----END KEY-----"
        const b64 = Buffer.from(key).toString("base64")
        const out = maskChunked([key], `whole:${key}|line:ddddEEEE|b64:${b64}|`, [3])
        expect(out).not.toContain("AAAAbbbbCCCC")
        expect(out).not.toContain("ddddEEEE")
        expect(out).not.toContain(b64.replace(/=+$/, ""))
        expect(out).toContain(`line:${CONCEALED}|`)
    })

    it("conceals a multi-line value printed whole with one marker, and its trimmed form", () => {
        const value = "first-line\nsecond-line\n"
        expect(maskChunked([value], `[${value}]`, [1])).toBe(`[${CONCEALED}]`)
        expect(maskChunked([value], "[first-line\nsecond-line]", [2])).toBe(`[${CONCEALED}]`)
        // Alone, a line is concealed by itself.
        expect(maskChunked([value], "[second-line]", [1])).toBe(`[${CONCEALED}]`)
    })

    it("conceals the whole run where values overlap, and a longer value around a shorter one", () => {
        expect(maskChunked(["abcd1", "d1efg"], "x abcd1efg y", [1])).toBe(`x ${CONCEALED} y`)
        expect(maskChunked(["pass", "password123"], "[password123] [pass]", [2])).toBe(`[${CONCEALED}] [${CONCEALED}]`)
    })

    it("passes text through unchanged when there are no values", () => {
        expect(maskChunked([], "plain text\n", [1])).toBe("plain text\n")
    })

    it("holds back no more than the longest value minus one byte", () => {
        const masker = new Masker(buildMatcher(["secretvalue"]))
        const out = masker.push(enc.encode("aaaaaaaaaasecretvalu"))
        // "secretvalu" (10 bytes) could still become the value; the rest is final.
        expect(dec.decode(out)).toBe("aaaaaaaaaa")
    })

    it("property: for random values and chunkings, no value survives and the rest is unchanged", () => {
        // A small alphabet makes overlaps and near-misses frequent.
        const word = fc.stringMatching(/^[abcé\n]{4,12}$/)
        fc.assert(
            fc.property(
                fc.array(word, { minLength: 1, maxLength: 4 }),
                fc.array(fc.oneof(fc.stringMatching(/^[abcxyé ]{0,8}$/), fc.nat({ max: 3 })), { maxLength: 12 }),
                fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
                (values, pieces, sizes) => {
                    const text = pieces.map((p) => (typeof p === "number" ? values[p % values.length]! : p)).join("")
                    const out = maskChunked(values, text, sizes)
                    // Same result as one write: chunking changes nothing.
                    expect(out).toBe(maskChunked(values, text, []))
                    const needles = maskNeedles(values)
                    for (const n of needles) expect(out.split(CONCEALED).some((part) => part.includes(n))).toBe(false)
                    // Without the markers, what is left is the text in order (only cut, never changed).
                    const kept = out.split(CONCEALED)
                    let at = 0
                    for (const part of kept) {
                        const found = text.indexOf(part, at)
                        expect(found).toBeGreaterThanOrEqual(0)
                        at = found + part.length
                    }
                    if (!needles.some((n) => text.includes(n))) expect(out).toBe(text)
                },
            ),
            { numRuns: 400 },
        )
    })

    it("works as a stream with 1-byte writes", async () => {
        const s = new MaskingStream(buildMatcher(["s3cr3t-token"]))
        const chunks: Buffer[] = []
        s.on("data", (c: Buffer) => chunks.push(c))
        const done = new Promise((r) => s.on("end", r))
        for (const b of enc.encode("a s3cr3t-token b")) s.write(Buffer.from([b]))
        s.end()
        await done
        expect(Buffer.concat(chunks).toString()).toBe(`a ${CONCEALED} b`)
    })
})

describe("GitHub add-mask lines", () => {
    it("escapes % CR LF as the toolkit does, and gives each line of a multi-line value its own mask", () => {
        expect(escapeCommandData("a%0A\r\nb")).toBe("a%250A%0D%0Ab")
        const { lines, tooShort } = addMaskLines([
            { name: "PEM", value: "line-one\nline-two" },
            { name: "PCT", value: "100%sure" },
            { name: "PIN", value: "123" },
        ])
        expect(lines).toEqual(["::add-mask::line-one%0Aline-two\n", "::add-mask::line-one\n", "::add-mask::line-two\n", "::add-mask::100%25sure\n"])
        expect(tooShort).toEqual(["PIN"])
    })
})
