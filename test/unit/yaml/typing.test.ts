import { describe, expect, it } from "vitest"
import { FormatError } from "../../../src/errors.js"
import type { Scalar } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { enc, parse1 } from "./helpers.js"

const s = (value: string): Scalar => ({ kind: "str", value })
const i = (value: bigint): Scalar => ({ kind: "int", value })
const f = (value: number): Scalar => ({ kind: "float", value })
const b = (value: boolean): Scalar => ({ kind: "bool", value })
const t = (value: string): Scalar => ({ kind: "time", value })
const nil: Scalar = { kind: "null" }

// `k: <source>` -> the scalar yaml.v3 (as used by sops 3.13) gives.
const TABLE: [string, Scalar][] = [
    ["true", b(true)], ["True", b(true)], ["TRUE", b(true)],
    ["false", b(false)], ["False", b(false)], ["FALSE", b(false)],
    ["tRue", s("tRue")],
    // YAML 1.1 booleans are strings in yaml.v3.
    ["yes", s("yes")], ["no", s("no")], ["on", s("on")], ["off", s("off")], ["y", s("y")], ["Yes", s("Yes")],
    ["~", nil], ["null", nil], ["Null", nil], ["NULL", nil], ["", nil], ["nULL", s("nULL")],
    [".inf", f(Infinity)], [".Inf", f(Infinity)], [".INF", f(Infinity)], ["+.inf", f(Infinity)],
    ["-.inf", f(-Infinity)], ["-.Inf", f(-Infinity)], [".nan", f(NaN)], [".NaN", f(NaN)], [".NAN", f(NaN)],
    [".Nan", s(".Nan")],
    ["2024-01-01", t("2024-01-01T00:00:00Z")],
    ["2024-1-2", t("2024-01-02T00:00:00Z")],
    ["2001-12-14t21:59:43.10-05:00", t("2001-12-14T21:59:43.1-05:00")],
    // time.Parse reads at most nine fraction digits; the rest fails the layout (go-yaml oracle).
    ["2001-12-14T21:59:43.123456789123Z", s("2001-12-14T21:59:43.123456789123Z")],
    ["2001-12-14 21:59:43.10", t("2001-12-14T21:59:43.1Z")],
    ["2024-01-01T00:00:00+00:00", t("2024-01-01T00:00:00Z")],
    ["2024-01-01T10:00:00.000Z", t("2024-01-01T10:00:00Z")],
    ["2006-01-02T15:04:05+07:06", t("2006-01-02T15:04:05+07:06")],
    ["2024-13-01", s("2024-13-01")], ["2024-02-30", s("2024-02-30")], ["2024-02-29", t("2024-02-29T00:00:00Z")],
    ["24-01-01", s("24-01-01")],
    ["0x1F", i(31n)], ["0X1f", i(31n)], ["-0x1F", i(-31n)], ["017", i(15n)], ["0o17", i(15n)], ["0b101", i(5n)],
    ["1_000", i(1000n)], ["12345_54321", i(1234554321n)], ["+5", i(5n)], ["-0", i(0n)], ["0", i(0n)],
    ["9223372036854775807", i(9223372036854775807n)], ["-9223372036854775808", i(-9223372036854775808n)],
    // Beyond uint64 ParseUint fails too and the float regexp takes it.
    ["99999999999999999999", f(1e20)], ["-9223372036854775809", f(-9223372036854775809)],
    // A leading-zero "octal" with an 8 is not an int but matches the float regexp.
    ["08", f(8)], ["0o8", s("0o8")], ["0b", s("0b")], ["0xZZ", s("0xZZ")],
    ["1.5", f(1.5)], ["1e3", f(1000)], ["12e3", f(12000)], [".5", f(0.5)], ["-.5", f(-0.5)], ["1.", f(1)],
    ["1_000.5", f(1000.5)], ["1e400", s("1e400")], ["1e", s("1e")], ["+", s("+")],
    ["1:20", s("1:20")], ["12:30:00", s("12:30:00")],
    ['"123"', s("123")], ["'1.5'", s("1.5")], ['"true"', s("true")], ["''", s("")], ['""', s("")],
    ["!!str 123", s("123")], ["!!str true", s("true")], ['!!int "12"', i(12n)], ["!!float 1", f(1)],
    ["!!bool true", b(true)], ["!!null ~", nil], ["!!timestamp 2024-01-01", t("2024-01-01T00:00:00Z")],
    ["!!binary aGVsbG8=", s("hello")],
    // Custom tags are dropped; the text stays a string (issue #635). The non-specific
    // tag `!` is no tag at all for go-yaml's parser: the plain text is resolved (go-yaml oracle).
    ["!custom 12", s("12")], ["! 12", i(12n)], ["! '12'", s("12")],
    ["|\n  12\n", s("12\n")], [">-\n  a\n  b\n", s("a b")],
    ["ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", s("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")],
    ["hello world", s("hello world")], ["héllo", s("héllo")],
]

describe("scalar typing matches yaml.v3", () => {
    it("has a large table", () => expect(TABLE.length).toBeGreaterThanOrEqual(40))
    for (const [src, want] of TABLE) {
        it(`k: ${JSON.stringify(src)}`, () => {
            expect(parse1(`k: ${src}\n`)).toEqual({ kind: "map", items: [{ kind: "entry", key: "k", value: want }] })
        })
    }
})

