/**
 * A host declared before its key is known (`init --host web1`, issue 11 §9): its
 * directory gets a rule for the users and the recovery key, later users join it,
 * and naming the host's key turns it into the ordinary host rule.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { addNamedKey, declareHost, removeNamedKey, syncLayout } from "../../../src/fleet/config-edit.js"
import { parseConfig } from "../../../src/config/load.js"
import { matchRule, planForRule } from "../../../src/config/match.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import { ConfigError } from "../../../src/errors.js"

let R: string[] = []
beforeAll(async () => {
    R = await Promise.all(Array.from({ length: 4 }, async () => (await generateX25519Identity()).recipient))
})
const r = (i: number) => R[i] ?? ""

function recipientsFor(text: string, file: string): string[] {
    const config = parseConfig(text, ".sops.yaml")
    return planForRule(matchRule(config, "/repo", `/repo/${file}`)).groups.flat()
}

function aliceAndRecovery(): string {
    let t = addNamedKey("", { kind: "user", name: "alice", recipient: r(0) }).text
    t = addNamedKey(t, { kind: "recovery", name: "", recipient: r(2) }).text
    return t
}

describe("declareHost", () => {
    it("gives a host without a key the rule of its directory: the users and the recovery key", () => {
        const out = declareHost(aliceAndRecovery(), "web1")
        expect(out.changed).toBe(true)
        expect(out.notes).toEqual(["added rule ^secrets/hosts/web1/"])
        expect(out.text).toContain("  - path_regex: ^secrets/hosts/web1/\n    key_groups:\n      - age:\n          - *user_alice\n          - *recovery\n")
        // The host rule comes first, as the layout orders its rules.
        expect(out.text.indexOf("^secrets/hosts/web1/")).toBeLessThan(out.text.indexOf("^secrets/users/alice/"))
        expect(recipientsFor(out.text, "secrets/hosts/web1/env.yaml")).toEqual([r(0), r(2)])
    })

    it("changes nothing the second time, nor for a host that has its key", () => {
        const once = declareHost(aliceAndRecovery(), "web1").text
        expect(declareHost(once, "web1")).toEqual({ text: once, changed: false, notes: [] })
        const keyed = addNamedKey(aliceAndRecovery(), { kind: "host", name: "web1", recipient: r(1) }).text
        expect(declareHost(keyed, "web1").changed).toBe(false)
    })

    it("keeps the rule in step: a later user joins it, and keys add-host puts the host in it", () => {
        let t = declareHost(aliceAndRecovery(), "web1").text
        const bob = addNamedKey(t, { kind: "user", name: "bob", recipient: r(3) })
        expect(bob.notes).toContain("rule ^secrets/hosts/web1/: added *user_bob")
        t = bob.text
        expect(recipientsFor(t, "secrets/hosts/web1/env.yaml")).toEqual([r(0), r(3), r(2)])
        const host = addNamedKey(t, { kind: "host", name: "web1", recipient: r(1) })
        expect(host.notes).toContain("rule ^secrets/hosts/web1/: added *host_web1")
        expect(host.notes).not.toContain("added rule ^secrets/hosts/web1/")
        // Users, then the host, then recovery: the layout's order.
        expect(recipientsFor(host.text, "secrets/hosts/web1/env.yaml")).toEqual([r(0), r(3), r(1), r(2)])
        expect(host.text.match(/\^secrets\/hosts\/web1\//g)).toHaveLength(1)
        // Removing the host takes its rule with it, as for any host.
        expect(removeNamedKey(host.text, "web1").text).not.toContain("^secrets/hosts/web1/")
    })

    it("never widens a hand-written host rule with another key in it", () => {
        const own = `${aliceAndRecovery()}  - path_regex: ^secrets/hosts/db1/\n    key_groups:\n      - age:\n          - ${r(3)}\n`
        const synced = syncLayout(own)
        expect(synced.changed).toBe(false)
        expect(recipientsFor(synced.text, "secrets/hosts/db1/x.yaml")).toEqual([r(3)])
    })

    it("refuses a config with no user and no recovery key to read the host's files, and a bad name", () => {
        expect(() => declareHost("", "web1")).toThrow(ConfigError)
        expect(() => declareHost("", "web1")).toThrow(/names no user or recovery key/)
        expect(() => declareHost(aliceAndRecovery(), "We/b")).toThrow(/invalid host name/)
    })
})
