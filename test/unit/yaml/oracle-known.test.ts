/**
 * What go-yaml v3 (through sops's store) gives for the documents where our reader
 * used to differ, recorded from the go-yaml oracle (test/oracle/go-yaml) so that they
 * are checked even where Go is not installed. oracle-corpus.test.ts re-asks go-yaml.
 */
import { describe, expect, it } from "vitest"
import { bytes, float, int, nil, str, time, type Node } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { dec, enc, parse1 } from "./helpers.js"

const value = (text: string): Node => {
    const first = parse1(text).items[0]
    if (first?.kind !== "entry") throw new Error("no entry")
    return first.value
}

describe("block scalars read as go-yaml's scanner reads them", () => {
    const cases: [string, string][] = [
        // The end of the file is no line break: clip and keep add none (issue 11 point 5).
        ["multiline: |\n  multi\n  line", "multi\nline"],
        ["k: |+\n  a\n  b", "a\nb"],
        ["k: >\n  a\n  b", "a b"],
        ["k: >+\n  a\n  b", "a b"],
        // A line of spaces deeper than the indentation is content, not an empty line.
        ["k: >1\n  \n", " \n"],
        ["k: >1\n  line one\n\n  line two\n\n\n  ", " line one\n\n line two\n\n\n "],
        ["k: |\n  a\n\n\n", "a\n"],
        ["k: |+\n  a\n\n\n", "a\n\n\n"],
        ["k: |-\n  a\n\n", "a"],
        ["k: >\n  a\n  b\n\n  c\n", "a b\nc\n"],
        ["k: |2\n   x\n  y\n", " x\ny\n"],
    ]
    for (const [text, want] of cases) {
        it(JSON.stringify(text), () => expect(value(text)).toEqual(str(want)))
    }

    it("the same for the last item of a sequence", () => {
        expect(value("list:\n  - |\n    first\n  - |\n    last")).toEqual({ kind: "list", items: [str("first\n"), str("last")] })
    })

    it("an explicit `? |` key takes its indentation from the `?`", () => {
        expect(parse1("? |\n  block key\n: v\n").items).toEqual([{ kind: "entry", key: "block key\n", value: str("v") }])
    })

    it("a multi-line block scalar at the end of the file is written back without the line break it never had", () => {
        const store = createYamlStore()
        expect(dec(store.emitPlain(store.parsePlain(enc("multiline: |\n  multi\n  line"))))).toBe("multiline: |-\n    multi\n    line\n")
    })
})

describe("plain scalars resolve as yaml.v3 resolves them", () => {
    const cases: [string, Node][] = [
        // ParseFloat takes underscores between digits in the '.'-hint branch.
        [".5_0", float(0.5)],
        ["._5", str("._5")],
        ["0.1e1_0", float(1e9)],
        // time.Parse reads at most nine fraction digits; a comma works as the point; a layout space matches several.
        ["2001-12-14T21:59:43.123456789123Z", str("2001-12-14T21:59:43.123456789123Z")],
        ["2001-12-14T21:59:43,5Z", time("2001-12-14T21:59:43.5Z")],
        ["2001-12-14   21:59:43", time("2001-12-14T21:59:43Z")],
    ]
    for (const [text, want] of cases) it(`k: ${text}`, () => expect(value(`k: ${text}\n`)).toEqual(want))
})

describe("tags as yaml.v3 decodes them into sops's tree", () => {
    it("the non-specific tag ! is no tag: plain text resolves, quoted text stays a string", () => {
        expect(value("k: ! 12\n")).toEqual(int(12))
        expect(value("k: !\n")).toEqual(nil)
        expect(value("k: ! '12'\n")).toEqual(str("12"))
    })
    it("!!map and !!seq on a scalar keep its text", () => {
        expect(value("k: !!map x\n")).toEqual(str("x"))
        expect(value("k: !!seq 12\n")).toEqual(str("12"))
    })
    it("!!null on a text that is not null is an error in the first document and null in later ones", () => {
        expect(() => parse1("k: !!null x\n")).toThrow(/line 1.*!!null/)
        const docs = createYamlStore().parsePlain(enc("a: 1\n---\na: !!null x\n"))
        expect(docs[1]?.items).toEqual([{ kind: "entry", key: "a", value: nil }])
    })
    it("!!binary must be Go base64 (line breaks skipped, nothing else)", () => {
        expect(() => parse1("k: !!binary '!!'\n")).toThrow(/!!binary value at line 1 is not valid base64/)
        expect(() => parse1("k: !!binary 'aGVs bG8='\n")).toThrow(/not valid base64/)
        expect(value("k: !!binary |\n  aGVs\n  bG8=\n")).toEqual(str("hello"))
        expect(value("k: !!binary /w==\n")).toEqual(bytes(new Uint8Array([0xff])))
    })
})

