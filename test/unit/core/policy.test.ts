import { describe, expect, test } from "vitest"
import type { EncryptionRule } from "../../../src/core/metadata.js"
import { compileGoRegex } from "../../../src/core/go-regex.js"
import { compilePolicy, effectiveRule, type CommentsStack } from "../../../src/core/policy.js"
import { comment, entry, list, map, str, type Branch } from "../../../src/core/tree.js"
import { encryptBranches } from "../../../src/core/walk.js"
import { FormatError } from "../../../src/errors.js"

describe("path rules", () => {
    const table: [string, EncryptionRule, string[], boolean][] = [
        ["default suffix: plain key", {}, ["password"], true],
        ["default suffix: suffixed key", {}, ["password_unencrypted"], false],
        ["default suffix: any component", {}, ["a_unencrypted", "b", "c"], false],
        ["default suffix: suffix must be at the end", {}, ["a_unencrypted_b"], true],
        ["unencrypted_suffix custom", { unencryptedSuffix: "_clear" }, ["x", "y_clear"], false],
        ["unencrypted_suffix custom, default no longer applies", { unencryptedSuffix: "_clear" }, ["y_unencrypted"], true],
        ["encrypted_suffix match", { encryptedSuffix: "Templates" }, ["stringDataTemplates", "k"], true],
        ["encrypted_suffix no match", { encryptedSuffix: "Templates" }, ["metadata", "name"], false],
        ["encrypted_suffix empty path", { encryptedSuffix: "Templates" }, [], false],
        ["unencrypted_regex unanchored", { unencryptedRegex: "public" }, ["my_public_key"], false],
        ["unencrypted_regex anchored", { unencryptedRegex: "^public$" }, ["my_public_key"], true],
        ["encrypted_regex k8s", { encryptedRegex: "^(data|stringData)$" }, ["data", "tls.key"], true],
        ["encrypted_regex k8s no match", { encryptedRegex: "^(data|stringData)$" }, ["metadata", "data2"], false],
        ["encrypted_regex unanchored", { encryptedRegex: "pass" }, ["db", "password"], true],
        ["encrypted_regex top-level comment path", { encryptedRegex: "." }, [], false],
        ["RE2 escapes JS rejects in u mode", { encryptedRegex: "^a\\-b\\:c$" }, ["a-b:c"], true],
        ["RE2 leading flag group", { encryptedRegex: "(?i)^PASS" }, ["password"], true],
        ["RE2 named group", { encryptedRegex: "^(?P<x>tok)en$" }, ["token"], true],
        ["RE2 \\z", { encryptedRegex: "key\\z" }, ["apikey"], true],
        ["unicode component", { encryptedRegex: "^pässwort$" }, ["pässwort"], true],
    ]
    test.each(table)("%s", (_name, rule, path, expected) => {
        expect(compilePolicy(rule).shouldEncrypt(path, [[]], false)).toBe(expected)
    })

    test("binary store ignores every rule", () => {
        expect(compilePolicy({ encryptedRegex: "^nothing$" }, { binary: true }).shouldEncrypt(["data"], [[]], false)).toBe(true)
    })

    test("effective rule: default suffix only when none is set", () => {
        expect(effectiveRule({})).toEqual({ unencryptedSuffix: "_unencrypted" })
        expect(effectiveRule({ encryptedRegex: "", encryptedSuffix: "x" })).toEqual({ encryptedRegex: "", encryptedSuffix: "x" })
    })

    test("more than one rule is an error, comment regexes included", () => {
        expect(() => compilePolicy({ encryptedSuffix: "a", unencryptedSuffix: "b" })).toThrow(FormatError)
        expect(() => compilePolicy({ encryptedRegex: "a", unencryptedCommentRegex: "b" })).toThrow(/cannot use more than one of/)
    })

    test("patterns Go cannot compile are a FormatError naming the rule, not the pattern", () => {
        expect(() => compileGoRegex("(unclosed", "encrypted_regex")).toThrow(
            new FormatError("encrypted_regex: not a valid Go regular expression (RE2): missing closing )"),
        )
        expect(() => compilePolicy({ unencryptedRegex: "[" })).toThrow(/^unencrypted_regex/)
        // Go knows the U (ungreedy) flag; it changes nothing for a yes/no match.
        expect(compileGoRegex("(?U)a+", "encrypted_regex").test("aa")).toBe(true)
    })
})

