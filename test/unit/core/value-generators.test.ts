/**
 * The `generate:` forms of a value policy (src/core/value-generators.ts): parsing
 * with clear errors, the shapes `openssl rand` users expect, and passwords whose
 * characters are all equally likely (rejection sampling, checked with a random
 * source that offers the biased bytes first).
 */
import { randomBytes } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { generateValue, parseGenerator, PASSWORD_ALPHABET } from "../../../src/core/value-generators.js"

describe("parseGenerator", () => {
    it("reads the four forms and refuses anything else with a sentence", () => {
        expect(parseGenerator("password:32")).toEqual({ kind: "password", length: 32 })
        expect(parseGenerator("hex:32")).toEqual({ kind: "hex", bytes: 32 })
        expect(parseGenerator("base64:48")).toEqual({ kind: "base64", bytes: 48 })
        expect(parseGenerator("uuid")).toEqual({ kind: "uuid" })
        for (const bad of ["password", "pin:4", "hex:-1", "hex:0x20", "password:7", "base64:4097", " uuid", "password:32 "]) {
            expect(parseGenerator(bad)).toHaveProperty("error")
        }
    })
})

describe("generateValue", () => {
    it("gives the lengths and alphabets of each form", () => {
        fc.assert(
            fc.property(fc.integer({ min: 8, max: 300 }), (n) => {
                const p = generateValue({ kind: "password", length: n }, randomBytes)
                expect(p).toHaveLength(n)
                expect([...p].every((c) => PASSWORD_ALPHABET.includes(c))).toBe(true)
                expect(generateValue({ kind: "hex", bytes: n }, randomBytes)).toMatch(new RegExp(`^[0-9a-f]{${2 * n}}$`))
                const b64 = generateValue({ kind: "base64", bytes: n }, randomBytes)
                expect(Buffer.from(b64, "base64")).toHaveLength(n)
                expect(Buffer.from(b64, "base64").toString("base64")).toBe(b64)
            }),
            { numRuns: 50 },
        )
        expect(generateValue({ kind: "uuid" }, randomBytes)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    })

    it("skips the bytes that would favour the first characters", () => {
        // Bytes 198..255 would map onto the alphabet's first 58 characters a second
        // time; a source that offers only those first must not produce a character from them.
        let calls = 0
        const biasedFirst = (n: number) => (calls++ === 0 ? new Uint8Array(n).fill(250) : new Uint8Array(n).fill(65))
        expect(generateValue({ kind: "password", length: 10 }, biasedFirst)).toBe(PASSWORD_ALPHABET[65]!.repeat(10))
    })

    it("uses every character of the alphabet", () => {
        const seen = new Set(generateValue({ kind: "password", length: 4096 }, randomBytes))
        // 66 characters, 4096 draws: the chance of missing one is below 1e-25.
        expect(seen.size).toBe(PASSWORD_ALPHABET.length)
    })
})
