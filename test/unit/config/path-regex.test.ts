/**
 * The RegExp fast path for `.sops.yaml` regexes (src/config/path-regex.ts) against
 * RE2 (re2js, Go's syntax and semantics): a pattern it takes, Go accepts; for every
 * path, both match or neither does; what it does not take goes to RE2 unchanged.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { compileGoRegex, goRegexProblem } from "../../../src/core/go-regex.js"
import { pathRegex, pathRegexProblem, simpleRegex } from "../../../src/config/path-regex.js"

/** Pieces regexes are made of, the subset's and its neighbours' (which must fall back). */
const piece = fc.constantFrom(
    "a", "b", "x", "/", "_", "-", ".", "\\.", "\\/", "\\-", "\\d", "\\w", "\\W", "\\D", "\\s", "^", "$", "*", "+", "?", "|", "(", ")",
    "(?:", "(?i)", "[", "]", "[a-z]", "[^/]", "[.]", "[]a]", "[^]", "[[:alpha:]]", "[\\d-]", "[z-a]", "{2}", "{", "\\b", "\\z", "\\Q", "é", " ", ",",
)
const pattern = fc.array(piece, { maxLength: 8 }).map((ps) => ps.join(""))
const subject = fc.oneof(
    fc.array(fc.constantFrom("a", "b", "x", "/", ".", "-", "_", "1", "9", "\n", "\r", " ", "é", "\u2028", "A"), { maxLength: 10 }).map((cs) => cs.join("")),
    fc.constantFrom("secrets/hosts/web1/tls.yaml", "prod.env", "a.yaml", ""),
)

describe("simpleRegex", () => {
    it("takes a pattern only when Go accepts it, and then matches what RE2 matches (property)", () => {
        let taken = 0
        fc.assert(
            fc.property(pattern, fc.array(subject, { minLength: 1, maxLength: 6 }), (p, subjects) => {
                const simple = simpleRegex(p)
                if (simple === undefined) {
                    expect(pathRegexProblem(p)).toBe(goRegexProblem(p))
                    return
                }
                taken++
                expect(goRegexProblem(p)).toBeUndefined()
                expect(pathRegexProblem(p)).toBeUndefined()
                const go = compileGoRegex(p, "path_regex")
                const ours = pathRegex(p, "path_regex")
                for (const s of subjects) expect(ours.test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(go.test(s))
            }),
            { numRuns: 4000 },
        )
        // The generator must reach the subset often enough to mean something.
        expect(taken).toBeGreaterThan(500)
    })

    it("takes the patterns .sops.yaml files are made of", () => {
        for (const p of ["\\.yaml$", "^secrets/hosts/web1/", "(prod|staging)/.*\\.env$", "secrets/[^/]+\\.(yaml|json|env|ini)$", ".*", ""]) {
            expect(simpleRegex(p), p).toBeDefined()
        }
        for (const p of ["(?i)\\.YAML$", "[[:alpha:]]+", "a{2}", "\\s", "(?P<n>x)"]) expect(simpleRegex(p), p).toBeUndefined()
    })

    it("leaves a pattern with more than one quantifier to RE2: a backtracking engine would hang on it", () => {
        // Catastrophic for a backtracking engine on a long file name anyone can commit.
        for (const p of ["^(a+)+$", "^(a|a)*$", ".*.*.*x", "a?a?a?a?a?a?aaaaaa", "(x+x+)+y"]) expect(simpleRegex(p), p).toBeUndefined()
        const hostile = `${"a".repeat(4000)}!`
        // Through RE2 these answer at once; no time is asserted, but a backtracking
        // RegExp would not return within the test's timeout.
        expect(pathRegex("^(a+)+$", "path_regex").test(hostile)).toBe(false)
        expect(pathRegex(".*.*.*.*x", "path_regex").test(hostile)).toBe(false)
    })
})
