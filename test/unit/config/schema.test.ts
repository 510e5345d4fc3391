import { describe, expect, test } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import { ConfigError } from "../../../src/errors.js"

const A = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"
const B = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"
const C = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr"

describe("real-world configs are accepted", () => {
    test("sops-nix style: top-level keys with anchors, aliases in key_groups, pgp and age mixed", () => {
        // Shape of the sops-nix README example: PGP fingerprints and age keys side by side.
        const text = `keys:
  - &admin_alice 2504791468b153b8a3963cc97ba53d1919c13dfd
  - &admin_bob ${A}
  - &server_azmidi ${B} # host key from ssh-to-age
creation_rules:
  - path_regex: secrets/[^/]+\\.(yaml|json|env|ini)$
    key_groups:
    - pgp:
      - *admin_alice
      age:
      - *admin_bob
      - *server_azmidi
  - path_regex: secrets/azmidi/[^/]+\\.(yaml|json|env|ini)$
    key_groups:
    - age:
      - *admin_bob
`
        const c = parseConfig(text, ".sops.yaml")
        expect(c.keys).toEqual(["2504791468b153b8a3963cc97ba53d1919c13dfd", A, B])
        expect(c.creation_rules).toHaveLength(2)
        expect(c.creation_rules?.[0]?.key_groups).toEqual([{ pgp: ["2504791468b153b8a3963cc97ba53d1919c13dfd"], age: [A, B] }])
        expect(c.creation_rules?.[1]?.key_groups).toEqual([{ age: [A] }])
        expect(c.warnings).toEqual([])
    })

    test("an anchor used by 150 rules resolves (more than the yaml package's default alias limit)", () => {
        const rules = Array.from({ length: 150 }, (_, i) => `  - path_regex: host${i}/\n    age: *admin\n`).join("")
        const c = parseConfig(`keys:\n  - &admin ${A}\ncreation_rules:\n${rules}`, ".sops.yaml")
        expect(c.creation_rules).toHaveLength(150)
        expect(c.creation_rules?.[149]?.age).toEqual([A])
    })

    test("a self-referencing alias bomb is refused, not expanded", () => {
        const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
        for (let i = 0; i < 8; i++) {
            const prev = String.fromCharCode(97 + i)
            const next = String.fromCharCode(98 + i)
            lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`)
        }
        // go-yaml's rule, as sops reads the config with yaml.Unmarshal (input-limits.ts).
        expect(() => parseConfig(lines.join("\n") + "\n", ".sops.yaml")).toThrow(".sops.yaml: excessive aliasing in YAML")
        expect(failure(lines.join("\n") + "\n").hints[0]).toMatch(/^an alias repeats its anchor's whole value/)
    })

    test("the sops README shape: flat age string, key_groups with merge, stores, destination_rules", () => {
        const text = `creation_rules:
  - path_regex: \\.dev\\.yaml$
    age: "${A}, ${B},"
    encrypted_regex: ^(data|stringData)$
  - path_regex: \\.prod\\.yaml$
    shamir_threshold: 2
    key_groups:
      - age: ["${A},${C}"]
        merge:
          - age: [${B}]
      - kms:
          - arn: arn:aws:kms:us-east-1:656532927350:key/920aff2e
            role: arn:aws:iam::927034868273:role/sops-dev
            context: {Environment: prod}
        hc_vault: [https://vault.example.com:8200/v1/sops/keys/firstkey]
    mac_only_encrypted: true
destination_rules:
  - s3_bucket: "sops-secrets"
    path_regex: s3/*
    recreation_rule:
      pgp: F69E4901EDBAD2D1753F8C67A64535C4163FB307
stores:
  yaml:
    indent: 2
  json:
    indent: -1
  json_binary:
    indent: 4
  dotenv: {}
`
        const c = parseConfig(text, "/repo/.sops.yaml")
        expect(c.path).toBe("/repo/.sops.yaml")
        expect(c.creation_rules?.[0]).toEqual({ path_regex: "\\.dev\\.yaml$", age: [A, B], encrypted_regex: "^(data|stringData)$" })
        const prod = c.creation_rules?.[1]
        expect(prod?.shamir_threshold).toBe(2)
        expect(prod?.mac_only_encrypted).toBe(true)
        expect(prod?.key_groups?.[0]).toEqual({ age: [A, C], merge: [{ age: [B] }] })
        expect(prod?.key_groups?.[1]?.hc_vault).toEqual(["https://vault.example.com:8200/v1/sops/keys/firstkey"])
        expect(c.stores).toEqual({ yaml: { indent: 2 }, json: { indent: -1 }, json_binary: { indent: 4 }, dotenv: {} })
        expect(c.destination_rules).toHaveLength(1)
    })

    test("list items may be comma-separated; items are trimmed and empties skipped", () => {
        const c = parseConfig(`creation_rules:\n  - age:\n      - " ${A} , ${B}"\n      - ""\n      - ${C}\n    pgp: "FP1,,FP2 "\n`, "c")
        expect(c.creation_rules?.[0]?.age).toEqual([A, B, C])
        expect(c.creation_rules?.[0]?.pgp).toEqual(["FP1", "FP2"])
    })

    test("no creation_rules key means no rules; an empty file is an empty config", () => {
        expect(parseConfig("stores:\n  yaml:\n    indent: 2\n", "c").creation_rules).toBeUndefined()
        expect(parseConfig("", "c")).toEqual({ path: "c", warnings: [] })
        expect(parseConfig("# only a comment\n", "c")).toEqual({ path: "c", warnings: [] })
        // `creation_rules:` with nothing after it is null, which yaml.v3 leaves unset.
        expect(parseConfig("creation_rules:\n", "c").creation_rules).toBeUndefined()
    })

    test("null fields count as unset, like yaml.v3 zero values", () => {
        const c = parseConfig("creation_rules:\n  - path_regex: a\n    age: ~\n    unencrypted_suffix:\n", "c")
        expect(c.creation_rules?.[0]).toEqual({ path_regex: "a" })
    })

    test("top-level secrets: mapping and unknown top-level keys are kept, without warnings", () => {
        const c = parseConfig("secrets:\n  op:\n    vault: Private\nx-other-tool: 1\ncreation_rules: []\n", "c")
        expect(c.secrets).toEqual({ op: { vault: "Private" } })
        expect(c["x-other-tool"]).toBe(1)
        expect(c.creation_rules).toEqual([])
        expect(c.warnings).toEqual([])
    })

    test("merge keys (<<) are honoured, as yaml.v3 does for structs", () => {
        const c = parseConfig(`base: &base\n  age: ${A}\n  unencrypted_suffix: _clear\ncreation_rules:\n  - <<: *base\n    path_regex: x\n`, "c")
        expect(c.creation_rules?.[0]).toEqual({ age: [A], unencrypted_suffix: "_clear", path_regex: "x" })
    })

    test("unknown keys in rules and key groups are ignored with a warning naming line and field", () => {
        const text = `creation_rules:
  - path_regex: a
    agee: ${A}
    key_groups:
      - age: [${A}]
        merge:
          - age: [${B}]
            pgpp: [x]
  - encrypted_sufix: _x
`
        const c = parseConfig(text, ".sops.yaml")
        expect(c.warnings).toEqual([
            ".sops.yaml:3: creation_rules[0].agee: unknown field, ignored (sops ignores it too)",
            ".sops.yaml:8: creation_rules[0].key_groups[0].merge[0].pgpp: unknown field, ignored (sops ignores it too)",
            ".sops.yaml:9: creation_rules[1].encrypted_sufix: unknown field, ignored (sops ignores it too)",
        ])
    })
})

/** Parse and return the ConfigError's message and hints. */
function failure(text: string): { message: string; hints: readonly string[] } {
    try {
        parseConfig(text, ".sops.yaml")
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        const err = e as ConfigError
        return { message: err.message, hints: err.hints }
    }
    throw new Error("expected a ConfigError")
}

describe("bad configs: ConfigError naming file, line and field", () => {
    test("wrong type for a scalar field", () => {
        const f = failure("creation_rules:\n  - path_regex: a\n\n    shamir_threshold: two\n")
        expect(f.message).toBe(".sops.yaml:4: creation_rules[0].shamir_threshold: expected a whole number of 0 or more, got a string")
        expect(f.hints[0]).toBe("shamir_threshold is a whole number; 0 means the number of key groups")
    })

    test("age as a mapping", () => {
        const f = failure("creation_rules:\n  - path_regex: a\n  - path_regex: b\n    age:\n      key: age1x\n")
        expect(f.message).toBe(".sops.yaml:5: creation_rules[1].age: expected a string or a list of strings, got a mapping")
        expect(f.hints[0]).toContain("comma")
    })

    test("an age recipient list with a number", () => {
        const f = failure(`creation_rules:\n  - age:\n      - ${A}\n      - 12345\n`)
        expect(f.message).toBe(".sops.yaml:4: creation_rules[0].age[1]: expected an age recipient as a string, got a number")
    })

    test("a bare string where key_groups needs a list", () => {
        const f = failure(`creation_rules:\n  - key_groups:\n      - age: ${A}\n`)
        expect(f.message).toBe(".sops.yaml:3: creation_rules[0].key_groups[0].age: expected a list of strings, got a string")
        expect(f.hints[0]).toBe("inside key_groups, age is a YAML list of recipients")
    })

    test("two path rules in one rule", () => {
        const f = failure("creation_rules:\n  - path_regex: a\n  - path_regex: b\n    unencrypted_suffix: _clear\n    encrypted_regex: ^data$\n")
        expect(f.message).toBe(
            ".sops.yaml:5: creation_rules[1].encrypted_regex: cannot be combined with unencrypted_suffix in the same rule " +
                "(one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex, unencrypted_comment_regex, encrypted_comment_regex per rule)",
        )
    })

    test("a path rule and a comment rule in one rule (sops 3.13 counts all six together)", () => {
        const f = failure("creation_rules:\n  - encrypted_suffix: _enc\n    unencrypted_comment_regex: sops:clear\n")
        expect(f.message).toMatch(/^\.sops\.yaml:3: creation_rules\[0\]\.unencrypted_comment_regex: cannot be combined with encrypted_suffix/)
    })

    test("a regex Go's regexp refuses is refused, with a reason and without the pattern", () => {
        expect(failure("creation_rules:\n  - path_regex: '^(?!tmp/)'\n").message).toBe(
            ".sops.yaml:2: creation_rules[0].path_regex: lookahead and lookbehind are not supported by Go regular expressions (RE2)",
        )
        expect(failure("creation_rules:\n  - path_regex: a\n  - path_regex: '(a)\\1'\n").message).toBe(
            ".sops.yaml:3: creation_rules[1].path_regex: backreferences are not supported by Go regular expressions (RE2)",
        )
        expect(failure("creation_rules:\n  - path_regex: '(unclosed'\n").message).toBe(
            ".sops.yaml:2: creation_rules[0].path_regex: not a valid Go regular expression (RE2): missing closing )",
        )
    })

    test("RE2 syntax JS lacks is accepted as Go accepts it: POSIX classes, \\z, (?P<name>), octal escapes", () => {
        const config = parseConfig(
            "creation_rules:\n  - path_regex: '^[[:alpha:]]+\\z'\n  - path_regex: '(?P<env>dev)\\12'\n    encrypted_regex: '[[:digit:]]'\n",
            ".sops.yaml",
        )
        expect(config.creation_rules?.map((r) => r.path_regex)).toEqual(["^[[:alpha:]]+\\z", "(?P<env>dev)\\12"])
    })

    test("a stores field of the wrong type", () => {
        const f = failure("stores:\n  yaml:\n    indent: four\n")
        expect(f.message).toBe(".sops.yaml:3: stores.yaml.indent: expected a whole number, got a string")
        expect(failure("stores:\n  json: 2\n").message).toBe(".sops.yaml:2: stores.json: expected a mapping, got a number")
    })

    test("YAML syntax errors give line and column and never quote the text", () => {
        const f = failure("creation_rules:\n  - path_regex: a\n   age: SECRETLOOKING\n")
        expect(f.message).toMatch(/^\.sops\.yaml:3:\d+: invalid YAML: /)
        expect(f.message).not.toContain("SECRETLOOKING")
        const tab = failure("creation_rules:\n\t- age: x\n")
        expect(tab.message).toMatch(/^\.sops\.yaml:2:\d+: invalid YAML: /)
    })

    test("duplicate keys are an error, as in yaml.v3", () => {
        expect(failure("creation_rules:\n  - age: a\n    age: b\n").message).toBe(
            ".sops.yaml:3:5: invalid YAML: a key appears twice in one mapping",
        )
    })

    test("an alias with no anchor", () => {
        expect(failure("creation_rules:\n  - age: *nobody\n").message).toMatch(/^\.sops\.yaml(:2:\d+: invalid YAML|: YAML aliases)/)
    })

    test("a rule that is not a mapping, and a top level that is not a mapping", () => {
        expect(failure(`creation_rules:\n  - ${A}\n`).message).toBe(".sops.yaml:2: creation_rules[0]: expected a mapping, got a string")
        expect(failure("- a\n- b\n").message).toBe(".sops.yaml:1: the config must be a mapping")
        expect(failure("creation_rules: yes-please\n").message).toBe(".sops.yaml:1: creation_rules: expected a list of rules, got a string")
    })

    test("an error reached through an alias points at the anchor", () => {
        const f = failure("keys:\n  - &bad\n    nested: map\ncreation_rules:\n  - age: [*bad]\n")
        expect(f.message).toBe(".sops.yaml:3: creation_rules[0].age[0]: expected an age recipient as a string, got a mapping")
    })

    test("several problems: the first is reported and the rest counted", () => {
        const f = failure("creation_rules:\n  - shamir_threshold: x\n    mac_only_encrypted: maybe\n")
        expect(f.message).toBe(".sops.yaml:2: creation_rules[0].shamir_threshold: expected a whole number of 0 or more, got a string")
        expect(f.hints).toContain("1 more problem(s) after this one")
    })
})
