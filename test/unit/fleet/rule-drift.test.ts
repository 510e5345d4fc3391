/**
 * A file's encryption rule against its creation rule: the drift itself, and the
 * values that a drifted rule would write in clear. The leaf decisions are checked
 * against what core/walk.ts really encrypts, comment rules included.
 */
import { describe, expect, it } from "vitest"
import { encryptBranches } from "../../../src/core/walk.js"
import type { EncryptionRule } from "../../../src/core/metadata.js"
import type { Branch, Node } from "../../../src/core/tree.js"
import { describePath, type PathStep } from "../../../src/core/tree-path.js"
import { clearAgainstCreationRule, creationSettings, describeSettings, fileSettings, madeClear, ruleDrift, type RuleSettings } from "../../../src/fleet/rule-drift.js"
import { loadStore } from "../../../src/stores/index.js"

const yaml = async (text: string): Promise<Branch[]> => (await loadStore("yaml")).parsePlain(new TextEncoder().encode(text))
const settings = (rule: EncryptionRule, macOnlyEncrypted = false): RuleSettings => ({ rule, macOnlyEncrypted })
const DEFAULT = settings({ unencryptedSuffix: "_unencrypted" })

describe("ruleDrift", () => {
    it("none when the file's rule is its creation rule's, the default suffix included", () => {
        expect(ruleDrift({ rule: { unencryptedSuffix: "_unencrypted" }, macOnlyEncrypted: false }, { rule: {}, macOnlyEncrypted: false }, false)).toBeUndefined()
        // An old file that names no rule is read with the default suffix, as sops reads it.
        expect(ruleDrift({ rule: {}, macOnlyEncrypted: false }, { rule: {}, macOnlyEncrypted: false }, false)).toBeUndefined()
        expect(ruleDrift({ rule: { encryptedRegex: "^pass" }, macOnlyEncrypted: true }, { rule: { encryptedRegex: "^pass" }, macOnlyEncrypted: true }, false)).toBeUndefined()
    })

    it("describes both sides when the rule, its value or mac_only_encrypted differs", () => {
        const d = ruleDrift({ rule: { encryptedRegex: "^pass" }, macOnlyEncrypted: false }, { rule: {}, macOnlyEncrypted: false }, false)
        expect([d?.fileText, d?.creationText]).toEqual(["encrypted_regex ^pass", "unencrypted_suffix _unencrypted"])
        expect(ruleDrift({ rule: { encryptedRegex: "^pass" }, macOnlyEncrypted: false }, { rule: { encryptedRegex: "^password" }, macOnlyEncrypted: false }, false)?.fileText).toBe(
            "encrypted_regex ^pass",
        )
        const mac = ruleDrift({ rule: {}, macOnlyEncrypted: false }, { rule: {}, macOnlyEncrypted: true }, false)
        expect(mac?.creationText).toBe("unencrypted_suffix _unencrypted, mac_only_encrypted")
    })

    it("never for a binary file: sops encrypts its one value whatever the rule", () => {
        expect(ruleDrift({ rule: {}, macOnlyEncrypted: false }, { rule: { encryptedRegex: "^x" }, macOnlyEncrypted: false }, true)).toBeUndefined()
    })

    it("settings of a plan and of a file", () => {
        expect(creationSettings({ rule: {}, macOnlyEncrypted: false })).toEqual(DEFAULT)
        expect(fileSettings({ rule: { unencryptedRegex: ".*" }, macOnlyEncrypted: true })).toEqual(settings({ unencryptedRegex: ".*" }, true))
        expect(describeSettings(settings({ encryptedCommentRegex: "sops:enc" }))).toBe("encrypted_comment_regex sops:enc")
    })
})

/** Key paths (with list indices) of the scalars that `rule` leaves in clear, as walk.ts encrypts. */
function clearPaths(branches: Branch[], rule: EncryptionRule): string[] {
    const out: string[] = []
    const enc = encryptBranches(branches, new Uint8Array(32), { rule, macOnlyEncrypted: false })
    const visit = (node: Node, steps: PathStep[]): void => {
        if (node.kind === "map") for (const i of node.items) if (i.kind === "entry") visit(i.value, [...steps, i.key])
        if (node.kind === "list") {
            let n = 0
            for (const i of node.items) if (i.kind !== "comment") visit(i, [...steps, n++])
        }
        if (node.kind !== "map" && node.kind !== "list" && node.kind !== "null" && !(node.kind === "str" && node.value.startsWith("ENC["))) out.push(describePath(steps))
    }
    for (const b of enc.branches) visit(b, [])
    return out
}

const DOC = [
    "db:",
    "    password: p",
    "    user_unencrypted: u",
    "    port: 5432",
    "    # sops:enc",
    "    token: t",
    "hosts:",
    "    - a",
    "    # sops:enc",
    "    - b",
    "note: ~",
    "",
].join("\n")

describe("clearAgainstCreationRule", () => {
    it("agrees with the walk that seals the file, for path and comment rules", async () => {
        const branches = await yaml(DOC)
        for (const rule of [{ unencryptedRegex: ".*" }, { encryptedRegex: "^pass" }, { encryptedCommentRegex: "sops:enc" }, { unencryptedCommentRegex: "sops:enc" }, { encryptedSuffix: "word" }]) {
            const file = settings(rule)
            const expected = clearPaths(branches, rule).filter((p) => !clearPaths(branches, DEFAULT.rule).includes(p))
            expect(expected.length, JSON.stringify(rule)).toBeGreaterThan(0)
            expect(clearAgainstCreationRule([], branches, file, DEFAULT), JSON.stringify(rule)).toEqual(expected)
            expect(madeClear(branches, DEFAULT, file), JSON.stringify(rule)).toEqual(expected)
        }
    })

    it("lists only new or changed values: one already in clear is the drift warning's business", async () => {
        const before = await yaml("db:\n    password: p\n    port: 5432\n")
        const after = await yaml("db:\n    password: p2\n    port: 5432\n    host: h\nhosts:\n    - a\n")
        expect(clearAgainstCreationRule(before, after, settings({ unencryptedRegex: ".*" }), DEFAULT)).toEqual([`["db"]["password"]`, `["db"]["host"]`, `["hosts"][0]`])
        // The same text with another type is a change (5432 the int, "5432" the string).
        const typed = await yaml(`db:\n    password: p\n    port: "5432"\n`)
        expect(clearAgainstCreationRule(before, typed, settings({ unencryptedRegex: ".*" }), DEFAULT)).toEqual([`["db"]["port"]`])
    })

    it("nothing when the creation rule leaves the value in clear too", async () => {
        const after = await yaml("user_unencrypted: u\n")
        expect(clearAgainstCreationRule([], after, settings({ unencryptedRegex: ".*" }), DEFAULT)).toEqual([])
    })

    it("names the document of a multi-document file", async () => {
        const after = await yaml("a: 1\n---\nb: 2\n")
        expect(clearAgainstCreationRule(await yaml("a: 1\n---\nc: 3\n"), after, settings({ unencryptedRegex: ".*" }), DEFAULT)).toEqual([`document 2: ["b"]`])
    })
})
