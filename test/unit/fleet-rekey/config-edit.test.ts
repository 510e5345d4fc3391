/**
 * The pure parts of revoke and rotate: `.sops.yaml` edits that keep the file's
 * layout, name lookup, the key paths a data key exposes, and dropping one identity
 * from a key file.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { comment, entry, int, list, map, str } from "../../../src/core/tree.js"
import { ConfigError } from "../../../src/errors.js"
import { encryptedPaths, findNamedKey, removeNamedKey, replaceNamedKeyRecipient } from "../../../src/fleet/revoke.js"

const CONFIG = `# keys of the fleet
keys:
    - &host_web1 age1web1
    - &user_alice age1alice # alice
    - &user_bob age1bob
    - &recovery age1rec
creation_rules:
    - path_regex: ^secrets/hosts/web1/
      key_groups:
          - age: [*user_alice, *user_bob, *host_web1, *recovery]
    - path_regex: ^secrets/users/bob/
      key_groups:
          - age:
                - *user_bob # bob only
                - *recovery
    - path_regex: ^legacy/
      age: age1bob
      key_groups:
          - age: [age1bob, *recovery]
secrets:
    rotation:
        max_age: 90d
`

describe("removeNamedKey", () => {
    it("removes the key, its aliases, plain copies and the rule of its own directory, and nothing else", () => {
        expect(removeNamedKey(CONFIG, "user_bob")).toBe(`# keys of the fleet
keys:
    - &host_web1 age1web1
    - &user_alice age1alice # alice
    - &recovery age1rec
creation_rules:
    - path_regex: ^secrets/hosts/web1/
      key_groups:
          - age: [*user_alice, *host_web1, *recovery]
    - path_regex: ^legacy/
      age: age1bob
      key_groups:
          - age: [*recovery]
secrets:
    rotation:
        max_age: 90d
`)
    })

    it("keeps a 2-space, unindented-sequence layout as it is", () => {
        const two = "keys:\n- &user_a age1a\n- &user_b age1b\ncreation_rules:\n- path_regex: x\n  key_groups:\n  - age:\n    - *user_a\n    - *user_b\n"
        expect(removeNamedKey(two, "user_a")).toBe("keys:\n- &user_b age1b\ncreation_rules:\n- path_regex: x\n  key_groups:\n  - age:\n    - *user_b\n")
    })

    it("removing any set of keys leaves valid YAML with no dangling alias (property)", () => {
        const anchors = ["host_web1", "user_alice", "user_bob", "recovery"]
        fc.assert(
            fc.property(fc.subarray(anchors, { minLength: 1 }), (gone) => {
                let text = CONFIG
                for (const a of gone) text = removeNamedKey(text, a)
                const parsed = parse(text) as { keys: string[] }
                expect(parsed.keys).toHaveLength(anchors.length - gone.length)
                for (const a of gone) expect(text).not.toContain(a)
            }),
        )
    })

    it("refuses an anchor that is not there", () => {
        expect(() => removeNamedKey(CONFIG, "user_carol")).toThrow(ConfigError)
    })
})

describe("replaceNamedKeyRecipient", () => {
    it("changes the anchored value and plain copies; aliases follow", () => {
        const out = replaceNamedKeyRecipient(CONFIG, "user_bob", "age1new")
        expect(out).toBe(CONFIG.replace("&user_bob age1bob", "&user_bob age1new").replaceAll("age1bob", "age1new"))
        const parsed = parse(out) as { creation_rules: { key_groups: { age: string[] }[] }[] }
        expect(parsed.creation_rules[1]?.key_groups[0]?.age).toEqual(["age1new", "age1rec"])
    })
})

describe("findNamedKey", () => {
    it("finds by bare name or by anchor", () => {
        expect(findNamedKey(CONFIG, "bob").anchor).toBe("user_bob")
        expect(findNamedKey(CONFIG, "host_web1").recipient).toBe("age1web1")
        expect(findNamedKey(CONFIG, "recovery").kind).toBe("recovery")
    })

    it("an unknown name lists the known ones; a shared bare name asks for the anchor", () => {
        expect(() => findNamedKey(CONFIG, "carol")).toThrow(`no key named "carol" in ".sops.yaml"`)
        try {
            findNamedKey(CONFIG, "carol")
        } catch (e) {
            expect((e as ConfigError).hints).toEqual(["the named keys are host_web1, user_alice, user_bob, recovery"])
        }
        const both = "keys:\n  - &host_x age1a\n  - &user_x age1b\n"
        expect(() => findNamedKey(both, "x")).toThrow(`"x" names more than one key in ".sops.yaml"`)
    })
})

describe("encryptedPaths", () => {
    it("lists the paths of ENC values only, lists by index, per document when there are several", () => {
        const enc = str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")
        const doc1 = map(
            entry("db", map(entry("password", enc), comment(" note"), entry("port", int(5432)), entry("user_unencrypted", str("admin")))),
            entry("list", list(comment(" c"), enc, str("plain"))),
        )
        expect(encryptedPaths([doc1])).toEqual([`["db"]["password"]`, `["list"][0]`])
        expect(encryptedPaths([doc1, map(entry("k", enc))])).toEqual([`document 1: ["db"]["password"]`, `document 1: ["list"][0]`, `document 2: ["k"]`])
        expect(encryptedPaths([])).toEqual([])
    })
})