describe("comment rules (shouldEncrypt on a stack)", () => {
    const stack = (...frames: string[][]): CommentsStack => frames
    const unenc = compilePolicy({ unencryptedCommentRegex: "sops:clear" })
    const enc = compilePolicy({ encryptedCommentRegex: "sops:enc" })
    const table: [string, boolean, boolean, CommentsStack, boolean][] = [
        // [name, encrypted-rule?, isComment, stack, expected]
        ["unencrypted: no comment", false, false, stack([]), true],
        ["unencrypted: marker in current frame", false, false, stack([" sops:clear"]), false],
        ["unencrypted: marker in an outer frame", false, false, stack([" sops:clear"], []), false],
        ["unencrypted: the marker comment itself", false, true, stack([" sops:clear"]), false],
        ["unencrypted: other comment", false, true, stack([" hello"]), true],
        ["encrypted: no comment", true, false, stack([]), false],
        ["encrypted: marker before the value", true, false, stack([" sops:enc"]), true],
        ["encrypted: marker in an outer frame", true, false, stack([" sops:enc"], [" x"]), true],
        ["encrypted: the marker itself stays clear", true, true, stack([" sops:enc"]), false],
        ["encrypted: comment after the marker", true, true, stack([" sops:enc", " secret note"]), true],
        ["encrypted: last comment of an inner frame after an outer marker", true, true, stack([" sops:enc"], [" note"]), true],
    ]
    test.each(table)("%s", (_name, encrypted, isComment, s, expected) => {
        expect((encrypted ? enc : unenc).shouldEncrypt(["k"], s, isComment)).toBe(expected)
    })
})

describe("comment rules through the walk (frames clear after each non-comment item)", () => {
    const key = new Uint8Array(32).fill(1)
    const isEnc = (s: string): boolean => s.startsWith("ENC[")
    const run = (rule: EncryptionRule, tree: Branch): Branch => encryptBranches([tree], key, { rule, macOnlyEncrypted: false }).branches[0]!
    const kinds = (b: Branch): string[] =>
        b.items.map((i) => (i.kind === "comment" ? `#${isEnc(i.text) ? "E" : "c"}` : i.value.kind === "str" ? (isEnc(i.value.value) ? "E" : "c") : i.value.kind))

    test("encrypted_comment_regex selects only the next value", () => {
        const tree = map(
            comment(" sops:enc"),
            entry("a", str("1")),
            entry("b", str("2")),
            comment(" plain"),
            comment(" sops:enc"),
            comment(" after marker"),
            entry("c", str("3")),
        )
        expect(kinds(run({ encryptedCommentRegex: "sops:enc" }, tree))).toEqual(["#c", "E", "c", "#c", "#c", "#E", "E"])
    })

    test("an inline comment governs the value it precedes in the tree", () => {
        const tree = map(comment(" sops:enc", true), entry("a", str("1")), entry("b", str("2")))
        expect(kinds(run({ encryptedCommentRegex: "sops:enc" }, tree))).toEqual(["#c", "E", "c"])
    })

    test("a marker above a mapping covers everything inside it", () => {
        const tree = map(comment(" sops:enc"), entry("m", map(entry("x", str("1")), comment(" inner"), entry("y", list(str("2"))))), entry("z", str("3")))
        const out = run({ encryptedCommentRegex: "sops:enc" }, tree)
        const m = out.items[1]
        if (m?.kind !== "entry" || m.value.kind !== "map") throw new Error("shape")
        expect(kinds(m.value)).toEqual(["E", "#E", "list"])
        expect(kinds(out)).toEqual(["#c", "map", "c"])
    })

    test("unencrypted_comment_regex keeps the next value and the marker clear", () => {
        const tree = map(comment(" sops:clear"), entry("a", str("1")), comment(" note"), entry("b", str("2")))
        expect(kinds(run({ unencryptedCommentRegex: "sops:clear" }, tree))).toEqual(["#c", "c", "#E", "E"])
    })

    test("in a list the frame clears after each element", () => {
        const tree = map(entry("l", list(comment(" sops:clear"), str("1"), str("2"))))
        const out = run({ unencryptedCommentRegex: "sops:clear" }, tree)
        const l = out.items[0]
        if (l?.kind !== "entry" || l.value.kind !== "list") throw new Error("shape")
        const flags = l.value.items.map((i) => (i.kind === "comment" ? isEnc(i.text) : i.kind === "str" && isEnc(i.value)))
        expect(flags).toEqual([false, false, true])
    })
})
