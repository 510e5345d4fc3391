import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MapItem, Mapping, Node } from "../../../src/core/tree.js"
import { bool, bytes, comment, entry, float, int, list, map, nil, str, time } from "../../../src/core/tree.js"
import { FormatError } from "../../../src/errors.js"
import { goJsonQuote } from "../../../src/stores/go-json-string.js"
import { emitJson, goJsonFloat } from "../../../src/stores/json-emit.js"
import { createJsonStore } from "../../../src/stores/json.js"

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const parseOne = (s: string): Mapping => {
    const b = createJsonStore().parsePlain(enc(s))[0]
    if (b === undefined) throw new Error("no branch")
    return b
}
const valueOf = (json: string): Node => {
    const item = parseOne(`{"v": ${json}}`).items[0]
    if (item?.kind !== "entry") throw new Error("no entry")
    return item.value
}

describe("JSON number typing (UseNumber: int64 text -> int, else float)", () => {
    const table: [string, Node][] = [
        ["0", int(0)],
        ["-0", int(0)],
        ["7", int(7)],
        ["9223372036854775807", int(9223372036854775807n)],
        ["-9223372036854775808", int(-9223372036854775808n)],
        ["9223372036854775808", float(9223372036854775808)],
        ["-9223372036854775809", float(-9223372036854775809)],
        ["1.0", float(1)],
        ["1e3", float(1000)],
        ["1E-7", float(1e-7)],
        ["-0.0", float(-0)],
        ["0.5", float(0.5)],
    ]
    for (const [text, want] of table) {
        it(`${text} -> ${want.kind}`, () => expect(valueOf(text)).toEqual(want))
    }
    it("keeps -0.0 negative", () => {
        const v = valueOf("-0.0")
        expect(v.kind === "float" && Object.is(v.value, -0)).toBe(true)
    })
    it("true, false, null, strings", () => {
        expect(valueOf("true")).toEqual(bool(true))
        expect(valueOf("false")).toEqual(bool(false))
        expect(valueOf("null")).toEqual(nil)
        expect(valueOf("\"a\\u00e9\\ud83d\\ude00\\n\"")).toEqual(str("aé😀\n"))
        expect(valueOf("\"\\ud800x\"")).toEqual(str("\ufffdx"))
    })
})

describe("JSON order and duplicates", () => {
    it("keeps integer-like keys in file order and duplicate keys", () => {
        const m = parseOne("{\"b\": 1, \"10\": 2, \"2\": 3, \"b\": 4}")
        expect(m).toEqual(map(entry("b", int(1)), entry("10", int(2)), entry("2", int(3)), entry("b", int(4))))
    })
})

describe("Go json.Marshal string escaping", () => {
    const table: [string | Uint8Array, string][] = [
        ["plain", "\"plain\""],
        ["<a href=\"x\">&</a>", "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\""],
        ["\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\""],
        ["\u0000\u001b\u001f\u007f", "\"\\u0000\\u001b\\u001f\u007f\""],
        ["\u2028\u2029", "\"\\u2028\\u2029\""],
        ["back\\slash /", "\"back\\\\slash /\""],
        ["é😀\ufffd", "\"é😀\ufffd\""],
        [new Uint8Array([0x61, 0xff, 0x62]), "\"a\\ufffdb\""],
        [new Uint8Array([0xe2, 0x82]), "\"\\ufffd\\ufffd\""],
        [new Uint8Array([0xed, 0xa0, 0x80]), "\"\\ufffd\\ufffd\\ufffd\""],
        [new Uint8Array([0xc3, 0xa9]), "\"é\""],
    ]
    for (const [input, want] of table) {
        it(`${JSON.stringify(typeof input === "string" ? input : Array.from(input))}`, () => {
            expect(goJsonQuote(input)).toBe(want)
        })
    }
})

describe("Go json float output", () => {
    const table: [number, string][] = [
        [1, "1"], [-0, "-0"], [0, "0"], [1.5, "1.5"], [1e21, "1e+21"], [1e20, "100000000000000000000"],
        [1e-6, "0.000001"], [1e-7, "1e-7"], [-1.25e-10, "-1.25e-10"], [0.1 + 0.2, "0.30000000000000004"],
    ]
    for (const [x, want] of table) it(`${want}`, () => expect(goJsonFloat(x)).toBe(want))
    it("rejects NaN and infinities", () => {
        expect(() => goJsonFloat(NaN)).toThrow(FormatError)
        expect(() => goJsonFloat(Infinity)).toThrow(FormatError)
    })
})

