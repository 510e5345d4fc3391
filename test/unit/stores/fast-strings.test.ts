/**
 * Issue 14's fast string paths against the slow references they replaced
 * (reference-strings.ts) and against sops' regexes: JSON string reading, Go's JSON
 * quoting of strings and bytes, and the ENC-string split and base64 check used for
 * large values. Every JSON escape, surrogate pairs, lone surrogates, control
 * characters and invalid UTF-8 are in the generators.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeBase64, decodeBase64Pieces, LARGE, splitEnc } from "../../../src/core/enc-text.js"
import { FormatError } from "../../../src/errors.js"
import { goJsonQuote } from "../../../src/stores/go-json-string.js"
import { emitJson } from "../../../src/stores/json-emit.js"
import { createJsonStore } from "../../../src/stores/json.js"
import { referenceGoJsonQuote, referenceJsonString } from "./reference-strings.js"

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder("utf-8", { ignoreBOM: true }).decode(b)

/** Pieces of text with everything the string paths treat specially. */
const textPiece = fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.string({ unit: "grapheme-ascii", maxLength: 40 }),
    fc.constantFrom("\"", "\\", "/", "<", ">", "&", "\u2028", "\u2029", "\ufeff", "\ufffd", "é", "€", "😀", "\u007f", "\u0080"),
    fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
    // Lone and reversed surrogates, and a valid pair split across pieces.
    fc.constantFrom("\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800", "\ud83d", "\ude00"),
)
const text = fc.array(textPiece, { maxLength: 30 }).map((p) => p.join(""))