describe("structure", () => {
    it("expands aliases and keeps << as a literal key", () => {
        const doc = parse1("base: &b\n    x: 1\ncopy: *b\nmerged:\n    <<: *b\n    y: 2\n")
        const x = { kind: "map", items: [{ kind: "entry", key: "x", value: i(1n) }] }
        expect(doc.items).toEqual([
            { kind: "entry", key: "base", value: x },
            { kind: "entry", key: "copy", value: x },
            { kind: "entry", key: "merged", value: { kind: "map", items: [{ kind: "entry", key: "<<", value: x }, { kind: "entry", key: "y", value: i(2n) }] } },
        ])
    })

    it("reads several documents; an empty one is an empty branch", () => {
        const docs = createYamlStore().parsePlain(enc("a: 1\n---\n---\nb: 2\n"))
        expect(docs).toEqual([
            { kind: "map", items: [{ kind: "entry", key: "a", value: i(1n) }] },
            { kind: "map", items: [] },
            { kind: "map", items: [{ kind: "entry", key: "b", value: i(2n) }] },
        ])
        expect(createYamlStore().parsePlain(enc(""))).toEqual([])
    })

    it("places comments: head, between entries, nested foot, list, inline", () => {
        const doc = parse1([
            "# head", "a: 1 # inline a", "b:", "    # inside b", "    c: 2", "    # foot of b", "# before d",
            "d:", "    - x", "    # between", "    - y # inline y", "e: # on key", "    f: 3", "",
        ].join("\n"))
        expect(doc.items).toEqual([
            { kind: "comment", text: " head" },
            { kind: "comment", text: " inline a", inline: true },
            { kind: "entry", key: "a", value: i(1n) },
            { kind: "entry", key: "b", value: { kind: "map", items: [
                { kind: "comment", text: " inside b" },
                { kind: "entry", key: "c", value: i(2n) },
                { kind: "comment", text: " foot of b" },
            ] } },
            { kind: "comment", text: " before d" },
            { kind: "entry", key: "d", value: { kind: "list", items: [
                s("x"), { kind: "comment", text: " between" }, { kind: "comment", text: " inline y", inline: true }, s("y"),
            ] } },
            // A comment after a key whose value is a block is the key's line comment: sops reads it as a plain comment (go-yaml oracle).
            { kind: "comment", text: " on key" },
            { kind: "entry", key: "e", value: { kind: "map", items: [{ kind: "entry", key: "f", value: i(3n) }] } },
        ])
    })

    it("parseEncrypted strips sops from every document and returns document 1's", () => {
        const store = createYamlStore()
        const d = store.parseEncrypted(enc("a: 1\nsops:\n    version: 1.0.0\n---\nb: 2\nsops:\n    version: 9.9.9\n"))
        expect(d.branches).toEqual([
            { kind: "map", items: [{ kind: "entry", key: "a", value: i(1n) }] },
            { kind: "map", items: [{ kind: "entry", key: "b", value: i(2n) }] },
        ])
        expect(d.metadata).toEqual({ kind: "map", items: [{ kind: "entry", key: "version", value: s("1.0.0") }] })
    })
})

describe("bad input is a FormatError that quotes no value", () => {
    const SECRET = "hunter2secret"
    const cases: [string, string, RegExp][] = [
        ["duplicate keys", `a: ${SECRET}\nb: 1\na: ${SECRET}\n`, /^mapping key "a" already defined at line 1$/],
        ["nested duplicate keys", `x:\n    k: ${SECRET}\n    k: 2\n`, /^mapping key "k" already defined at line 2$/],
        ["top-level sequence", `- ${SECRET}\n`, /^yaml documents that are sequences are not supported$/],
        ["top-level scalar", `${SECRET}\n`, /^yaml documents that are values are not supported$/],
        ["int key", `1: ${SECRET}\n`, /^non-string key \(type int\) at line 1: only string keys are supported$/],
        ["bool key", `true: ${SECRET}\n`, /^non-string key \(type bool\)/],
        ["timestamp key", `2024-01-01: ${SECRET}\n`, /^non-string key \(type time\)/],
        ["null key", `~: ${SECRET}\n`, /^non-string key \(type null\)/],
        ["int64 overflow", `a: 9223372036854775808\nb: ${SECRET}\n`, /^integer at line 1 is out of the int64 range/],
        ["unterminated quote", `a: '${SECRET}\n`, /^invalid YAML at line \d+, column \d+: [a-z ]+$/],
        ["bad tag value", `a: !!int ${SECRET}\n`, /^cannot decode the value at line 1 as !!int$/],
        ["no sops block", `a: ${SECRET}\n`, /^sops metadata not found$/],
    ]
    for (const [name, text, re] of cases) {
        it(name, () => {
            const store = createYamlStore()
            const run = () => (name === "no sops block" ? store.parseEncrypted(enc(text)) : store.parsePlain(enc(text)))
            let err: unknown
            try {
                run()
            } catch (e) {
                err = e
            }
            expect(err).toBeInstanceOf(FormatError)
            const msg = (err as Error).message
            expect(msg).toMatch(re)
            expect(msg).not.toContain(SECRET)
            expect(msg).not.toContain("9223372036854775808")
        })
    }

    it("only document 1 is checked for duplicate keys, as in sops", () => {
        expect(createYamlStore().parsePlain(enc("a: 1\n---\nb: 1\nb: 2\n"))).toHaveLength(2)
    })
})
