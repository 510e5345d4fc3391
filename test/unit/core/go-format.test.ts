import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    formatFloat,
    formatFloatJson,
    formatRfc3339,
    parseGoBool,
    parseGoFloat,
    parseGoInt,
    parseRfc3339,
} from "../../../src/core/go-format.js"

// Expected strings are what Go's strconv.FormatFloat(v, verb, -1, 64) prints.
describe("formatFloat 'f' (sops plaintext and MAC bytes)", () => {
    const table: [number, string][] = [
        [0, "0"],
        [-0, "-0"],
        [1, "1"],
        [-1, "-1"],
        [0.1, "0.1"],
        [1.5, "1.5"],
        [1234568000, "1234568000"],
        [1e21, "1000000000000000000000"],
        [1e22, "10000000000000000000000"],
        [1e-7, "0.0000001"],
        [1.25e-5, "0.0000125"],
        [123.456, "123.456"],
        [0.30000000000000004, "0.30000000000000004"],
        [2 ** 53, "9007199254740992"],
        [1.7976931348623157e308, "17976931348623157" + "0".repeat(292)],
        [1.5e300, "1" + "5" + "0".repeat(299)],
        [5e-324, "0." + "0".repeat(323) + "5"],
        [NaN, "NaN"],
        [Infinity, "+Inf"],
        [-Infinity, "-Inf"],
    ]
    test.each(table)("%s -> %s", (v, s) => {
        expect(formatFloat(v, "f")).toBe(s)
    })

    test("'f' text parses back to the same float", () => {
        fc.assert(
            fc.property(fc.double({ noNaN: true }), (d) => {
                const s = formatFloat(d, "f")
                expect(s).not.toMatch(/e/i)
                expect(Object.is(parseGoFloat(s), d)).toBe(true)
            }),
        )
    })
})

describe("formatFloat 'e' and 'g' (YAML output)", () => {
    const table: [number, "e" | "g" | "G", string][] = [
        [0, "e", "0e+00"],
        [1, "e", "1e+00"],
        [123456, "e", "1.23456e+05"],
        [1e-7, "e", "1e-07"],
        [1e100, "e", "1e+100"],
        [0, "g", "0"],
        [1, "g", "1"],
        [100000, "g", "100000"],
        [1e6, "g", "1e+06"],
        [1234567, "g", "1.234567e+06"],
        [0.0001, "g", "0.0001"],
        [0.00001, "g", "1e-05"],
        [-2.5e-10, "G", "-2.5E-10"],
        [1e21, "g", "1e+21"],
        [Infinity, "g", "+Inf"],
    ]
    test.each(table)("%s %s -> %s", (v, verb, s) => {
        expect(formatFloat(v, verb)).toBe(s)
    })
})

describe("formatFloatJson (encoding/json)", () => {
    const table: [number, string][] = [
        [1, "1"],
        [0.5, "0.5"],
        [1e20, "100000000000000000000"],
        [1e21, "1e+21"],
        [1e-6, "0.000001"],
        [1e-7, "1e-7"],
        [1.5e-10, "1.5e-10"],
        [-0, "-0"],
    ]
    test.each(table)("%s -> %s", (v, s) => {
        expect(formatFloatJson(v)).toBe(s)
    })
})

describe("Go parsers", () => {
    test("Atoi", () => {
        expect(parseGoInt("0")).toBe(0n)
        expect(parseGoInt("-12")).toBe(-12n)
        expect(parseGoInt("+7")).toBe(7n)
        expect(parseGoInt("007")).toBe(7n)
        expect(parseGoInt("9223372036854775807")).toBe(9223372036854775807n)
        for (const bad of ["", "+", "1.0", "1e3", "0x1", "1_0", " 1", "9223372036854775808"]) expect(parseGoInt(bad)).toBeNull()
    })
    test("ParseFloat", () => {
        expect(parseGoFloat("1.")).toBe(1)
        expect(parseGoFloat(".5")).toBe(0.5)
        expect(parseGoFloat("-1E-2")).toBe(-0.01)
        expect(parseGoFloat("+infinity")).toBe(Infinity)
        expect(parseGoFloat("INF")).toBe(Infinity)
        expect(Number.isNaN(parseGoFloat("nan"))).toBe(true)
        for (const bad of ["", ".", "e5", "1e", "+nan", "infin", "1_0", "0x1p3", "1e309", " 1"]) expect(parseGoFloat(bad)).toBeNull()
    })
    test("ParseBool", () => {
        expect(parseGoBool("T")).toBe(true)
        expect(parseGoBool("False")).toBe(false)
        expect(parseGoBool("yes")).toBeNull()
        expect(parseGoBool("tRUE")).toBeNull()
    })
    test("RFC 3339 parse and format", () => {
        const fmt = (s: string, nano: boolean): string | null => {
            const t = parseRfc3339(s)
            return t === null ? null : formatRfc3339(t, nano)
        }
        expect(fmt("2022-03-15T22:11:15Z", false)).toBe("2022-03-15T22:11:15Z")
        expect(fmt("2022-03-15T22:11:15.123456Z", false)).toBe("2022-03-15T22:11:15Z")
        expect(fmt("2022-03-15T22:11:15.123000Z", true)).toBe("2022-03-15T22:11:15.123Z")
        expect(fmt("2022-03-15T22:11:15+00:00", false)).toBe("2022-03-15T22:11:15Z")
        expect(fmt("2022-03-15T22:11:15-00:00", false)).toBe("2022-03-15T22:11:15Z")
        expect(fmt("2022-03-15T22:11:15+01:30", false)).toBe("2022-03-15T22:11:15+01:30")
        expect(fmt("2024-02-29T00:00:00Z", true)).toBe("2024-02-29T00:00:00Z")
        for (const bad of ["2023-02-29T00:00:00Z", "2022-03-15 22:11:15Z", "2022-03-15T24:00:00Z", "2022-03-15T22:11:15", "2022-03-15t22:11:15Z", "2022-13-01T00:00:00Z"]) {
            expect(parseRfc3339(bad)).toBeNull()
        }
    })
})