/** Pieces of a JSON string literal's body: plain text and every escape, valid or not. */
const literalPiece = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => s.replace(/["\\]/g, "")) },
    { weight: 3, arbitrary: fc.constantFrom("\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t") },
    {
        weight: 3,
        arbitrary: fc.constantFrom(
            "\\u0000", "\\u001f", "\\u0041", "\\u00e9", "\\u20AC", "\\u2028", "\\ufffd", "\\uFEFF",
            "\\ud83d\\ude00", "\\uD83D\\uDE00", "\\ud800", "\\udfff", "\\ud800\\u0041", "\\ud800\\ud800", "\\udc00\\ud800",
        ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((n) => "\\u" + n.toString(16).padStart(4, "0")) },
    // Invalid: raw control characters, unknown escapes, short or bad \u.
    { weight: 1, arbitrary: fc.constantFrom("\n", "\t", "\u0000", "\u001f", "\\x", "\\u12", "\\u12g4", "\\ud800\\u12", "\\", "\\U0041") },
)
const literalBody = fc.array(literalPiece, { maxLength: 20 }).map((p) => p.join(""))

describe("JSON string literals: the run-copying reader against the one-character-at-a-time reference", () => {
    const parseValue = (doc: string): { value: string } | { error: string } => {
        try {
            const item = createJsonStore().parsePlain(enc(doc))[0]?.items[0]
            if (item?.kind !== "entry" || item.value.kind !== "str") throw new Error("no string entry")
            return { value: item.value.value }
        } catch (e) {
            if (!(e instanceof FormatError)) throw e
            return { error: e.message }
        }
    }
    const expected = (doc: string): { value: string } | { error: string } => {
        // The reference reads the text the parser reads: UTF-8 decoded (a lone
        // surrogate in the generated text is U+FFFD by then).
        const t = dec(enc(doc))
        const start = t.indexOf("\"", 1 + t.indexOf(":"))
        const r = referenceJsonString(t.slice(start))
        if ("failAt" in r) return { error: `invalid JSON at line 1, column ${start + r.failAt + 1}` }
        // A quote the body let through ended the string early: the document fails
        // after it, which is not what is compared here.
        fc.pre(start + r.end === t.length - 2)
        return { value: r.value }
    }

    it("terminated literals give the same value or fail at the same column", () => {
        fc.assert(
            fc.property(literalBody, (body) => {
                const doc = `{"k": "${body}"}`
                const want = expected(doc)
                // A failure before the closing quote is the string's; a literal that reads
                // fine ends at the closing quote and the document is valid.
                expect(parseValue(doc)).toEqual(want)
            }),
            { numRuns: 1000 },
        )
    })

    it("unterminated literals fail where the reference fails", () => {
        fc.assert(
            fc.property(literalBody, (body) => {
                const doc = `{"k": "${body}`
                expect(parseValue(doc)).toEqual(expected(doc))
            }),
            { numRuns: 500 },
        )
    })

    it("keys are read by the same reader", () => {
        fc.assert(
            fc.property(literalBody.filter((b) => !/[\u0000-\u001f]|\\(?![\\"/bfnrtu])|\\u(?![0-9a-fA-F]{4})/.test(b)), (body) => {
                const want = referenceJsonString(dec(enc(`"${body}"`)))
                // Only keys the body does not end early (a quote let through by "\\").
                fc.pre("value" in want && want.end === dec(enc(`"${body}"`)).length - 1)
                const item = createJsonStore().parsePlain(enc(`{"${body}": 1}`))[0]?.items[0]
                expect(item?.kind === "entry" ? item.key : item).toEqual("value" in want ? want.value : want)
            }),
            { numRuns: 500 },
        )
    })

    it("a multi-megabyte ASCII value and one with non-ASCII text both come back whole", () => {
        const big = "A".repeat(3 << 20) + "\\n" + "B".repeat(1 << 20)
        expect(parseValue(`{"k": "${big}"}`)).toEqual({ value: "A".repeat(3 << 20) + "\n" + "B".repeat(1 << 20) })
        const wide = "é".repeat(1 << 20) + "\\u00e9"
        expect(parseValue(`{"k": "${wide}"}`)).toEqual({ value: "é".repeat((1 << 20) + 1) })
    })

    it("invalid UTF-8 in the file becomes U+FFFD, as Go's decoder makes it", () => {
        const bytes = new Uint8Array([...enc("{\"k\": \"a"), 0xff, 0xc3, ...enc("b\"}")])
        const item = createJsonStore().parsePlain(bytes)[0]?.items[0]
        expect(item?.kind === "entry" && item.value).toEqual({ kind: "str", value: "a\ufffd\ufffdb" })
    })
})

describe("Go JSON quoting: the run-copying quoter against the per-rune reference", () => {
    it("strings, with every escape, surrogate pairs and lone surrogates", () => {
        fc.assert(
            fc.property(text, (s) => {
                expect(goJsonQuote(s)).toBe(referenceGoJsonQuote(s))
            }),
            { numRuns: 1000 },
        )
    })

    /** Bytes: valid UTF-8 of the text pieces, with random and truncated sequences mixed in. */
    const bytePiece = fc.oneof(
        textPiece.map((s) => enc(s)),
        fc.uint8Array({ maxLength: 8 }),
        fc.constantFrom(
            [0xff], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbb, 0xbf], [0xe2, 0x80, 0xa8],
        ).map((b) => new Uint8Array(b)),
    )
    const bytes = fc.array(bytePiece, { maxLength: 30 }).map((parts) => {
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
        let at = 0
        for (const p of parts) (out.set(p, at), (at += p.length))
        return out
    })

    it("bytes, with invalid UTF-8 (Go's one U+FFFD per bad byte)", () => {
        fc.assert(
            fc.property(bytes, (b) => {
                expect(goJsonQuote(b)).toBe(referenceGoJsonQuote(b))
            }),
            { numRuns: 1000 },
        )
    })

    it("bytes that are views into a larger buffer", () => {
        fc.assert(
            fc.property(bytes, fc.nat(5), fc.nat(5), (b, before, after) => {
                const big = new Uint8Array(before + b.length + after).fill(0x22)
                big.set(b, before)
                const view = big.subarray(before, before + b.length)
                expect(goJsonQuote(view)).toBe(referenceGoJsonQuote(b))
            }),
        )
    })

    it("emitted JSON of a tree of such strings is the reference quoting, byte for byte", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), (pairs) => {
                const tree = { kind: "map" as const, items: pairs.map(([k, v]) => ({ kind: "entry" as const, key: k, value: { kind: "str" as const, value: v } })) }
                const want = pairs.length === 0 ? "{}" : "{\n" + pairs.map(([k, v]) => `\t${referenceGoJsonQuote(k)}: ${referenceGoJsonQuote(v)}`).join(",\n") + "\n}"
                expect(emitJson(tree)).toBe(want)
                expect(dec(createJsonStore().emitPlain([tree]))).toBe(dec(enc(want + "\n")))
            }),
            { numRuns: 500 },
        )
    })
})

