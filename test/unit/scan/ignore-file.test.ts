/**
 * `.secretsignore` (src/core/ignore-file.ts): every entry needs a reason, names a
 * known rule if any, and its glob reads as a .gitignore pattern.
 */
import { describe, expect, it } from "vitest"
import { globMatcher, ignoredBy, parseIgnoreFile } from "../../../src/core/ignore-file.js"
import { SecretsError } from "../../../src/errors.js"

const RULES = new Set(["secrets/age-secret-key", "@secretlint/secretlint-rule-github"])

function failure(text: string): SecretsError {
    try {
        parseIgnoreFile(text, ".secretsignore", RULES)
    } catch (e) {
        if (e instanceof SecretsError) return e
        throw e
    }
    throw new Error("no error")
}

describe(".secretsignore", () => {
    it("reads entries with a pattern, an optional rule and a reason; skips comments and blank lines", () => {
        const entries = parseIgnoreFile(
            "# header\n\nexamples/keys/*.txt  secrets/age-secret-key  # public demo keys\r\ndocs/a#b.md # a name with a hash\n",
            ".secretsignore",
            RULES,
        )
        expect(entries.map((e) => [e.pattern, e.ruleId, e.reason, e.line])).toEqual([
            ["examples/keys/*.txt", "secrets/age-secret-key", "public demo keys", 3],
            ["docs/a#b.md", undefined, "a name with a hash", 4],
        ])
        expect(ignoredBy(entries, "examples/keys/alice.txt", "secrets/age-secret-key")?.line).toBe(3)
        expect(ignoredBy(entries, "examples/keys/alice.txt", "@secretlint/secretlint-rule-github")).toBeUndefined()
        expect(ignoredBy(entries, "docs/a#b.md", "@secretlint/secretlint-rule-github")?.line).toBe(4)
    })

    it("refuses a line without a reason, naming it, with exit 2", () => {
        for (const bad of ["keys/\n", "keys/ #\n", "keys/ secrets/age-secret-key #   \n", "keys/#not-a-reason\n"]) {
            const e = failure(`# ok\n${bad}`)
            expect(e.message).toBe(".secretsignore:2: an entry without a reason")
            expect(e.code).toBe(2)
        }
    })

    it("refuses an unknown rule id, extra fields and negation", () => {
        expect(failure("a.txt secrets/age-key # typo\n").message).toBe('.secretsignore:1: no rule is called "secrets/age-key"')
        expect(failure("a.txt b.txt secrets/age-secret-key # two paths\n").message).toMatch(/^\.secretsignore:1: expected/)
        expect(failure("!a.txt # keep\n").message).toBe(".secretsignore:1: negated patterns are not supported")
    })
})

describe("globs", () => {
    const m = (pattern: string, path: string) => globMatcher(pattern).test(path)
    it("read as .gitignore patterns", () => {
        expect(m("*.txt", "a/b/c.txt")).toBe(true)
        expect(m("*.txt", "c.txt.bak")).toBe(false)
        expect(m("/top.txt", "top.txt")).toBe(true)
        expect(m("/top.txt", "a/top.txt")).toBe(false)
        expect(m("a/*.md", "a/x.md")).toBe(true)
        expect(m("a/*.md", "a/b/x.md")).toBe(false)
        expect(m("a/*.md", "z/a/x.md")).toBe(false)
        expect(m("docs/**/x.md", "docs/x.md")).toBe(true)
        expect(m("docs/**/x.md", "docs/a/b/x.md")).toBe(true)
        expect(m("test/fixtures/", "test/fixtures/a/b.txt")).toBe(true)
        expect(m("test/fixtures", "test/fixtures/a/b.txt")).toBe(true)
        expect(m("test/fixtures/", "test/fixtures2/a.txt")).toBe(false)
        expect(m("?.env", "a.env")).toBe(true)
        expect(m("?.env", "ab.env")).toBe(false)
        expect(m("a.b", "axb")).toBe(false)
        expect(m("*.txt", "line\nbreak.txt")).toBe(true)
    })

    it("match in linear time: a planted pattern cannot hang the hook", () => {
        // A backtracking engine takes O(n^6) steps here and never returns.
        expect(m("**a**a**a**a**a**a**b", "a".repeat(5000))).toBe(false)
    })
})