describe("what go-yaml refuses in the first document, as sops's map decode does", () => {
    it("a merge key needs a mapping or a list of mappings; a quoted << is an ordinary key", () => {
        expect(() => parse1("<<: v\n")).toThrow(/merge key << at line 1 needs a mapping/)
        expect(() => parse1("a: 1\n<<: [{a: 1}, x]\n")).toThrow(/merge key << at line 2/)
        expect(() => parse1("! <<: 2\n")).toThrow(/merge key/)
        expect(parse1('"<<": v\n').items).toEqual([{ kind: "entry", key: "<<", value: str("v") }])
        expect(parse1("b: &b {a: 1}\n<<: *b\n").items[1]).toEqual({ kind: "entry", key: "<<", value: { kind: "map", items: [{ kind: "entry", key: "a", value: int(1) }] } })
    })
    it("double-quoted escapes are YAML 1.1's: no \\/, no surrogate code points", () => {
        expect(() => parse1('a: "\\/"\n')).toThrow(/line 1: unknown escape \\\//)
        expect(() => parse1('a: "\\uD800"\n')).toThrow(/line 1: the escape \\uD800 is not a Unicode character/)
        expect(value('a: "\\x41\\u00e9\\U0001F600\\N\\_"\n')).toEqual(str("Aé😀\u0085\u00a0"))
    })
    it("only %YAML 1.1 and %TAG directives", () => {
        expect(() => parse1("%YAML 1.2\n---\na: yes\n")).toThrow(/line 1: go-yaml \(sops\) reads only %YAML 1.1 and %TAG, not the YAML version "%YAML 1.2"/)
        expect(() => parse1("%FOO bar\n---\na: 1\n")).toThrow(/not the directive "%FOO bar"/)
        expect(() => createYamlStore().parsePlain(enc("%x: v\n"))).toThrow(/not the directive/)
        expect(value("%YAML 1.1\n---\na: yes\n")).toEqual(str("yes"))
    })
    it("a file of blank lines and comments is no document (sops: EOF); a zero-byte file is an empty one", () => {
        expect(() => createYamlStore().parsePlain(enc("# only comment\n"))).toThrow(/only blank lines or comments/)
        expect(() => createYamlStore().parsePlain(enc("\n"))).toThrow(/only blank lines or comments/)
        expect(createYamlStore().parsePlain(enc(""))).toEqual([])
        expect(createYamlStore().parsePlain(enc("---\n"))).toEqual([{ kind: "map", items: [] }])
    })
})

describe("writing as sops writes", () => {
    const emit = (text: string): string => {
        const store = createYamlStore()
        return dec(store.emitPlain(store.parsePlain(enc(text))))
    }
    it("the string << comes back tagged !!merge, as yaml.v3's Node.Encode leaves it", () => {
        expect(emit("k: '<<'\n")).toBe("k: !!merge <<\n")
        expect(emit("base: &b\n  p: 1\nd:\n  <<: *b\n")).toBe("base:\n    p: 1\nd:\n    !!merge <<:\n        p: 1\n")
    })
    it("but a << key over a value that is not a mapping is quoted, so that the file can be read again (kept difference)", () => {
        expect(emit('"<<": 1\n')).toBe('"<<": 1\n')
        expect(createYamlStore().parsePlain(enc(emit('"<<": 1\n')))).toEqual([{ kind: "map", items: [{ kind: "entry", key: "<<", value: int(1) }] }])
    })
    it("an empty inline comment stays", () => {
        expect(emit("a: 1 #\n")).toBe("a: 1 #\n")
    })
})

describe("comments where sops's walk of yaml.v3's nodes puts them", () => {
    const c = (text: string, inline = false) => (inline ? { kind: "comment", text, inline } : { kind: "comment", text })
    it("after a key whose block value starts on the next line: a plain comment before the entry", () => {
        expect(parse1("a: # on key\n  b: 1\n").items[0]).toEqual(c(" on key"))
    })
    it("after a `-` whose block mapping starts on the next line: first in that mapping", () => {
        expect(value("l:\n  - # on dash\n    b: 1\n")).toEqual({ kind: "list", items: [{ kind: "map", items: [c(" on dash"), { kind: "entry", key: "b", value: int(1) }] }] })
    })
    it("inside and after flow collections", () => {
        expect(value("a: [1, # c1\n  2 # c2\n  ]\n")).toEqual({ kind: "list", items: [c(" c1", true), int(1), c(" c2", true), int(2)] })
        expect(value("a: {b: 1} # after\n")).toEqual({ kind: "map", items: [c(" after"), { kind: "entry", key: "b", value: int(1) }] })
        expect(value("l:\n  - [1] # after\n")).toEqual({ kind: "list", items: [c(" after", true), { kind: "list", items: [int(1)] }] })
    })
    it("an alias's copy has the comments of its anchor's collection", () => {
        const doc = parse1("a: &x\n  # head of p\n  p: 1 # line of p\nb: *x\n")
        const m = { kind: "map", items: [c(" head of p"), c(" line of p", true), { kind: "entry", key: "p", value: int(1) }] }
        expect(doc.items).toEqual([{ kind: "entry", key: "a", value: m }, { kind: "entry", key: "b", value: m }])
    })
})

describe("comment placement found by the generated documents and trees", () => {
    const c = (text: string, inline = false) => (inline ? { kind: "comment" as const, text, inline } : { kind: "comment" as const, text })
    const emitTree = (items: unknown[]): string => dec(createYamlStore().emitPlain([{ kind: "map", items } as never]))
    it("a comment after a nested block at the end of a file is written right after it, with no blank line (yaml.v3's tail comment)", () => {
        const store = createYamlStore()
        expect(dec(store.emitPlain(store.parsePlain(enc("db:\n  password: x\n# trailing\n"))))).toBe("db:\n    password: x\n# trailing\n")
    })
    it("plain and inline comments before an entry are gathered apart, as sops's appendTreeBranch does", () => {
        const a = { kind: "entry", key: "a", value: str("x") }
        expect(emitTree([c(" first", true), c(" second"), a])).toBe("# second\na: x # first\n")
    })
    it("after a key or `-` with no value, the comment is not inline", () => {
        expect(parse1("a: #c\nb: 1\n").items[0]).toEqual(c("c"))
        expect(value("l:\n  - #c\n  - 1\n")).toEqual({ kind: "list", items: [nil, c("c"), int(1)] })
    })
})
