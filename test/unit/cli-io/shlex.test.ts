import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { SecretsError } from "../../../src/errors.js"
import { shlexSplit } from "../../../src/integrations/shlex.js"

// Expected values follow github.com/google/shlex's state machine (what sops uses).
const table: [string, string[]][] = [
    ["vim", ["vim"]],
    ["code --wait", ["code", "--wait"]],
    ["  a \t b\n c  ", ["a", "b", "c"]],
    ["/usr/bin/vim -u NONE", ["/usr/bin/vim", "-u", "NONE"]],
    ["\"a b\" c", ["a b", "c"]],
    ["'a b'c", ["a bc"]],
    ["a\"b c\"d", ["ab cd"]],
    ["\"a\\\"b\"", ["a\"b"]],
    // Go's shlex: a backslash in double quotes escapes any character (sh would keep it).
    ["\"a\\b\"", ["ab"]],
    ["'a\\b'", ["a\\b"]],
    ["'it'\"'\"'s'", ["it's"]],
    ["a\\ b", ["a b"]],
    ["a '' b", ["a", "", "b"]],
    ["\"\"", [""]],
    ["", []],
    ["   ", []],
    ["# only a comment", []],
    ["a # comment\nb", ["a", "b"]],
    ["a#b", ["a#b"]],
    ["\\#x", ["#x"]],
    ["'#x'", ["#x"]],
    ["op read 'op://vault/item/age key'", ["op", "read", "op://vault/item/age key"]],
    ["C:\\\\Program\\ Files\\\\x.exe", ["C:\\Program Files\\x.exe"]],
    ["é ü$HOME ~", ["é", "ü$HOME", "~"]],
]

describe("shlexSplit", () => {
    it.each(table)("splits %j", (input, expected) => {
        expect(shlexSplit(input)).toEqual(expected)
    })

    it.each([
        ["\"abc", "malformed command line: a quote is not closed"],
        ["'abc", "malformed command line: a quote is not closed"],
        ["abc\\", "malformed command line: it ends with an escape character"],
        ["\"abc\\", "malformed command line: it ends with an escape character"],
    ])("rejects %j without quoting it", (input, message) => {
        let err: unknown
        try {
            shlexSplit(input)
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).message).toBe(message)
    })

    it("round-trips any words quoted sh-style with single quotes", () => {
        const quoteWord = (w: string): string => `'${w.replaceAll("'", "'\"'\"'")}'`
        fc.assert(
            fc.property(fc.array(fc.string({ unit: "grapheme" })), (words) => {
                expect(shlexSplit(words.map(quoteWord).join(" "))).toEqual(words)
            }),
        )
    })

    it("round-trips any words escaped with backslashes", () => {
        const escapeWord = (w: string): string => (w === "" ? "''" : [...w].map((c) => `\\${c}`).join(""))
        fc.assert(
            fc.property(fc.array(fc.string()), (words) => {
                expect(shlexSplit(words.map(escapeWord).join("\t"))).toEqual(words)
            }),
        )
    })
})
