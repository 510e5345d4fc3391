/**
 * The mask rule of `secrets ls` (src/core/masked-listing.ts): a string under 8
 * characters never shows a character of itself, a longer one at most its last 2;
 * other types show no part of their value. Key paths in `set`'s index syntax.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { keyPathText, leavesOf, maskText, maskValue, revealText } from "../../../src/core/masked-listing.js"
import { parseTreePath } from "../../../src/core/tree-path.js"
import { bool, bytes, comment, entry, float, int, list, map, nil, str, time } from "../../../src/core/tree.js"

/** Strings of any code points, including astral ones and control characters. */
const anyString = fc.string({ unit: "grapheme-composite", maxLength: 40 })

describe("maskValue", () => {
    it("a string under 8 characters shows its length and no character", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 7 }), (s) => {
                const m = maskValue(str(s))
                expect(m).toEqual({ type: "str", length: Array.from(s).length })
                expect(maskText(str(s))).toBe(`str(${Array.from(s).length})`)
            }),
        )
    })

    it("a string of 8 or more shows at most its last 2 characters, and they are its end", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary", minLength: 8, maxLength: 60 }), (s) => {
                const chars = Array.from(s)
                const m = maskValue(str(s))
                expect(m.length).toBe(chars.length)
                expect(Array.from(m.tail ?? "").length).toBeLessThanOrEqual(2)
                expect(m.tail).toBe(chars.slice(-2).join(""))
            }),
        )
    })

    it("the masked text of a long string is its type, length and escaped tail, nothing more", () => {
        fc.assert(
            fc.property(anyString.filter((s) => Array.from(s).length >= 8), (s) => {
                const n = Array.from(s).length
                const shown = maskText(str(s))
                expect(shown.startsWith(`str(${n}) …`)).toBe(true)
                // Two characters, each at most a 6-character \\u escape.
                expect(shown.length - `str(${n}) …`.length).toBeLessThanOrEqual(12)
            }),
        )
    })

    it("numbers, booleans, timestamps and nulls show only their type; bytes only their length", () => {
        fc.assert(
            fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
                expect(maskText(int(n))).toBe("int")
            }),
        )
        expect(maskText(float(3.25))).toBe("float")
        expect(maskText(bool(true))).toBe("bool")
        expect(maskText(time("2024-01-02T03:04:05Z"))).toBe("time")
        expect(maskText(nil)).toBe("null")
        expect(maskValue(bytes(new Uint8Array([0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7])))).toEqual({ type: "bytes", length: 9 })
    })

    it("examples: str(24) …x9, a line break in the tail stays on the line", () => {
        expect(maskText(str("abcdefghijklmnopqrstuvx9"))).toBe("str(24) …x9")
        expect(maskText(str("line one\nline two\n"))).toBe("str(18) …o\\n")
        expect(maskText(str("12345678"))).toBe("str(8) …78")
        expect(maskText(str("1234567"))).toBe("str(7)")
        // Length in characters: an emoji is one, and the tail never splits it.
        expect(maskText(str("passwörd🔑🔑"))).toBe("str(10) …🔑🔑")
    })
})

describe("leavesOf and keyPathText", () => {
    it("every leaf in file order with paths `set` parses back, list items by index, comments skipped", () => {
        const tree = map(
            comment(" a comment"),
            entry("db", map(entry("password", str("p")), entry("hosts", list(comment(" x"), str("a"), str("b"))))),
            entry("empty", map()),
            entry("n", nil),
            entry('quo"te', int(1)),
        )
        const leaves = leavesOf(tree)
        expect(leaves.map((l) => keyPathText(l.path))).toEqual(['["db"]["password"]', '["db"]["hosts"][0]', '["db"]["hosts"][1]', '["n"]', '["quo"te"]'])
        for (const l of leaves.slice(0, 4)) expect(parseTreePath(keyPathText(l.path))).toEqual(l.path)
        expect(revealText(leaves[1]?.value ?? nil)).toBe('"a"')
    })
})
