import { describe, expect, it } from "vitest"
import fc from "fast-check"
import {
    bool, comment, entry, float, int, list, map, nil, str, time, bytes,
    type Branch, type ListItem, type MapItem, type Node,
} from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { dec, emit, enc } from "./helpers.js"

// One value under key `k`, indent 4 -> the exact bytes go-yaml v3 writes for sops.
const VALUES: [string, Node, string][] = [
    ["plain string", str("hello"), "k: hello\n"],
    ["empty string", str(""), 'k: ""\n'],
    ["string that reads as int", str("123"), 'k: "123"\n'],
    ["string that reads as float", str("1.5"), 'k: "1.5"\n'],
    ["string that reads as bool", str("true"), 'k: "true"\n'],
    ["YAML 1.1 bool", str("yes"), 'k: "yes"\n'],
    ["YAML 1.1 bool Off", str("Off"), 'k: "Off"\n'],
    ["base-60", str("1:20"), 'k: "1:20"\n'],
    ["null word", str("null"), 'k: "null"\n'],
    ["tilde", str("~"), 'k: "~"\n'],
    ["timestamp-like (lastmodified)", str("2026-05-22T20:16:23Z"), 'k: "2026-05-22T20:16:23Z"\n'],
    ["hex-like", str("0x1F"), 'k: "0x1F"\n'],
    [".inf word", str(".inf"), 'k: ".inf"\n'],
    ["leading dash space", str("- a"), "k: '- a'\n"],
    ["colon space", str("a: b"), "k: 'a: b'\n"],
    ["space hash", str("a #b"), "k: 'a #b'\n"],
    ["hash without space", str("a#b"), "k: a#b\n"],
    ["leading space", str(" lead"), "k: ' lead'\n"],
    ["trailing space", str("trail "), "k: 'trail '\n"],
    ["leading hash", str("#c"), "k: '#c'\n"],
    ["leading at", str("@x"), "k: '@x'\n"],
    ["leading star", str("*x"), "k: '*x'\n"],
    ["leading bracket", str("[a]"), "k: '[a]'\n"],
    ["leading brace", str("{a}"), "k: '{a}'\n"],
    ["leading question no space", str("?a"), "k: ?a\n"],
    ["trailing colon", str("a:"), "k: 'a:'\n"],
    ["document marker", str("---"), "k: '---'\n"],
    ["inner apostrophe", str("it's"), "k: it's\n"],
    ["quoted in quotes", str("'q'"), "k: '''q'''\n"],
    ["tab", str("a\tb"), 'k: "a\\tb"\n'],
    ["control char", str("x\u0001y"), 'k: "x\\x01y"\n'],
    ["carriage return", str("a\rb"), 'k: "a\\rb"\n'],
    ["unicode stays raw", str("é ü ñ 日本"), "k: é ü ñ 日本\n"],
    ["astral plane is escaped", str("😀"), 'k: "\\U0001F600"\n'],
    ["BOM is escaped", str("\uFEFFx"), 'k: "\\uFEFFx"\n'],
    ["ENC string stays plain", str("ENC[AES256_GCM,data:a+/=,iv:b,tag:c,type:str]"), "k: ENC[AES256_GCM,data:a+/=,iv:b,tag:c,type:str]\n"],
    ["multi-line without final newline", str("a\nb"), "k: |-\n    a\n    b\n"],
    ["multi-line with final newline", str("a\nb\n"), "k: |\n    a\n    b\n"],
    ["multi-line keeping newlines", str("a\n\n"), "k: |+\n    a\n\n"],
    ["multi-line with leading space", str(" a\nb"), "k: |4-\n     a\n    b\n"],
    ["multi-line with space before break", str("a \nb"), 'k: "a \\nb"\n'],
    ["long string is not folded (best_width -1)", str("word ".repeat(30).trim()), `k: ${"word ".repeat(30).trim()}\n`],
    ["int", int(42), "k: 42\n"],
    ["negative int", int(-7), "k: -7\n"],
    ["int64 max", int(9223372036854775807n), "k: 9223372036854775807\n"],
    ["integral float", float(1), "k: 1\n"],
    ["float", float(1.5), "k: 1.5\n"],
    ["big float uses exponent", float(1234568000), "k: 1.234568e+09\n"],
    ["1e6", float(1e6), "k: 1e+06\n"],
    ["123456", float(123456), "k: 123456\n"],
    ["0.0001", float(0.0001), "k: 0.0001\n"],
    ["0.00001", float(0.00001), "k: 1e-05\n"],
    ["1e21", float(1e21), "k: 1e+21\n"],
    ["negative float", float(-0.5), "k: -0.5\n"],
    ["+inf", float(Infinity), "k: .inf\n"],
    ["-inf", float(-Infinity), "k: -.inf\n"],
    ["nan", float(NaN), "k: .nan\n"],
    ["bool", bool(true), "k: true\n"],
    ["null", nil, "k: null\n"],
    ["time", time("2024-01-01T00:00:00Z"), "k: 2024-01-01T00:00:00Z\n"],
    ["time with offset", time("2006-01-02T15:04:05.5+07:06"), "k: 2006-01-02T15:04:05.5+07:06\n"],
    ["empty map", map(), "k: {}\n"],
    ["empty list", list(), "k: []\n"],
    ["invalid UTF-8 bytes become !!binary", bytes(new Uint8Array([0xff, 0xfe])), "k: !!binary //4=\n"],
    ["valid UTF-8 bytes are a string", bytes(enc("ok")), "k: ok\n"],
]

