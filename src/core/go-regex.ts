/**
 * Go regular expressions, as sops compiles and runs them: `regexp.Compile` (RE2
 * syntax with Perl flags) and the unanchored `MatchString`, for `path_regex` in
 * `.sops.yaml` and the four `*_regex` encryption rules (config or file metadata).
 *
 * re2js is a port of Go's regexp package: the same parser (so `(?P<n>…)`, `\z`,
 * `(?i)`, `[[:alpha:]]`, `\Q…\E` and octal `\12` mean what they mean to sops, and
 * lookaround and backreferences are refused as sops refuses them) and an automaton
 * matcher that runs in time linear in the input. A pattern comes from a file
 * someone else may have written, so a backtracking engine would let
 * `^(a+)+$` stall on a long key or file name (ReDoS); this one cannot.
 */
import { createRequire } from "node:module"
import type * as Re2js from "re2js"
import { FormatError } from "../errors.js"

type Re2Module = typeof Re2js
let engine: Re2Module | undefined

/**
 * re2js, loaded on first use: most commands never compile a pattern (a `decrypt`
 * of a file with the default `_unencrypted` rule), and evaluating re2js's Unicode
 * tables would cost every start-up a few milliseconds. In the bundle `require` is
 * CommonJS's, and esbuild turns this literal `require("re2js")` into a bundled
 * module that runs only when called; in ES modules (dist/, vitest) there is no
 * `require`, and createRequire loads re2js's CommonJS build.
 */
function re2(): Re2Module {
    engine ??= (typeof require === "function" ? require("re2js") : createRequire(import.meta.url)("re2js")) as Re2Module
    return engine
}

/** A compiled pattern; `test` is Go's unanchored `MatchString`. */
export interface GoRegex {
    test(s: string): boolean
}

// Error texts of Go's regexp/syntax (re2js uses the same ones) that are worth a
// clearer word; the rest are shown as they are ("missing closing )").
const INVALID_ESCAPE = "invalid escape sequence"
const INVALID_PERL_OP = "invalid or unsupported Perl syntax"
const INVALID_NAMED_CAPTURE = "invalid named capture"

/**
 * Why Go would refuse `pattern`, in words that never quote the pattern itself (it
 * comes from a file; messages name the rule instead), or undefined when it compiles.
 */
export function goRegexProblem(pattern: string): string | undefined {
    try {
        compiled(pattern)
        return undefined
    } catch (e) {
        if (!(e instanceof re2().RE2JSSyntaxException)) throw e
        return describe(e)
    }
}

function describe(e: Re2js.RE2JSSyntaxException): string {
    const fragment = e.input ?? ""
    if ((e.error === INVALID_PERL_OP || e.error === INVALID_NAMED_CAPTURE) && /^\(\?<?[=!]/.test(fragment)) {
        return "lookahead and lookbehind are not supported by Go regular expressions (RE2)"
    }
    if (e.error === INVALID_ESCAPE && /^\\[1-9]$/.test(fragment)) {
        return "backreferences are not supported by Go regular expressions (RE2)"
    }
    return `not a valid Go regular expression (RE2): ${e.error}`
}

/**
 * Compile a Go pattern; a pattern Go would refuse is a FormatError naming the rule
 * (`ruleName`), never quoting the pattern.
 */
export function compileGoRegex(pattern: string, ruleName: string): GoRegex {
    try {
        return compiled(pattern)
    } catch (e) {
        if (!(e instanceof re2().RE2JSSyntaxException)) throw e
        throw new FormatError(`${ruleName}: ${describe(e)}`)
    }
}

// One compiled matcher per pattern: a config's path_regex is checked when the config
// is read and used again for every file a fleet command looks at.
const cache = new Map<string, GoRegex>()
const CACHE_LIMIT = 64

function compiled(pattern: string): GoRegex {
    const hit = cache.get(pattern)
    if (hit !== undefined) return hit
    const re = memoized(re2().RE2JS.compile(pattern))
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(pattern, re)
    return re
}

// The walk tests every component of a leaf's path, so the same few key names are
// tested again for every leaf below them; the automaton costs about a microsecond a
// test, a lookup far less. Only short texts (key names) are remembered.
const MEMO_LIMIT = 4096
const MEMO_MAX_LENGTH = 256

function memoized(re: Re2js.RE2JS): GoRegex {
    const seen = new Map<string, boolean>()
    return {
        test(s: string): boolean {
            if (s.length > MEMO_MAX_LENGTH) return re.test(s)
            const known = seen.get(s)
            if (known !== undefined) return known
            const result = re.test(s)
            if (seen.size >= MEMO_LIMIT) seen.clear()
            seen.set(s, result)
            return result
        },
    }
}
