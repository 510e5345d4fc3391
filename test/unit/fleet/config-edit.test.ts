import { beforeAll, describe, expect, it } from "vitest"
import fc from "fast-check"
import { addNamedKey, removeNamedKey, syncLayout } from "../../../src/fleet/config-edit.js"
import { parseConfig } from "../../../src/config/load.js"
import { matchRule, planForRule } from "../../../src/config/match.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import { ConfigError, FormatError } from "../../../src/errors.js"
import { readNamedKeys } from "../../../src/config/named-keys.js"

let R: string[] = []
beforeAll(async () => {
    R = await Promise.all(Array.from({ length: 8 }, async () => (await generateX25519Identity()).recipient))
})
const r = (i: number) => R[i] ?? ""

/** The recipients sops would use for `file` (relative to the config's directory /repo). */
function recipientsFor(text: string, file: string): string[] {
    const config = parseConfig(text, ".sops.yaml")
    return planForRule(matchRule(config, "/repo", `/repo/${file}`)).groups.flat()
}

function fleet(): string {
    let t = ""
    t = addNamedKey(t, { kind: "user", name: "alice", recipient: r(0) }).text
    t = addNamedKey(t, { kind: "host", name: "web1", recipient: r(1) }).text
    t = addNamedKey(t, { kind: "recovery", name: "", recipient: r(2) }).text
    return t
}

describe("addNamedKey", () => {
    it("writes sops-nix style anchors and the layout's rules", () => {
        expect(fleet()).toBe(
            [
                "keys:",
                `  - &user_alice ${r(0)}`,
                `  - &host_web1 ${r(1)}`,
                `  - &recovery ${r(2)}`,
                "creation_rules:",
                "  - path_regex: ^secrets/hosts/web1/",
                "    key_groups:",
                "      - age:",
                "          - *user_alice",
                "          - *host_web1",
                "          - *recovery",
                "  - path_regex: ^secrets/users/alice/",
                "    key_groups:",
                "      - age:",
                "          - *user_alice",
                "          - *recovery",
                "  - path_regex: ^secrets/shared/",
                "    key_groups:",
                "      - age:",
                "          - *user_alice",
                "          - *host_web1",
                "          - *recovery",
                "",
            ].join("\n"),
        )
    })

    it("gives each directory exactly its readers, as sops resolves them", () => {
        const t = fleet()
        expect(recipientsFor(t, "secrets/hosts/web1/env.yaml")).toEqual([r(0), r(1), r(2)])
        expect(recipientsFor(t, "secrets/users/alice/notes.yaml")).toEqual([r(0), r(2)])
        expect(recipientsFor(t, "secrets/shared/db.yaml")).toEqual([r(0), r(1), r(2)])
        expect(() => recipientsFor(t, "elsewhere/x.yaml")).toThrow(ConfigError)
    })

    it("is idempotent: the same key again changes nothing", () => {
        const t = fleet()
        const again = addNamedKey(t, { kind: "host", name: "web1", recipient: r(1) })
        expect(again.changed).toBe(false)
        expect(again.text).toBe(t)
        expect(syncLayout(t).changed).toBe(false)
    })

    it("keeps comments and puts new rules in the layout's order", () => {
        const before = [
            "# fleet config: reviewed by ops",
            "keys:",
            `  - &user_alice ${r(0)} # alice's laptop`,
            "creation_rules:",
            "  # hosts",
            "  - path_regex: ^secrets/users/alice/",
            "    key_groups:",
            "      - age:",
            "          - *user_alice",
            "  # the catch-all stays last",
            "  - age: " + r(7),
            "",
        ].join("\n")
        const after = addNamedKey(before, { kind: "host", name: "db1", recipient: r(3) }, "cfg.yaml")
        expect(after.text).toContain("# fleet config: reviewed by ops\nkeys:\n")
        expect(after.text).toContain(`&user_alice ${r(0)} # alice's laptop`)
        expect(after.text).toContain("  # the catch-all stays last\n")
        const rules = parseConfig(after.text, "cfg.yaml").creation_rules?.map((x) => x.path_regex ?? "*") ?? []
        expect(rules).toEqual(["^secrets/hosts/db1/", "^secrets/users/alice/", "^secrets/shared/", "*"])
        expect(recipientsFor(after.text, "secrets/hosts/db1/a.yaml")).toEqual([r(0), r(3)])
        expect(recipientsFor(after.text, "other/a.yaml")).toEqual([r(7)])
    })

    it("moves keys: before the rules so every alias follows its anchor", () => {
        const before = `creation_rules:\n  - path_regex: ^x/\n    age: ${r(7)}\nkeys:\n  - &other ${r(6)}\n`
        const t = addNamedKey(before, { kind: "user", name: "bob", recipient: r(4) }).text
        expect(t.startsWith(`keys:\n  - &other ${r(6)}\n  - &user_bob ${r(4)}\ncreation_rules:\n`)).toBe(true)
        expect(recipientsFor(t, "secrets/users/bob/a.env")).toEqual([r(4)])
    })

    it("adds a new user to every host rule and the shared rule, in the layout's order", () => {
        const t = addNamedKey(fleet(), { kind: "user", name: "bob", recipient: r(4) }).text
        expect(recipientsFor(t, "secrets/hosts/web1/a.yaml")).toEqual([r(0), r(4), r(1), r(2)])
        expect(recipientsFor(t, "secrets/users/bob/a.yaml")).toEqual([r(4), r(2)])
        expect(recipientsFor(t, "secrets/users/alice/a.yaml")).toEqual([r(0), r(2)])
        expect(recipientsFor(t, "secrets/shared/a.yaml")).toEqual([r(0), r(4), r(1), r(2)])
    })

    it("refuses duplicates, bad names and malformed keys", () => {
        const t = fleet()
        expect(() => addNamedKey(t, { kind: "host", name: "web1", recipient: r(5) })).toThrow(/already has a key named host_web1 with another recipient/)
        expect(() => addNamedKey(t, { kind: "host", name: "web2", recipient: r(0) })).toThrow(/already named user_alice/)
        expect(() => addNamedKey(t, { kind: "host", name: "Web2", recipient: r(5) })).toThrow(ConfigError)
        expect(() => addNamedKey(t, { kind: "host", name: "web*2", recipient: r(5) })).toThrow(/invalid host name/)
        // One character changed breaks the Bech32 checksum; keys are random, so never "change" q to q.
        const typo = r(5).slice(0, -1) + (r(5).endsWith("q") ? "p" : "q")
        expect(() => addNamedKey(t, { kind: "host", name: "web2", recipient: typo })).toThrow(FormatError)
        expect(() => addNamedKey("creation_rules: [", { kind: "host", name: "web2", recipient: r(5) })).toThrow(ConfigError)
    })
})

