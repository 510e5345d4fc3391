/**
 * The JSON VALUE of `secrets set`: typing like the JSON store (integral -> int,
 * order kept), arrays and non-JSON refused with exit 7 and without echoing the text.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseJsonValue } from "../../../src/cli/json-value.js"
import { bool, entry, float, int, list, map, nil, str, type Node } from "../../../src/core/tree.js"
import { ExitCode, SecretsError } from "../../../src/errors.js"

function error(text: string | Uint8Array): SecretsError {
    try {
        parseJsonValue(text)
    } catch (e) {
        if (e instanceof SecretsError) return e
        throw e
    }
    throw new Error("expected a SecretsError")
}

describe("parseJsonValue: typing", () => {
    const table: [string, Node][] = [
        ['"text"', str("text")],
        ['""', str("")],
        ['"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00"', str('a"b\\c\né😀')],
        // A bare integer stays an int (sops would make it a float: documented choice).
        ["5", int(5)],
        ["-12", int(-12)],
        ["-0", int(0)],
        ["9223372036854775807", int(9223372036854775807n)],
        ["-9223372036854775808", int(-9223372036854775808n)],
        // Beyond int64, or written with a fraction or exponent: a float, as the JSON store does.
        ["9223372036854775808", float(9223372036854775808)],
        ["5.0", float(5)],
        ["1.5", float(1.5)],
        ["1e3", float(1000)],
        ["-2.5E-3", float(-0.0025)],
        ["true", bool(true)],
        ["false", bool(false)],
        ["null", nil],
        // JSON whitespace around the value (echo's newline, an editor's) is fine.
        [' \t"padded"\r\n', str("padded")],
        ["\n42\n", int(42)],
        ["{}", map()],
        // Objects keep their order, including integer-like keys JS objects would hoist.
        ['{"b": 1, "10": "x", "a": {"c": [1, "y", null, 2.0]}}', map(entry("b", int(1)), entry("10", str("x")), entry("a", map(entry("c", list(int(1), str("y"), nil, float(2))))))],
        // Duplicate keys are kept in order, as sops' JSON store keeps them.
        ['{"k": 1, "k": 2}', map(entry("k", int(1)), entry("k", int(2)))],
    ]
    it.each(table)("%s", (text, expected) => {
        expect(parseJsonValue(text)).toEqual(expected)
        // Bytes and string input agree.
        expect(parseJsonValue(new TextEncoder().encode(text))).toEqual(expected)
    })

    it("turns invalid UTF-8 inside a string into U+FFFD, as Go's decoder does", () => {
        const bytes = Uint8Array.from([0x22, 0x61, 0xff, 0x62, 0x22]) // "a\xffb"
        expect(parseJsonValue(bytes)).toEqual(str("a\ufffdb"))
    })

    it("round-trips any JSON value that is not an array (property)", () => {
        const expectedNode = (v: unknown): Node => {
            if (v === null) return nil
            if (typeof v === "boolean") return bool(v)
            if (typeof v === "string") return str(v)
            if (typeof v === "number") {
                const text = JSON.stringify(v)
                return /^-?\d+$/.test(text) && BigInt(text) < 2n ** 63n && BigInt(text) >= -(2n ** 63n) ? int(BigInt(text)) : float(Number(text))
            }
            if (Array.isArray(v)) return list(...v.map(expectedNode))
            return map(...Object.entries(v as Record<string, unknown>).map(([k, x]) => entry(k, expectedNode(x))))
        }
        const notArray = fc.jsonValue().filter((v) => !Array.isArray(v))
        fc.assert(
            fc.property(notArray, fc.constantFrom("", " ", "\n", "\t "), (v, pad) => {
                expect(parseJsonValue(pad + JSON.stringify(v) + pad)).toEqual(expectedNode(v))
                expect(parseJsonValue(JSON.stringify(v, null, 2))).toEqual(expectedNode(v))
            }),
            { numRuns: 300 },
        )
    })
})

describe("parseJsonValue: refusals, exit 7, never quoting the text", () => {
    const invalid = [
        "",
        "   ",
        "hunter2-secret",
        "'single-quoted-secret'",
        '"unterminated-secret',
        "secret value with spaces",
        "01",
        "1.",
        "+1",
        "NaN",
        "Infinity",
        "1e999",
        "{'a': 1}",
        '{"a": 1,}',
        '{"a" 1}',
        "True",
        // Text that would be a valid *member list* must not slip through the wrapper.
        '1, "v": 2',
        '"x", "w": "secret-y"',
        "1}",
        '{"a": 1}}',
        "1 2",
        "\ufeff\"bom\"",
        "[",
    ]
    it.each(invalid)("%j is not JSON", (text) => {
        const e = error(text)
        expect(e.code).toBe(ExitCode.InvalidSetFormat)
        expect(e.message).toBe("invalid value: expected JSON, e.g. '\"text\"'")
        const all = [e.message, ...e.hints].join("\n")
        if (text.trim().length >= 3) expect(all).not.toContain(text.trim())
    })

    it("refuses a top-level array, like sops (its JSON store needs an object)", () => {
        for (const text of ["[]", '[1, "secret-z"]', ' [{"a": 1}]\n']) {
            const e = error(text)
            expect(e.code).toBe(ExitCode.InvalidSetFormat)
            expect(e.message).toBe("invalid value: a JSON array cannot be set as a whole")
            expect([e.message, ...e.hints].join("\n")).not.toContain("secret-z")
        }
        // Arrays inside an object are fine.
        expect(parseJsonValue('{"a": []}')).toEqual(map(entry("a", list())))
    })

    it("never puts random non-JSON text into the error (property)", () => {
        const fixed = (() => {
            const e = error("x")
            return [e.message, ...e.hints, error("[]").message, ...error("[]").hints].join("\n")
        })()
        // Strings that happen to be words of the fixed message ("text", "JSON") prove nothing.
        const input = fc.string({ minLength: 4 }).filter((s) => !fixed.includes(s.trim()))
        fc.assert(
            fc.property(input, (s) => {
                let e: SecretsError
                try {
                    parseJsonValue(s)
                    return
                } catch (x) {
                    if (!(x instanceof SecretsError)) throw x
                    e = x
                }
                expect(e.code).toBe(ExitCode.InvalidSetFormat)
                const all = [e.message, ...e.hints].join("\n")
                if (s.trim().length >= 4) expect(all).not.toContain(s.trim())
            }),
            { numRuns: 300 },
        )
    })
})
