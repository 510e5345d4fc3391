/**
 * Which leaves get encrypted (sops-format.md §5, sops.go `shouldBeEncrypted`).
 *
 * A leaf is judged by its path (the mapping keys from the root; list indices are
 * not components) and, for the comment rules, by the comments stack: one frame per
 * nesting level holding the comments seen at that level since the last non-comment
 * item. The walk in walk.ts maintains that stack.
 */
import { FormatError } from "../errors.js"
import { compileGoRegex } from "./go-regex.js"
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
