/**
 * Patterns from `.sops.yaml` and file metadata run with Go's regexp semantics
 * (issue 10, point 11): what RE2 accepts works as in sops, what it refuses is a
 * clear error naming the rule. The linear-time claim (no ReDoS) is checked through
 * the binary in cli-bounds.test.ts, where a hang can be killed.
 */
import { describe, expect, test } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import { matchRule } from "../../../src/config/match.js"
import { compileGoRegex, goRegexProblem } from "../../../src/core/go-regex.js"
import { compilePolicy } from "../../../src/core/policy.js"
import { ConfigError, FormatError } from "../../../src/errors.js"

const A = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"

const matches = (pattern: string, s: string): boolean => compileGoRegex(pattern, "encrypted_regex").test(s)

describe("RE2 syntax means what it means in Go", () => {
    // [pattern, input, Go's regexp.MatchString]
    const table: [string, string, boolean][] = [
        ["^[[:alpha:]]+$", "abc", true],
        ["^[[:alpha:]]+$", "ab1", false],
        ["^[[:^digit:]]$", "x", true],
        ["[]a]", "]", true],
        ["^a\\12b$", "a\nb", true],
        ["a(?i)b", "aB", true],
        ["a(?i)b", "AB", false],
        ["^\\Qa.b\\E$", "a.b", true],
        ["^\\Qa.b\\E$", "axb", false],
        ["key\\z", "apikey", true],
        ["(?P<env>prod)|(?<other>dev)", "dev", true],
        ["(?s)a.b", "a\nb", true],
        ["a.b", "a\nb", false],
        // Without (?m), $ is the end of the text only, even before a final newline.
        ["a$", "a\n", false],
        ["(?m)a$", "a\nb", true],
        ["^\\pL+$", "pässwort", true],
        ["(?U)a+", "aa", true],
        // Unanchored, as regexp.MatchString.
        ["pass", "db_password", true],
    ]
    test.each(table)("%j on %j is %s", (pattern, input, expected) => {
        expect(matches(pattern, input)).toBe(expected)
    })
})

describe("what Go refuses is refused, naming the rule and never quoting the pattern", () => {
    test.each([
        ["(?<=a)b", "lookahead and lookbehind are not supported by Go regular expressions (RE2)"],
        ["^(?!tmp/)", "lookahead and lookbehind are not supported by Go regular expressions (RE2)"],
        ["(a)\\1", "backreferences are not supported by Go regular expressions (RE2)"],
        ["a{1001}", "not a valid Go regular expression (RE2): invalid repeat count"],
        ["\\C", "not a valid Go regular expression (RE2): invalid escape sequence"],
        ["secret(", "not a valid Go regular expression (RE2): missing closing )"],
    ])("%j", (pattern, problem) => {
        expect(goRegexProblem(pattern)).toBe(problem)
        expect(() => compilePolicy({ unencryptedRegex: pattern })).toThrow(new FormatError(`unencrypted_regex: ${problem}`))
    })

    test("a path_regex Go refuses in a config built in code is a ConfigError naming the rule", () => {
        const config = { path: "/r/.sops.yaml", warnings: [], creation_rules: [{ path_regex: "x{2,1}" }] }
        let err: unknown
        try {
            matchRule(config, "/r", "/r/a.yaml")
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(ConfigError)
        expect((err as ConfigError).message).toBe("/r/.sops.yaml: creation_rules[0].path_regex: not a valid Go regular expression (RE2): invalid repeat count")
    })
})

describe("rules use it", () => {
    test("a POSIX class in path_regex picks the rule Go would pick", () => {
        const config = parseConfig(`creation_rules:\n  - path_regex: '^[[:digit:]]+\\.yaml$'\n    age: ${A}\n  - age: other\n`, "/r/.sops.yaml")
        expect(matchRule(config, "/r", "/r/2024.yaml")?.age).toEqual([A])
        expect(matchRule(config, "/r", "/r/app.yaml")?.age).toEqual(["other"])
    })

    test("encrypted_regex with a hex escape and a POSIX class", () => {
        const policy = compilePolicy({ encryptedRegex: "^[[:upper:]]+\\x5fKEY$" })
        expect(policy.shouldEncrypt(["API_KEY"], [[]], false)).toBe(true)
        expect(policy.shouldEncrypt(["api_key"], [[]], false)).toBe(false)
    })

    test("a remembered answer is the same answer: repeated components give stable results", () => {
        const re = compileGoRegex("^(data|stringData)$", "encrypted_regex")
        const names = ["data", "metadata", "stringData", "data", "x".repeat(300), "data"]
        expect(names.map((n) => re.test(n))).toEqual([true, false, true, true, false, true])
    })
})
