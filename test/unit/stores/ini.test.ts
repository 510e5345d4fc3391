import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MapItem, Mapping } from "../../../src/core/tree.js"
import { bool, comment, entry, float, list, map, str } from "../../../src/core/tree.js"
import { FormatError } from "../../../src/errors.js"
import { createIniStore } from "../../../src/stores/ini.js"

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const store = createIniStore()

describe("INI parsing (gopkg.in/ini.v1)", () => {
    it("puts keys before any section into DEFAULT and strips quotes and inline comments", () => {
        const text = [
            "top = 1",
            "; about a",
            "[a]",
            "# key comment",
            "k1 = \"quoted\" ",
            "k2 = 'single'",
            "k3 = value ; inline",
            "k4: colon",
            "k5 = `with # hash`",
            "k6 = \"\"\"multi",
            "line\"\"\"",
            "k7 =",
            "k1 = again",
            "",
        ].join("\n")
        expect(store.parsePlain(enc(text))).toEqual([map(
            entry("DEFAULT", map(entry("top", str("1")))),
            entry("a", map(
                comment("about a"),
                entry("k1", str("again")),
                entry("k2", str("single")),
                entry("k3", str("value")),
                comment("inline"),
                entry("k4", str("colon")),
                entry("k5", str("with # hash")),
                entry("k6", str("multi\nline")),
                entry("k7", str("")),
            )),
        )])
    })
    it("keeps a key comment after its key in the tree", () => {
        expect(store.parsePlain(enc("[s]\n; c1\nk = v\n"))).toEqual([map(
            entry("DEFAULT", map()),
            entry("s", map(entry("k", str("v")), comment("c1"))),
        )])
    })
    it("joins continuation lines", () => {
        expect(store.parsePlain(enc("[s]\nk = a\\\n  b\\\n c\nz = 1\n"))).toEqual([map(
            entry("DEFAULT", map()),
            entry("s", map(entry("k", str("abc")), entry("z", str("1")))),
        )])
    })
    it("reads both metadata newline styles", () => {
        const a = store.parseEncrypted(enc("[sops]\nmac = x\nage__list_0__map_enc = A\\nB\\n\n"))
        const b = store.parseEncrypted(enc("[sops]\nmac = x\nage__list_0__map_enc = \"\"\"A\nB\n\"\"\"\n"))
        const want = map(entry("age", list(map(entry("enc", str("A\nB\n"))))), entry("mac", str("x")))
        expect(a.metadata).toEqual(want)
        expect(b.metadata).toEqual(want)
        expect(a.branches).toEqual([map(entry("DEFAULT", map()))])
    })
})

describe("INI emitting", () => {
    it("aligns keys, quotes values as ini.v1 does, separates sections with a blank line", () => {
        const out = store.emitPlain([map(
            entry("DEFAULT", map(entry("top", str("1")))),
            entry("sec", map(
                comment("section note"),
                entry("a", str("plain")),
                entry("longer", str("x\ny")),
                comment("about longer"),
                entry("c", str("has ; semi")),
                entry("d", str(" edge ")),
                entry("e", str("back`tick")),
                entry("k=v", str("1")),
                entry("f", float(1)),
                entry("g", bool(false)),
            )),
        )])
        expect(dec(out)).toBe([
            "top = 1",
            "",
            "; section note",
            "[sec]",
            "a      = plain",
            "; about longer",
            "longer = \"\"\"x\ny\"\"\"",
            "c      = `has ; semi`",
            "d      = \" edge \"",
            "e      = \"\"\"back`tick\"\"\"",
            "`k=v`  = 1",
            "f      = 1.0",
            "g      = false",
            "",
        ].join("\n"))
    })
    it("omits an empty DEFAULT section and writes metadata as a sorted [sops] section", () => {
        const out = store.emitEncrypted({
            branches: [map(entry("DEFAULT", map()), entry("s", map(entry("k", str("v")))))],
            metadata: map(entry("version", str("3.13.2")), entry("age", list(map(entry("enc", str("A\nB\n")), entry("recipient", str("r")))))),
        })
        expect(dec(out)).toBe(
            "[s]\nk = v\n\n[sops]\nage__list_0__map_enc       = A\\nB\\n\nage__list_0__map_recipient = r\nversion                    = 3.13.2\n",
        )
    })
    it("rejects top-level values that are not sections, and nested values", () => {
        expect(() => store.emitPlain([map(entry("k", str("secret-value")))])).toThrow(FormatError)
        try {
            store.emitPlain([map(entry("s", map(entry("k", map(entry("x", str("secret-value")))))))])
        } catch (e) {
            expect(e).toBeInstanceOf(FormatError)
            expect((e as FormatError).message).not.toContain("secret-value")
        }
        expect.assertions(3)
    })
})

