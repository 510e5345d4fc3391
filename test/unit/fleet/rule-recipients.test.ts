import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import type { KeyGroup } from "../../../src/core/metadata.js"
import { A, B, B2, H, R, RULES_CONFIG, group } from "./rules-fixture.js"
import { missingRuleRecipients, offRuleRecipients, ruleRecipientsFor, withoutRecipient } from "../../../src/fleet/rule-recipients.js"

const CONFIG = RULES_CONFIG
const config = parseConfig(CONFIG, ".sops.yaml")

describe("ruleRecipientsFor: the recipients of a file according to its creation rule", () => {
    it("gives the matching rule's key groups and threshold", () => {
        expect(ruleRecipientsFor(config, "/repo", "/repo/secrets/shared/db.yaml")).toEqual({ groups: [[A, B, H, R]], threshold: 0, unsupported: [] })
        expect(ruleRecipientsFor(config, "/repo", "/repo/secrets/split/x.yaml")).toEqual({ groups: [[A, B], [R]], threshold: 2, unsupported: [] })
    })

    it("is undefined for a file no rule matches, and for a config without rules", () => {
        expect(ruleRecipientsFor(config, "/repo", "/repo/elsewhere/x.yaml")).toBeUndefined()
        expect(ruleRecipientsFor(parseConfig("stores: {}\n", ".sops.yaml"), "/repo", "/repo/secrets/shared/db.yaml")).toBeUndefined()
    })

})

describe("offRuleRecipients", () => {
    it("names the file's recipients that no group of the rule names, in file order, once", () => {
        expect(offRuleRecipients([group(A, B2, B), group(R, B2)], [[A, B], [R]])).toEqual([B2])
        expect(offRuleRecipients([group(A, B)], [[A, B]])).toEqual([])
    })

    it("a recipient in another group of the rule is not off-rule, and foreign keys are not counted", () => {
        const pgp: KeyGroup = [{ type: "pgp", fields: { kind: "map", items: [] } }]
        expect(offRuleRecipients([group(R), [...group(A), ...pgp]], [[A], [R]])).toEqual([])
    })

    it("compares trimmed recipients", () => {
        expect(offRuleRecipients([group(` ${A}`)], [[`${A} `]])).toEqual([])
    })
})

describe("missingRuleRecipients and withoutRecipient", () => {
    it("names the rule's recipients the file lacks", () => {
        expect(missingRuleRecipients([group(A)], [[A, H], [R]])).toEqual([H, R])
    })

    it("takes a recipient out of every group", () => {
        expect(withoutRecipient([[A, B], [B, R]], B)).toEqual([[A], [R]])
    })
})