describe("ENC strings of large values: indexOf splitting and base64 by re-encoding against sops' regexes", () => {
    const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/
    const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/
    const regexSplit = (s: string) => {
        const m = ENC_RE.exec(s)
        return m === null ? null : [m[1], m[2], m[3], m[4]]
    }

    const fragment = fc.constantFrom(",iv:", ",tag:", ",type:", "]", ",", ":", "\n", "\r", "\u2028", "\u2029", "=", "str", "QUJD", "ENC[AES256_GCM,data:", "")
    const encLike = fc
        .tuple(
            fc.constantFrom("ENC[AES256_GCM,data:", "ENC[AES256_GCM,data:", "ENC[AES256_GCM,data:", "ENC[AES256_GCM,dat:", "XENC[AES256_GCM,data:"),
            fc.array(fc.oneof(fragment, fc.string({ maxLength: 3 })), { maxLength: 12 }),
            fc.nat(12),
            fc.constantFrom("x", "A", "]"),
        )
        .map(([prefix, parts, at, fill]) => {
            // One run long enough for the fast path, somewhere among the fragments.
            const p = [...parts]
            p.splice(at % (p.length + 1), 0, fill.repeat(LARGE))
            return prefix + p.join("")
        })

    it("splitEnc finds the fields the backtracking regex finds, or none when it finds none", () => {
        fc.assert(
            fc.property(encLike, (s) => {
                expect(s.length).toBeGreaterThanOrEqual(LARGE)
                expect(splitEnc(s)).toEqual(regexSplit(s))
            }),
            { numRuns: 300 },
        )
    })

    it("well-formed large ENC strings split into their fields, with ] and , inside the type", () => {
        const data = "QUJD".repeat(LARGE / 4)
        expect(splitEnc(`ENC[AES256_GCM,data:${data},iv:AAAA,tag:BBBB,type:str]`)).toEqual([data, "AAAA", "BBBB", "str"])
        const odd = `ENC[AES256_GCM,data:${data},iv:A,iv:B,tag:C,type:D],tag:E,type:str]tail]x`
        expect(splitEnc(odd)).toEqual(regexSplit(odd))
    })

    /** Large base64 text, canonical or broken in one of the ways Node's decoder forgives. */
    const base64Text = fc
        .tuple(
            fc.uint8Array({ minLength: 1, maxLength: 64 }),
            fc.integer({ min: 12 * 1024, max: 14 * 1024 }),
            fc.constantFrom("none", "none", "char", "urlsafe", "pad-inside", "bits", "drop", "extra-pad", "space"),
            fc.nat(),
        )
        .map(([seed, size, damage, where]) => {
            const bytes = new Uint8Array(size * 4 + seed.length)
            for (let i = 0; i < bytes.length; i++) bytes[i] = (seed[i % seed.length] ?? 0) ^ (i * 31)
            let s = Buffer.from(bytes).toString("base64")
            const i = where % s.length
            const put = (at: number, c: string) => s.slice(0, at) + c + s.slice(at + 1)
            if (damage === "char") s = put(i, "*")
            if (damage === "urlsafe") s = put(i, "-")
            if (damage === "pad-inside") s = put(Math.min(i, s.length - 8), "=")
            if (damage === "drop") s = s.slice(0, i) + s.slice(i + 1)
            if (damage === "extra-pad") s = s.slice(0, -4) + "A==="
            if (damage === "space") s = put(i, " ")
            if (damage === "bits") {
                // Non-zero bits in the last character before padding: Go decodes it anyway.
                s = s.replace(/A(=+)$/, "B$1")
                if (!s.endsWith("=")) s = s.slice(0, -4) + "QUI="
            }
            return s
        })
    const reference = (s: string): Buffer | null => (s.length % 4 === 0 && BASE64_RE.test(s) ? Buffer.from(s, "base64") : null)

    it("decodeBase64 accepts exactly what the regex accepts, with the same bytes", () => {
        fc.assert(
            fc.property(base64Text, (s) => {
                expect(decodeBase64(s)).toEqual(reference(s))
            }),
            { numRuns: 40 },
        )
    })

    it("decodeBase64Pieces gives the same verdict and the same bytes, piece by piece", () => {
        fc.assert(
            fc.property(base64Text, (s) => {
                const pieces: Buffer[] = []
                const ok = decodeBase64Pieces(s, (b) => pieces.push(Buffer.from(b)))
                const want = reference(s)
                expect(ok).toBe(want !== null)
                if (want !== null) expect(Buffer.concat(pieces)).toEqual(want)
            }),
            { numRuns: 40 },
        )
    })

    it("pieces of 4 MiB: '=' ending an inner piece is refused, trailing padding is not", () => {
        const body = "QUJD".repeat(1 << 20) // exactly one 4 MiB piece
        const count = (s: string) => {
            let n = 0
            return decodeBase64Pieces(s, (b) => (n += b.length)) ? n : null
        }
        expect(count(body + "QQ==")).toBe(3 * (1 << 20) + 1)
        expect(count(body.slice(0, -2) + "==" + "QUJD")).toBeNull()
        expect(count(body + "QUJD")).toBe(3 * (1 << 20) + 3)
    })
})