describe("INI errors", () => {
    it("a line without delimiter names the line, not its text", () => {
        expect(() => store.parsePlain(enc("[s]\nsecret-value\n"))).toThrow(/^missing key-value delimiter on line 2$/)
    })
    it("an unterminated triple quote", () => {
        expect(() => store.parsePlain(enc("k = \"\"\"abc\n"))).toThrow(/^missing closing value quote for the key on line 1$/)
    })
    it("no [sops] section", () => {
        expect(() => store.parseEncrypted(enc("[s]\nk = v\n"))).toThrow("no sops metadata found in file")
    })
})

// The values ini.v1 reads back as written. The exclusions are ini.v1's own lossy
// cases: a value containing """, an unquoted value ending in a backslash
// (continuation) or wrapped in quotes, a quoted-for-spaces value containing ".
function iniSafe(v: string): boolean {
    if (/[\n`]/.test(v)) return !v.includes("\"\"\"")
    if (/[#;]/.test(v)) return true
    if (v.trim() !== v) return !v.includes("\"")
    if (v.endsWith("\\") || v.startsWith("\"\"\"")) return false
    const wrapped = (q: string): boolean => v.length >= 2 && v[0] === q && v[v.length - 1] === q && v.indexOf(q, 1) === v.length - 1
    return !wrapped("'") && !wrapped("\"")
}
const valueArb = fc.string({ unit: fc.constantFrom("a", "b", " ", "#", ";", "`", "\"", "'", "\n", "=", ":", "\\", "é"), maxLength: 10 })
    .filter(iniSafe)
const keyArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_. =:]{0,6}[A-Za-z0-9_]$|^[A-Za-z0-9_]$/)
const commentArb = fc.stringMatching(/^[a-z][a-z #;]{0,6}[a-z]$/)
const keysArb = fc.uniqueArray(fc.tuple(keyArb, valueArb, fc.option(commentArb, { nil: undefined })), { selector: ([k]) => k, maxLength: 4 })
    .map((kv) => kv.flatMap(([k, v, c]): MapItem[] => (c === undefined ? [entry(k, str(v))] : [entry(k, str(v)), comment(c)])))
const sectionArb = fc.tuple(fc.stringMatching(/^[a-z0-9_. -]{1,6}$/), fc.option(commentArb, { nil: undefined }), keysArb)
    .filter(([name]) => !["default", "sops"].includes(name.toLowerCase()))
    .map(([name, c, items]) => entry(name, { kind: "map", items: c === undefined ? items : [comment(c), ...items] }))
const docArb = fc.tuple(keysArb, fc.uniqueArray(sectionArb, { selector: (s) => s.key, maxLength: 3 }))
    .map(([defaults, sections]): Mapping => map(entry("DEFAULT", { kind: "map", items: defaults }), ...sections))

describe("INI property round trip", () => {
    it("emitPlain -> parsePlain is the identity for sections of strings", () => {
        fc.assert(fc.property(docArb, (doc) => {
            expect(store.parsePlain(store.emitPlain([doc]))).toEqual([doc])
        }), { numRuns: 300 })
    })
})