describe("go-yaml v3 emitter: scalars", () => {
    it("has a large table", () => expect(VALUES.length).toBeGreaterThanOrEqual(40))
    for (const [name, value, want] of VALUES) {
        it(name, () => expect(emit([map(entry("k", value))])).toBe(want))
    }
})

const STRUCTURES: [string, Branch[], number, string][] = [
    ["nested maps", [map(entry("a", map(entry("b", map(entry("c", int(1)))))))], 4, "a:\n    b:\n        c: 1\n"],
    ["list under a key is indented", [map(entry("l", list(str("a"), str("b"))))], 4, "l:\n    - a\n    - b\n"],
    ["list of maps", [map(entry("l", list(map(entry("a", int(1)), entry("b", int(2))), map(entry("c", int(3))))))], 4,
        "l:\n    - a: 1\n      b: 2\n    - c: 3\n"],
    ["list of lists", [map(entry("l", list(list(str("a"), str("b")), list())))], 4, "l:\n    - - a\n      - b\n    - []\n"],
    ["map in list in map, literal inside", [map(entry("age", list(map(entry("enc", str("x\ny\n")), entry("recipient", str("r"))))))], 4,
        "age:\n    - enc: |\n        x\n        y\n      recipient: r\n"],
    ["indent 2", [map(entry("a", map(entry("b", list(str("x"), map(entry("c", str("m\n"))))))))], 2,
        "a:\n  b:\n    - x\n    - c: |\n        m\n"],
    ["indent 3", [map(entry("a", map(entry("b", list(str("x"))))))], 3, "a:\n   b:\n      - x\n"],
    ["indent out of range becomes 2", [map(entry("a", map(entry("b", int(1)))))], 12, "a:\n  b: 1\n"],
    ["keys that need quotes", [map(entry("1", int(1)), entry("", int(2)), entry("a b", int(3)), entry("true", int(4)))], 4,
        '"1": 1\n"": 2\na b: 3\n"true": 4\n'],
    ["several documents", [map(entry("a", int(1))), map(), map(entry("b", int(2)))], 4, "a: 1\n---\n{}\n---\nb: 2\n"],
    ["comments head, between, trailing", [map(comment(" top"), entry("a", int(1)), comment(" mid"), entry("b", int(2)), comment(" end"))], 4,
        "# top\na: 1\n# mid\nb: 2\n# end\n"],
    ["encrypted comments keep no space after #", [map(comment("ENC[AES256_GCM,data:x,type:comment]"), entry("a", int(1)))], 4,
        "#ENC[AES256_GCM,data:x,type:comment]\na: 1\n"],
    ["nested trailing comment stays at its level", [map(entry("a", map(entry("b", int(1)), comment(" t"))), entry("c", int(2)))], 4,
        "a:\n    b: 1\n    # t\nc: 2\n"],
    ["comments in lists", [map(entry("l", list(comment(" first"), str("x"), comment(" mid"), str("z"), comment(" last"))))], 4,
        "l:\n    # first\n    - x\n    # mid\n    - z\n    # last\n"],
    ["a lone y is a YAML 1.1 bool and gets quoted", [map(entry("l", list(str("y"), str("n"))))], 4, 'l:\n    - "y"\n    - "n"\n'],
    ["inline comment after a scalar", [map(comment(" note", true), entry("a", str("x")), entry("b", int(1)))], 4, "a: x # note\nb: 1\n"],
    // sops makes it the line comment of the block mapping, which yaml.v3's emitter drops (go-yaml oracle).
    ["inline comment on a collection key is dropped, as sops drops it", [map(comment(" c", true), entry("a", map(entry("b", int(1)))))], 4, "a:\n    b: 1\n"],
    ["inline comment on a list element", [map(entry("l", list(comment(" c", true), str("x"))))], 4, "l:\n    - x # c\n"],
    // A nested block in a list has no line of its own to carry it. yaml.v3's emitter keeps the
    // block mapping's line comment pending and prints it at the next `- `, and drops the
    // sequence's own (go-yaml oracle: exactly these bytes).
    ["inline comments on nested list elements move or drop as yaml.v3's emitter does",
        [map(entry("l", list(str("x"), comment(" c", true), map(entry("b", int(1))), comment(" d", true), list(str("y")))))], 4,
        'l:\n    - x\n    - b: 1\n    - # c\n      - "y"\n'],
    ["top-level trailing comment before more documents", [map(entry("a", int(1)), comment(" end")), map(entry("b", int(2)))], 4,
        "a: 1\n# end\n---\nb: 2\n"],
]

