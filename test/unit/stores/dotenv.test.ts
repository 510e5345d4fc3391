import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MapItem, Mapping } from "../../../src/core/tree.js"
import { bool, bytes, comment, entry, float, int, list, map, str, time } from "../../../src/core/tree.js"
import { ExitCode, FormatError } from "../../../src/errors.js"
import { createDotenvStore } from "../../../src/stores/dotenv.js"

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const store = createDotenvStore()

function formatError(f: () => unknown): FormatError {
    try {
        f()
    } catch (e) {
        if (e instanceof FormatError) return e
        throw e
    }
    throw new Error("did not throw")
}

describe("dotenv parsing", () => {
    it("splits at the first = without trimming, decodes literal \\n, keeps quotes and \\r", () => {
        const [b] = store.parsePlain(enc("foo = bar\n\n#c1\nA=\"x\"=y\nNL=a\\nb\nCR=v\r\n# spaced\n"))
        expect(b).toEqual(map(
            entry("foo ", str(" bar")),
            comment("c1"),
            entry("A", str("\"x\"=y")),
            entry("NL", str("a\nb")),
            entry("CR", str("v\r")),
            comment(" spaced"),
        ))
    })
    it("a # not in column 1 is part of the line", () => {
        expect(store.parsePlain(enc(" #x=1\nk=v #no comment"))).toEqual([map(entry(" #x", str("1")), entry("k", str("v #no comment")))])
    })
    it("a value that is not UTF-8 stays bytes", () => {
        expect(store.parsePlain(new Uint8Array([0x6b, 0x3d, 0xff, 0x0a]))).toEqual([map(entry("k", bytes(new Uint8Array([0xff]))))])
    })
})

describe("dotenv emitting", () => {
    it("writes #comments and key=value with newlines as \\n", () => {
        const out = store.emitPlain([map(comment(" hi"), entry("a", str("x\ny")), entry("b ", str(" c")))])
        expect(dec(out)).toBe("# hi\na=x\\ny\nb = c\n")
    })
    it("writes non-strings with ValueToString", () => {
        const out = store.emitPlain([map(
            entry("i", int(-12)), entry("f1", float(1)), entry("f2", float(1.5)), entry("f3", float(1234567)),
            entry("f4", float(0.00001)), entry("f5", float(100000)), entry("b", bool(true)),
            entry("t", time("2024-01-01T00:00:00Z")),
        )])
        expect(dec(out)).toBe("i=-12\nf1=1.0\nf2=1.5\nf3=1.234567E+06\nf4=1E-05\nf5=100000.0\nb=true\nt=2024-01-01T00:00:00Z\n")
    })
    it("writes bytes back raw", () => {
        const out = store.emitPlain([map(entry("k", bytes(new Uint8Array([0xff, 0x0a]))))])
        expect(Array.from(out)).toEqual([0x6b, 0x3d, 0xff, 0x5c, 0x6e, 0x0a])
    })
    it("puts metadata after the data, flattened, sorted and prefixed", () => {
        const md = map(
            entry("version", str("3.13.2")),
            entry("age", list(map(entry("recipient", str("age1x")), entry("enc", str("A\nB\n"))))),
            entry("shamir_threshold", int(2)),
        )
        const out = store.emitEncrypted({ branches: [map(entry("k", str("v")), comment("c"))], metadata: md })
        expect(dec(out)).toBe(
            "k=v\n#c\nsops_age__list_0__map_enc=A\\nB\\n\nsops_age__list_0__map_recipient=age1x\nsops_shamir_threshold=2\nsops_version=3.13.2\n",
        )
    })
})

describe("dotenv errors never quote the input", () => {
    const secret = "s3cr3t-value"
    it("a line without =", () => {
        const e = formatError(() => store.parsePlain(enc(`A=1\n\n${secret}\n`)))
        expect(e.message).toBe("invalid dotenv input line 3")
        expect(e.message + e.hints.join()).not.toContain(secret)
    })
    it("a nested value", () => {
        const e = formatError(() => store.emitPlain([map(entry("db", map(entry("password", str(secret)))))]))
        expect(e.message).toBe("cannot write the nested value at \"db\" to a dotenv file")
        expect(e.hints.length).toBeGreaterThan(0)
        expect(e.message + e.hints.join()).not.toContain(secret)
        expect(() => store.emitPlain([map(entry("l", list(str(secret))))])).toThrow(FormatError)
    })
    it("a sops_ key in a plaintext file", () => {
        const e = formatError(() => store.parsePlain(enc(`A=1\nsops_mac=${secret}\n`)))
        expect(e.message).toBe("dotenv key on line 2 starts with the reserved prefix \"sops_\"")
        expect(e.code).toBe(ExitCode.FileAlreadyEncrypted)
        expect(e.message + e.hints.join()).not.toContain(secret)
    })
    it("an encrypted file without metadata", () => {
        expect(formatError(() => store.parseEncrypted(enc("A=1\n"))).message).toBe("no sops metadata found in file")
    })
})

// Keys: no "=", no newline, no leading "#", not "sops_…"; values: no literal "\n"
// (backslash then n reads back as a newline, by design: #1127).
const keyArb = fc.string({ minLength: 1, maxLength: 8 })
    .filter((k) => !k.includes("=") && !k.includes("\n") && !k.startsWith("#") && !k.startsWith("sops_"))
const valueArb = fc.string({ maxLength: 12 }).filter((v) => !v.includes("\\n"))
const itemArb: fc.Arbitrary<MapItem> = fc.oneof(
    fc.tuple(keyArb, valueArb).map(([k, v]) => entry(k, str(v))),
    fc.string({ maxLength: 8 }).filter((c) => !c.includes("\n")).map((c) => comment(c)),
)
const docArb = fc.array(itemArb, { maxLength: 8 }).map((items): Mapping => ({ kind: "map", items }))

describe("dotenv property round trip", () => {
    it("emitPlain -> parsePlain is the identity for flat string maps", () => {
        fc.assert(fc.property(docArb, (doc) => {
            expect(store.parsePlain(store.emitPlain([doc]))).toEqual([doc])
        }), { numRuns: 300 })
    })
    it("emitEncrypted -> parseEncrypted keeps data and (sorted) metadata", () => {
        const mdArb = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z_]{0,6}[a-z]$/), valueArb), { selector: ([k]) => k, minLength: 1, maxLength: 5 })
            .filter((kv) => kv.every(([k]) => !k.includes("__")))
        fc.assert(fc.property(docArb, mdArb, (doc, kv) => {
            const md = map(...kv.map(([k, v]) => entry(k, str(v))))
            const sorted = map(...[...kv].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => entry(k, str(v))))
            const back = store.parseEncrypted(store.emitEncrypted({ branches: [doc], metadata: md }))
            expect(back).toEqual({ branches: [doc], metadata: sorted })
        }), { numRuns: 200 })
    })
})
