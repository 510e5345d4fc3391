/**
 * core/value-changes.ts: what ENC strings decide on their own and what they leave
 * to a plaintext comparison, on documents encrypted with the real cipher.
 */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { IvStash } from "../../../src/core/cipher.js"
import { compilePolicy } from "../../../src/core/policy.js"
import { entry, int, list, map, str, type Branch } from "../../../src/core/tree.js"
import { changesUnder, leavesOf, undecidedLabels, valueChanges } from "../../../src/core/value-changes.js"
import { decryptBranches, encryptBranches } from "../../../src/core/walk.js"

const opts = { policy: compilePolicy({ unencryptedSuffix: "_unencrypted" }), macOnlyEncrypted: false }

function encrypt(doc: Branch, key: Uint8Array, stash?: IvStash): Branch[] {
    return encryptBranches([doc], key, opts, stash).branches
}

const v1 = map(entry("db", map(entry("user", str("admin")), entry("password", str("pw-1")))), entry("port_unencrypted", int(5432)), entry("empty", str("")))

describe("valueChanges", () => {
    const key = randomBytes(32)
    const before = encrypt(v1, key)
    // An edit as `set` makes it: the stash keeps every unchanged value's ENC string.
    const stash = decryptBranches(before, key, opts).stash
    const v2 = map(
        entry("db", map(entry("user", str("admin")), entry("password", str("pw-2")))),
        entry("port_unencrypted", int(5433)),
        entry("empty", str("now set")),
        entry("hosts", list(str("a"), str("b"))),
    )
    const after = encrypt(v2, key, stash)

    it("decides identical ENC strings and unencrypted leaves alone, and leaves a different ENC string undecided", () => {
        const a = leavesOf(before)
        const b = leavesOf(after)
        expect(undecidedLabels(a, b, true)).toEqual(['["db"]["password"]'])
        expect(valueChanges(a, b, { sameDataKey: true })).toEqual({
            added: ['["hosts"][0]', '["hosts"][1]'],
            // The port is compared as the file shows it; "" -> a value is a change without any key.
            changed: ['["port_unencrypted"]', '["empty"]'],
            removed: [],
            undecided: ['["db"]["password"]'],
        })
    })

    it("takes the caller's plaintext comparison for what it leaves open", () => {
        const a = leavesOf(before)
        const b = leavesOf(after)
        const asked: string[] = []
        const changes = valueChanges(a, b, { sameDataKey: true, samePlaintext: (l) => (asked.push(l), false) })
        expect(asked).toEqual(['["db"]["password"]'])
        expect(changes.changed).toEqual(['["db"]["password"]', '["port_unencrypted"]', '["empty"]'])
        expect(changes.undecided).toEqual([])
    })

    it("does not call a value re-encrypted with a fresh IV changed (no stash), unless the plaintexts say so", () => {
        const fresh = encrypt(v1, key)
        const a = leavesOf(before)
        const b = leavesOf(fresh)
        expect(undecidedLabels(a, b, true)).toEqual(['["db"]["user"]', '["db"]["password"]'])
        expect(valueChanges(a, b, { sameDataKey: true, samePlaintext: () => true })).toEqual({ added: [], changed: [], removed: [], undecided: [] })
    })

    it("trusts no identical text across a data-key change", () => {
        const a = leavesOf(before)
        const b = leavesOf(before)
        // The same bytes under another key cannot be read as the same value: only plaintexts tell.
        expect(undecidedLabels(a, b, false)).toEqual(['["db"]["user"]', '["db"]["password"]'])
        expect(valueChanges(a, b, { sameDataKey: true }).undecided).toEqual([])
    })

    it("lists removed paths in the old file's order, and labels later documents", () => {
        const removed = valueChanges(leavesOf(after), leavesOf(before), { sameDataKey: true, samePlaintext: () => false })
        expect(removed.removed).toEqual(['["hosts"][0]', '["hosts"][1]'])
        const docs = leavesOf([map(entry("a", str("x"))), map(entry("b", str("y")))])
        expect([...docs.keys()]).toEqual(['["a"]', '#1 ["b"]'])
    })

    it("keeps to a key path and what is under it, not to its prefix", () => {
        const c = { added: ['["db"]["user"]', '["dbx"]', '["db"]'], changed: ['["hosts"][0]'], removed: [], undecided: ['["db"]["password"]'] }
        expect(changesUnder(c, '["db"]')).toEqual({ added: ['["db"]["user"]', '["db"]'], changed: [], removed: [], undecided: ['["db"]["password"]'] })
    })
})