describe("removeNamedKey", () => {
    it("removes the key, its aliases and its own rule, keeping comments", () => {
        const t = "# header\n" + addNamedKey(fleet(), { kind: "user", name: "bob", recipient: r(4) }).text.replace("creation_rules:\n", "creation_rules:\n  # per directory\n")
        const out = removeNamedKey(t, "web1")
        expect(out.removed.anchor).toBe("host_web1")
        expect(out.text).not.toContain("host_web1")
        expect(out.text).toContain("# header\n")
        expect(out.text).toContain("  # per directory\n")
        expect(parseConfig(out.text, "c").creation_rules?.map((x) => x.path_regex)).toEqual(["^secrets/users/alice/", "^secrets/users/bob/", "^secrets/shared/"])
        expect(recipientsFor(out.text, "secrets/shared/a.yaml")).toEqual([r(0), r(4), r(2)])
        const bob = removeNamedKey(out.text, "user_bob").text
        expect(bob).toBe(removeNamedKey(removeNamedKey(t, "bob").text, "web1").text)
        expect(recipientsFor(bob, "secrets/shared/a.yaml")).toEqual([r(0), r(2)])
    })

    it("drops a layout rule left without keys and refuses to empty another rule", () => {
        let t = addNamedKey("", { kind: "host", name: "h", recipient: r(1) }).text
        t = removeNamedKey(t, "h").text
        expect(parseConfig(t, "c").creation_rules).toEqual([])
        const custom = addNamedKey("", { kind: "user", name: "u", recipient: r(0) }).text + "  - path_regex: ^x/\n    key_groups:\n      - age:\n          - *user_u\n"
        expect(() => removeNamedKey(custom, "u")).toThrow(/would leave creation rule 3 .* with no key/)
    })

    it("refuses unknown and ambiguous names", () => {
        let t = addNamedKey(fleet(), { kind: "user", name: "web1", recipient: r(5) }).text
        expect(() => removeNamedKey(t, "nobody")).toThrow(/no key named "nobody"/)
        expect(() => removeNamedKey(t, "web1")).toThrow('"web1" names more than one key in ".sops.yaml"')
        try {
            removeNamedKey(t, "web1")
        } catch (e) {
            expect((e as ConfigError).hints).toEqual(["say which: user_web1 or host_web1"])
        }
        t = removeNamedKey(t, "user_web1").text
        expect(readNamedKeys(t).map((k) => k.anchor)).toEqual(["user_alice", "host_web1", "recovery"])
    })
})

describe("any sequence of adds and removes", () => {
    it("leaves a config sops can read whose rules match the layout", () => {
        const op = fc.record({ add: fc.boolean(), kind: fc.constantFrom("host" as const, "user" as const), n: fc.integer({ min: 0, max: 3 }) })
        fc.assert(
            fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
                let t = "# top\n"
                const have = new Map<string, string>()
                for (const o of ops) {
                    const name = `${o.kind}_${o.n}`
                    const recipient = r(o.kind === "host" ? o.n : o.n + 4)
                    if (o.add && !have.has(name)) {
                        t = addNamedKey(t, { kind: o.kind, name: String(o.n), recipient }).text
                        have.set(name, recipient)
                    } else if (!o.add && have.has(name)) {
                        t = removeNamedKey(t, name).text
                        have.delete(name)
                    }
                }
                const users = [...have.keys()].filter((k) => k.startsWith("user_")).map((k) => have.get(k))
                for (const [name, recipient] of have) {
                    const [kind, n] = name.split("_")
                    const got = new Set(recipientsFor(t, `secrets/${kind}s/${n}/f.yaml`))
                    expect(got).toEqual(new Set(kind === "host" ? [...users, recipient] : [recipient]))
                }
                if (have.size > 0) expect(new Set(recipientsFor(t, "secrets/shared/f.yaml"))).toEqual(new Set(have.values()))
                expect(t.startsWith("# top\n")).toBe(true)
            }),
            { numRuns: 150 },
        )
    })
})

describe("layout of the existing file", () => {
    it("an edit keeps a 4-space, indented-sequence config in its own style", () => {
        const text = [
            "keys:",
            "    - &user_alice age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            "creation_rules:",
            "    - path_regex: ^secrets/shared/",
            "      key_groups:",
            "          - age:",
            "                - *user_alice",
            "",
        ].join("\n")
        const out = addNamedKey(text, { kind: "host", name: "web1", recipient: "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw" }).text
        expect(out.split("\n").slice(0, 3)).toEqual([
            "keys:",
            "    - &user_alice age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            "    - &host_web1 age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw",
        ])
        expect(out).toContain("    - path_regex: ^secrets/shared/\n      key_groups:\n          - age:\n                - *user_alice\n                - *host_web1\n")
    })
})
