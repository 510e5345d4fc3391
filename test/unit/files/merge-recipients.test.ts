/**
 * The merge driver's recipients (src/files/merge-driver.ts mergedRecipientGroups):
 * ours' creation rule with theirs' recipient changes since the base on top, because
 * git runs the driver while ours' `.sops.yaml` is still in the work tree.
 */
import { describe, expect, it } from "vitest"
import type { KeyGroup } from "../../../src/core/metadata.js"
import { map } from "../../../src/core/tree.js"
import { mergedRecipientGroups } from "../../../src/files/merge-driver.js"

const group = (...recipients: string[]): KeyGroup => recipients.map((recipient) => ({ type: "age", recipient, enc: "" }))

describe("mergedRecipientGroups", () => {
    it("theirs' additions since the base are added to the rule, in theirs' order", () => {
        expect(mergedRecipientGroups([["alice"]], [group("alice")], [group("alice", "web1", "web2")])).toEqual([["alice", "web1", "web2"]])
    })

    it("theirs' removals since the base win over ours' older rule (a revoked key never comes back)", () => {
        expect(mergedRecipientGroups([["alice", "bob"]], [group("alice", "bob")], [group("alice")])).toEqual([["alice"]])
    })

    it("the rule's own changes stand when theirs changed nothing (ours edited .sops.yaml)", () => {
        expect(mergedRecipientGroups([["alice", "web1"]], [group("alice", "bob")], [group("alice", "bob")])).toEqual([["alice", "web1"]])
    })

    it("without a base nothing is known of theirs' changes: the rule as it is", () => {
        expect(mergedRecipientGroups([["alice"]], undefined, [group("alice", "mallory")])).toEqual([["alice"]])
    })

    it("works per key group, a recipient added on both sides once, and foreign keys ignored", () => {
        const theirs: KeyGroup[] = [group("a", "c"), [...group("x", "z"), { type: "pgp", fields: map() }]]
        expect(mergedRecipientGroups([["a", "c"], ["x", "y"]], [group("a"), group("x", "y")], theirs)).toEqual([["a", "c"], ["x", "z"]])
    })
})