describe("go-yaml v3 emitter: structure and comments", () => {
    for (const [name, branches, indent, want] of STRUCTURES) {
        it(name, () => expect(emit(branches, indent)).toBe(want))
    }

    it("emitEncrypted appends sops as the last key of every document", () => {
        const store = createYamlStore()
        const out = store.emitEncrypted({
            branches: [map(entry("a", str("ENC[x]")), comment(" c")), map(entry("b", int(1)))],
            metadata: map(entry("lastmodified", str("2026-05-22T20:16:23Z")), entry("version", str("3.13.2"))),
        })
        expect(dec(out)).toBe(
            'a: ENC[x]\n# c\nsops:\n    lastmodified: "2026-05-22T20:16:23Z"\n    version: 3.13.2\n' +
            '---\nb: 1\nsops:\n    lastmodified: "2026-05-22T20:16:23Z"\n    version: 3.13.2\n',
        )
    })

    it("emitValue: strings raw, other scalars with a newline, mappings as documents", () => {
        const store = createYamlStore()
        expect(dec(store.emitValue(str("a: b\n")))).toBe("a: b\n")
        expect(dec(store.emitValue(str("x")))).toBe("x")
        expect(dec(store.emitValue(int(5)))).toBe("5\n")
        expect(dec(store.emitValue(float(1e6)))).toBe("1e+06\n")
        expect(dec(store.emitValue(bool(false)))).toBe("false\n")
        expect(dec(store.emitValue(map(entry("a", list(int(1))))))).toBe("a:\n    - 1\n")
        expect(dec(store.emitValue(list(str("a"))))).toBe("- a\n")
    })

    it("no documents emit nothing", () => expect(emit([])).toBe(""))
})

// ---- property: emitPlain -> parsePlain is the identity on trees we can express ----

const keyArb = fc.string({ maxLength: 8 })
const textArb = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("true", "yes", "1", "0x1F", "~", "null", "1:20", "2024-01-01", "- a", "a: b", " x", "x ", "#", "a\nb", "a\n", "\n", "é😀", "\t"),
)
const timeArb = fc
    .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59Z"), noInvalidDate: true })
        // Go's RFC3339Nano trims trailing zeros of the fraction.
    .map((d) => d.toISOString().replace(/\.000Z$/, "Z").replace(/(\.\d*?)0+Z$/, "$1Z"))
const scalarArb: fc.Arbitrary<Node> = fc.oneof(
    textArb.map(str),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
    // Integral floats are written like ints ("1") and read back as int: yaml.v3 does
    // the same (sops-format.md §11.1), so generate non-integral finite floats only.
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)).map(float),
    fc.constantFrom(float(Infinity), float(-Infinity), float(NaN)),
    fc.boolean().map(bool),
    fc.constant(nil),
    timeArb.map(time),
)
// Comment text: one line, no leading "#" stripping issues, no trailing spaces lost.
const commentArb = fc.string({ maxLength: 10 }).filter((t) => !/[\n\r\u0085\u2028\u2029]/.test(t) && t === t.trimEnd())
    .map((t) => comment(" " + t))

const { tree } = fc.letrec<{ node: Node; mapping: Node; sequence: Node; tree: Branch }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarArb, tie("mapping"), tie("sequence")),
    mapping: fc
        .uniqueArray(fc.tuple(keyArb, tie("node")), { maxLength: 4, selector: ([k]) => k })
        .map((es) => map(...es.map(([k, v]) => entry(k, v)))),
    sequence: fc.array(tie("node"), { maxLength: 4 }).map((xs) => list(...(xs as ListItem[]))),
    tree: fc
        .uniqueArray(fc.tuple(keyArb, tie("node")), { minLength: 1, maxLength: 4, selector: ([k]) => k })
        .map((es) => map(...es.map(([k, v]) => entry(k, v)))) as fc.Arbitrary<Branch>,
}))

/** Comments are only placed where sops reads them back in the same place: before scalar-valued entries. */
function withComments(b: Branch, cs: Node[]): Branch {
    const items: MapItem[] = []
    b.items.forEach((it, i) => {
        const c = cs[i]
        if (c !== undefined && it.kind === "entry" && it.value.kind !== "map" && it.value.kind !== "list") {
            items.push(comment((c as unknown as { text: string }).text))
        }
        items.push(it)
    })
    return { kind: "map", items }
}

describe("round trip", () => {
    it("emitPlain -> parsePlain gives the same tree (indent 2..9)", () => {
        fc.assert(
            fc.property(tree, fc.array(commentArb as unknown as fc.Arbitrary<Node>, { maxLength: 4 }), fc.integer({ min: 2, max: 9 }), (b, cs, indent) => {
                const t = withComments(b, cs)
                const store = createYamlStore({ indent })
                const back = store.parsePlain(store.emitPlain([t]))
                expect(back).toEqual([t])
            }),
            { numRuns: 400 },
        )
    })
})
