/**
 * Which leaves get encrypted (sops-format.md §5, sops.go `shouldBeEncrypted`).
 *
 * A leaf is judged by its path (the mapping keys from the root; list indices are
 * not components) and, for the comment rules, by the comments stack: one frame per
 * nesting level holding the comments seen at that level since the last non-comment
 * item. The walk in walk.ts maintains that stack.
 */
import { FormatError } from "../errors.js"
import type { EncryptionRule } from "./metadata.js"

/** The suffix sops applies when a file names no rule. */
export const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"

/** Comment texts seen so far, one frame per nesting level, outermost first. */
export type CommentsStack = readonly (readonly string[])[]

/** A compiled encryption rule. */
export interface Policy {
    /**
     * True if the leaf at `path` is encrypted. `isComment` is true when the leaf is
     * itself a comment, which is then already the last entry of the last frame.
     */
    shouldEncrypt(path: readonly string[], comments: CommentsStack, isComment: boolean): boolean
    /** The rule actually applied (with the default suffix filled in). */
    readonly rule: EncryptionRule
}

const RULE_FIELDS = [
    "unencryptedSuffix",
    "encryptedSuffix",
    "unencryptedRegex",
    "encryptedRegex",
    "unencryptedCommentRegex",
    "encryptedCommentRegex",
] as const

/** How many of the six rules are set (non-empty), as sops counts them. */
export function ruleCount(rule: EncryptionRule): number {
    return RULE_FIELDS.filter((f) => (rule[f] ?? "") !== "").length
}

/**
 * The rule sops would apply: the given one, or `unencrypted_suffix: _unencrypted`
 * when none is set. More than one rule is an error, as in sops' metadata loader and
 * config (all six rules count, the comment regexes included).
 */
export function effectiveRule(rule: EncryptionRule): EncryptionRule {
    const n = ruleCount(rule)
    if (n > 1) {
        throw new FormatError(
            "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, " +
                "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex",
        )
    }
    return n === 0 ? { unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX } : rule
}

// Escapes Go RE2 accepts for any punctuation but JS's `u` mode rejects outside a
// character class (`\:`, `\-`, `\_`, …). Outside a class they are plain literals.
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/")

function goToJsPattern(pattern: string): { source: string; flags: string } {
    let source = pattern
    let flags = "u"
    // RE2 allows a leading flag group; JS (Node 20) has no inline modifiers.
    const lead = /^\(\?([imsU]+)\)/.exec(source)
    if (lead?.[1] !== undefined) {
        if (lead[1].includes("U")) throw new FormatError("regular expression flag U is not supported")
        for (const f of new Set(lead[1])) flags += f
        source = source.slice(lead[0].length)
    }
    let out = ""
    let inClass = false
    for (let i = 0; i < source.length; i++) {
        const c = source[i] ?? ""
        if (c === "\\" && i + 1 < source.length) {
            const next = source[i + 1] ?? ""
            i++
            if (next === "z" && !inClass) {
                out += "$"
            } else if (/[!-/:-@[-`{-~]/.test(next) && !JS_SYNTAX.has(next) && !(inClass && next === "-")) {
                out += next
            } else {
                out += c + next
            }
            continue
        }
        if (c === "[" && !inClass) inClass = true
        else if (c === "]" && inClass) inClass = false
        out += c
    }
    // Named groups: RE2 `(?P<name>…)` is `(?<name>…)` in JS.
    out = out.replace(/\(\?P</g, "(?<")
    return { source: out, flags }
}

/**
 * Compile a Go RE2 pattern to a JS RegExp with the same unanchored `regexp.Match`
 * semantics. Patterns JS cannot express are a FormatError naming the rule.
 */
export function compileGoRegex(pattern: string, ruleName: string): RegExp {
    try {
        const { source, flags } = goToJsPattern(pattern)
        return new RegExp(source, flags)
    } catch (e) {
        if (e instanceof FormatError) throw e
        throw new FormatError(`${ruleName} is not a regular expression this tool supports`)
    }
}

/**
 * Compile an encryption rule. With `binary`, every rule is ignored and everything
 * is encrypted: sops ≥ 3.11 forces the rules off for the binary store.
 */
export function compilePolicy(rule: EncryptionRule, opts: { readonly binary?: boolean } = {}): Policy {
    if (opts.binary === true) return { rule: {}, shouldEncrypt: () => true }
    const r = effectiveRule(rule)
    const set = (s: string | undefined): s is string => s !== undefined && s !== ""
    const anyComponent = (path: readonly string[], test: (p: string) => boolean): boolean => path.some(test)

    if (set(r.unencryptedSuffix)) {
        const suffix = r.unencryptedSuffix
        return { rule: r, shouldEncrypt: (path) => !anyComponent(path, (p) => p.endsWith(suffix)) }
    }
    if (set(r.encryptedSuffix)) {
        const suffix = r.encryptedSuffix
        return { rule: r, shouldEncrypt: (path) => anyComponent(path, (p) => p.endsWith(suffix)) }
    }
    if (set(r.unencryptedRegex)) {
        const re = compileGoRegex(r.unencryptedRegex, "unencrypted_regex")
        return { rule: r, shouldEncrypt: (path) => !anyComponent(path, (p) => re.test(p)) }
    }
    if (set(r.encryptedRegex)) {
        const re = compileGoRegex(r.encryptedRegex, "encrypted_regex")
        return { rule: r, shouldEncrypt: (path) => anyComponent(path, (p) => re.test(p)) }
    }
    if (set(r.unencryptedCommentRegex)) {
        const re = compileGoRegex(r.unencryptedCommentRegex, "unencrypted_comment_regex")
        return {
            rule: r,
            shouldEncrypt: (_path, comments) => !comments.some((frame) => frame.some((c) => re.test(c))),
        }
    }
    const re = compileGoRegex(r.encryptedCommentRegex ?? "", "encrypted_comment_regex")
    return {
        rule: r,
        shouldEncrypt: (_path, comments, isComment) => {
            const last = comments.length - 1
            return comments.some((frame, i) =>
                frame.some((c, j) => {
                    // The marker comment itself stays clear: skip the last comment of
                    // the last frame when judging a comment.
                    if (isComment && i === last && j === frame.length - 1) return false
                    return re.test(c)
                }),
            )
        },
    }
}
