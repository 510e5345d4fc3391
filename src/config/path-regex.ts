/**
 * The common `.sops.yaml` regexes (`\.yaml$`, `^secrets/hosts/web1/`,
 * `(prod|staging)/.*\.env$`) as JavaScript RegExps, where Go's regexp and
 * JavaScript provably agree, so that a write need not start the RE2 engine
 * (re2js): initialising it and compiling one pattern was a fifth of a small
 * `encrypt`'s CPU (issue 14).
 *
 * The subset, chosen so that JavaScript (`u` flag) accepts a pattern only when Go
 * does, and then matches the same strings: at most 200 ASCII characters; literals,
 * `.`, `^`, `$`, `|`, groups without flags or names, one `*`, `+` or `?` (not on a group),
 * bracket classes of literals and ranges, and the escapes `\d \D \w \W` and of
 * punctuation. No braces, `[` inside a class (Go's `[[:alpha:]]`), `\s` (its spaces
 * differ), `\b`, flags, `\Q…\E`, octal or Unicode classes. Matching: only pure-ASCII subjects without `\r` (JavaScript's `.`
 * also stops at `\r`, Go's only at `\n`); anything else goes to RE2.
 * test/unit/config/path-regex.test.ts holds the subset to re2js on random patterns
 * and paths.
 */
import { compileGoRegex, goRegexProblem, type GoRegex } from "../core/go-regex.js"

const MAX_LENGTH = 200
/** Outside a class: literals, operators, groups without `(?`, escapes of punctuation and \d \D \w \W. */
const TOKEN = /\\[dDwW.\\/\-^$*+?()[\]|]|\[(?!\^?\])(?:\\[dDwW.\\/\-^$\]]|[ -Z^-~])*\]|\((?!\?)|[A-Za-z0-9_\-/.,:=@%~!#&'"<> ^$*+?|)]/y
const SUBJECT = /^[\x00-\x09\x0b\x0c\x0e-\x7f]*$/

const cache = new Map<string, RegExp | null>()

/** The pattern as a JavaScript RegExp when it is in the subset (and compiles), else undefined. */
export function simpleRegex(pattern: string): RegExp | undefined {
    let re = cache.get(pattern)
    if (re === undefined) {
        re = inSubset(pattern) ? tryCompile(pattern) : null
        if (cache.size >= 64) cache.clear()
        cache.set(pattern, re)
    }
    return re ?? undefined
}

/** Why Go would refuse `pattern`, or undefined: without RE2 for the subset. */
export function pathRegexProblem(pattern: string): string | undefined {
    return simpleRegex(pattern) !== undefined ? undefined : goRegexProblem(pattern)
}

/** A matcher with Go's semantics: the RegExp for subset patterns and plain subjects, RE2 for the rest. */
export function pathRegex(pattern: string, ruleName: string): GoRegex {
    const simple = simpleRegex(pattern)
    if (simple === undefined) return compileGoRegex(pattern, ruleName)
    return { test: (s) => (SUBJECT.test(s) ? simple.test(s) : compileGoRegex(pattern, ruleName).test(s)) }
}

/**
 * JavaScript's RegExp backtracks, and `.sops.yaml` and the repository's file names
 * are both someone else's input: `^(a+)+$`, or `.*.*.*x` on a long path, would run
 * for hours where RE2 is linear. So the subset allows at most one quantifier in the
 * whole pattern, and none on a group: an unanchored search is then at most quadratic in the path's
 * length (bounded by PATH_MAX), and everything else goes to RE2.
 */
const MAX_QUANTIFIERS = 1

function inSubset(pattern: string): boolean {
    if (pattern.length > MAX_LENGTH) return false
    TOKEN.lastIndex = 0
    let quantifiers = 0
    let previous = ""
    while (TOKEN.lastIndex < pattern.length) {
        const m = TOKEN.exec(pattern)
        if (m === null) return false
        if (m[0] === "*" || m[0] === "+" || m[0] === "?") {
            // A quantified group (`(a|a)*`) backtracks exponentially even alone.
            if (++quantifiers > MAX_QUANTIFIERS || previous === ")") return false
        }
        previous = m[0]
    }
    return true
}

function tryCompile(pattern: string): RegExp | null {
    try {
        return new RegExp(pattern, "u")
    } catch {
        return null
    }
}