describe("JSON indentation", () => {
    const doc = map(
        entry("a", list(int(1), str("x"))),
        comment(" dropped"),
        entry("b", map()),
        entry("c", list()),
        entry("d", map(entry("e", bool(false)), entry("f", nil))),
        entry("t", time("2024-01-01T00:00:00Z")),
        entry("g", float(2.5)),
        entry("h", bytes(new Uint8Array([0x68, 0x69]))),
    )
    it("-1 (default): one tab", () => {
        expect(dec(createJsonStore().emitPlain([doc]))).toBe(
            "{\n\t\"a\": [\n\t\t1,\n\t\t\"x\"\n\t],\n\t\"b\": {},\n\t\"c\": [],\n\t\"d\": {\n\t\t\"e\": false,\n\t\t\"f\": null\n\t},\n" +
            "\t\"t\": \"2024-01-01T00:00:00Z\",\n\t\"g\": 2.5,\n\t\"h\": \"hi\"\n}\n",
        )
    })
    it("0: one element per line, no indentation", () => {
        expect(dec(createJsonStore({ indent: 0 }).emitPlain([map(entry("a", list(int(1), int(2))), entry("b", map()))])))
            .toBe("{\n\"a\": [\n1,\n2\n],\n\"b\": {}\n}\n")
    })
    it("2: two spaces", () => {
        expect(dec(createJsonStore({ indent: 2 }).emitPlain([map(entry("a", map(entry("b", str("c")))))])))
            .toBe("{\n  \"a\": {\n    \"b\": \"c\"\n  }\n}\n")
    })
    it("an empty document is {}", () => expect(dec(createJsonStore().emitPlain([map()]))).toBe("{}\n"))
    it("below -1 is an error", () => expect(() => createJsonStore({ indent: -2 })).toThrow(FormatError))
    it("emitValue: strings raw, scalars and lists as JSON without newline", () => {
        const s = createJsonStore()
        expect(dec(s.emitValue(str("a<b")))).toBe("a<b")
        expect(dec(s.emitValue(list(int(1))))).toBe("[\n\t1\n]")
        expect(dec(s.emitValue(bool(true)))).toBe("true")
        expect(dec(s.emitValue(map(entry("k", str("v")))))).toBe("{\n\t\"k\": \"v\"\n}\n")
    })
})

describe("JSON errors never quote the input", () => {
    const secret = "hunter2-secret"
    const cases: [string, string, RegExp][] = [
        ["truncated", `{"password": "${secret}"`, /^invalid JSON at line 1, column \d+$/],
        ["truncated mid-string", `{"password": "${secret}`, /^invalid JSON at line 1, column \d+$/],
        ["bad token on line 3", `{\n"a": 1,\n"password": ${secret}}`, /^invalid JSON at line 3, column 13$/],
        ["trailing garbage", `{"a": "${secret}"} ${secret}`, /^invalid JSON at line 1, column 25$/],
        ["top-level array", `["${secret}"]`, /^JSON documents that are arrays are not supported$/],
        ["top-level string", `"${secret}"`, /^JSON documents that are scalar values are not supported$/],
        ["leading zero", `{"a": 0${secret.length}}`, /^invalid JSON at line 1, column 8$/],
        ["empty input", "", /^invalid JSON at line 1, column 1$/],
    ]
    for (const [name, input, msg] of cases) {
        it(name, () => {
            let err: unknown
            try {
                createJsonStore().parsePlain(enc(input))
            } catch (e) {
                err = e
            }
            expect(err).toBeInstanceOf(FormatError)
            const e = err as FormatError
            expect(e.message).toMatch(msg)
            expect(e.message + e.hints.join(" ")).not.toContain(secret)
        })
    }
    it("the top-level array error hints at wrapping it", () => {
        try {
            createJsonStore().parsePlain(enc("[1]"))
        } catch (e) {
            expect((e as FormatError).hints.join(" ")).toContain("wrap")
        }
        expect.assertions(1)
    })
    it("parseEncrypted without sops metadata", () => {
        expect(() => createJsonStore().parseEncrypted(enc("{\"a\": 1}"))).toThrow("no sops metadata found in file")
    })
})

// Values that survive emit -> parse with their type: integral floats print as ints
// (1.0 -> "1"), exactly as with sops, so floats here are non-integral.
const keyArb = fc.string({ maxLength: 6 })
const scalarArb: fc.Arbitrary<Node> = fc.oneof(
    fc.string().map(str),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)).map(float),
    fc.boolean().map(bool),
    fc.constant(nil),
)
const { node: nodeArb } = fc.letrec<{ node: Node; mapping: Node; seq: Node }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarArb, tie("mapping"), tie("seq")),
    mapping: fc.array(fc.tuple(keyArb, tie("node")), { maxLength: 4 })
        .map((kv) => ({ kind: "map", items: kv.map(([k, v]): MapItem => entry(k, v)) })),
    seq: fc.array(tie("node"), { maxLength: 4 }).map((items) => ({ kind: "list", items })),
}))
const docArb = fc.array(fc.tuple(keyArb, nodeArb), { maxLength: 5 })
    .map((kv): Mapping => ({ kind: "map", items: kv.map(([k, v]) => entry(k, v)) }))

describe("JSON property round trip", () => {
    for (const indent of [-1, 0, 3]) {
        it(`emitPlain -> parsePlain is the identity (indent ${indent})`, () => {
            const store = createJsonStore({ indent })
            fc.assert(fc.property(docArb, (doc) => {
                expect(store.parsePlain(store.emitPlain([doc]))).toEqual([doc])
            }), { numRuns: 200 })
        })
    }
    it("emitEncrypted -> parseEncrypted gives back data and metadata", () => {
        const store = createJsonStore()
        fc.assert(fc.property(docArb.filter((d) => d.items.every((i) => i.kind !== "entry" || i.key !== "sops")), docArb, (doc, md) => {
            expect(store.parseEncrypted(store.emitEncrypted({ branches: [doc], metadata: md }))).toEqual({ branches: [doc], metadata: md })
        }), { numRuns: 100 })
    })
})
