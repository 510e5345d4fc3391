/**
 * The YAML emitter's quick answer for quiet ASCII values (no blanks: sealed values,
 * age armor, recipients) against libyaml's character-by-character analysis, on
 * strings built from every indicator, blanks, line breaks and non-ASCII, so both
 * the values it answers and those it must leave to the walk are exercised.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { analyzeQuietAscii, analyzeScalar, analyzeScalarByCharacter } from "../../../src/stores/yaml-emitter.js"

const indicators = [..."#,[]{}&*!|>'\"%@`?:-.=+/_"]
const char = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...indicators) },
    { weight: 4, arbitrary: fc.constantFrom("a", "Z", "0", "9", "E") },
    { weight: 2, arbitrary: fc.constantFrom("\n", " ", "\t", "\r", "\u0085", "\u2028", "\0", "\x7f", "é", "\ufeff", "😀") },
)

describe("analyzeQuietAscii", () => {
    it("answers as the character walk, for every value it answers", () => {
        let answered = 0
        fc.assert(
            fc.property(fc.array(char, { maxLength: 12 }).map((cs) => cs.join("")), (value) => {
                const quick = analyzeQuietAscii(value)
                if (quick !== undefined) answered++
                expect(analyzeScalar(value)).toEqual(analyzeScalarByCharacter(value))
                if (quick !== undefined) expect(quick).toEqual(analyzeScalarByCharacter(value))
            }),
            { numRuns: 20_000 },
        )
        expect(answered).toBeGreaterThan(2_000)
    })

    it.each([
        ["ENC[AES256_GCM,data:QmsC0u,iv:abc=,tag:xyz==,type:str]"],
        ["-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24=\n-----END AGE ENCRYPTED FILE-----\n"],
        ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"],
        ["2026-12-06T13:00:00Z"], ["---"], ["..."], ["-"], [":"], ["?"], ["a:"], ["-a"], ["#a"], ["a#b"], ["a:b"], ["3.13.2"],
    ])("answers %j, as the walk does", (value) => {
        expect(analyzeQuietAscii(value)).toEqual(analyzeScalarByCharacter(value))
    })

    it.each([[""], ["a b"], ["a\tb"], ["a\r\nb"], ["é"], [" a"], ["a\n b"], ["a \nb"], ["a\nb "], [" a\nb"]])("leaves %j to the walk", (value) => {
        expect(analyzeQuietAscii(value)).toBeUndefined()
    })
})
