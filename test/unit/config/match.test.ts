import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import { checkGoRegex, matchRule, pathForRules, planForRule } from "../../../src/config/match.js"
import type { Config, Rule } from "../../../src/config/schema.js"
import { ConfigError } from "../../../src/errors.js"

const A = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"
const B = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"
const C = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr"
const D = "age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep"

const config = parseConfig(
    `creation_rules:
  - path_regex: ^secrets/prod/
    age: ${A}
  - path_regex: \\.dev\\.yaml$
    age: ${B}
  - path_regex: secrets/
    age: ${C}
`,
    "/repo/.sops.yaml",
)

/** The age recipients of the rule matched for `file`. */
function ageFor(c: Config, file: string, dir = "/repo"): string[] | undefined {
    return matchRule(c, dir, file)?.age
}

describe("matchRule", () => {
    test("first match wins, in file order", () => {
        // Matches rules 0 and 2 (and rule 1): rule 0 is first.
        expect(ageFor(config, "/repo/secrets/prod/db.dev.yaml")).toEqual([A])
        expect(ageFor(config, "/repo/secrets/app.dev.yaml")).toEqual([B])
        expect(ageFor(config, "/repo/secrets/app.yaml")).toEqual([C])
    })

    test("path_regex sees the path relative to the config's directory", () => {
        // `^secrets/prod/` is anchored: it matches only because `/repo/` is stripped.
        expect(pathForRules("/repo", "/repo/secrets/prod/x.yaml")).toBe("secrets/prod/x.yaml")
        expect(ageFor(config, "/repo/secrets/prod/x.yaml")).toEqual([A])
        // Same file, config higher up: the relative path changes and so does the rule.
        expect(ageFor(config, "/repo/secrets/prod/x.yaml", "/")).toEqual([C])
    })

    test("a file outside the config's directory is matched by its absolute path", () => {
        expect(pathForRules("/repo", "/elsewhere/secrets/prod/x.yaml")).toBe("/elsewhere/secrets/prod/x.yaml")
        // Unanchored `secrets/` still matches inside the absolute path; `^secrets/prod/` does not.
        expect(ageFor(config, "/elsewhere/secrets/prod/x.yaml")).toEqual([C])
        // A sibling directory sharing the prefix is outside too (`/repo2` is not below `/repo`).
        expect(pathForRules("/repo", "/repo2/secrets/prod/x.yaml")).toBe("/repo2/secrets/prod/x.yaml")
        // A config in `/`: sops strips "//", which never occurs, so paths stay absolute.
        expect(pathForRules("/", "/secrets/prod/x.yaml")).toBe("/secrets/prod/x.yaml")
    })

    test("Windows paths are stripped at a backslash, and the regex sees backslashes", () => {
        expect(pathForRules("C:\\repo", "C:\\repo\\secrets\\a.yaml")).toBe("secrets\\a.yaml")
    })

    test("a missing or empty path_regex matches everything", () => {
        const c = parseConfig(`creation_rules:\n  - path_regex: nomatch\n    age: ${A}\n  - path_regex: ""\n    age: ${B}\n  - age: ${C}\n`, "c")
        expect(ageFor(c, "/repo/anything.json")).toEqual([B])
        const d = parseConfig(`creation_rules:\n  - age: ${C}\n`, "c")
        expect(ageFor(d, "/anywhere/x")).toEqual([C])
    })

    test("no creation_rules: undefined, not an error", () => {
        expect(matchRule(parseConfig("stores: {}\n", "c"), "/repo", "/repo/x.yaml")).toBeUndefined()
    })

    test("rules present but none matches: ConfigError listing the regexes", () => {
        let err: unknown
        try {
            matchRule(config, "/repo", "/repo/other/x.yaml")
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(ConfigError)
        const e = err as ConfigError
        expect(e.message).toBe('no creation rule in /repo/.sops.yaml matches "other/x.yaml"')
        expect(e.hints).toEqual([
            'the path_regex values, tried in order, are "^secrets/prod/", "\\\\.dev\\\\.yaml$", "secrets/"',
            "path_regex sees the path relative to the directory of the config file",
        ])
        // An empty rule list is "rules present" too, as in sops.
        expect(() => matchRule(parseConfig("creation_rules: []\n", "c"), "/r", "/r/x")).toThrow(ConfigError)
    })

    test("with recipients on the command line a non-matching config is not an error (unlike sops #1790)", () => {
        expect(matchRule(config, "/repo", "/repo/other/x.yaml", { keysOnCommandLine: true })).toBeUndefined()
        // A matching rule is still returned: its rule fields and threshold still apply.
        expect(matchRule(config, "/repo", "/repo/secrets/a.yaml", { keysOnCommandLine: true })?.age).toEqual([C])
    })

    test("a JS-incompatible path_regex in a config built in code is a ConfigError naming the rule", () => {
        const c: Config = { path: "x.yaml", warnings: [], creation_rules: [{ path_regex: "nomatch" }, { path_regex: "(?<=a)b" }] }
        expect(() => matchRule(c, "/r", "/r/ab")).toThrow("x.yaml: creation_rules[1].path_regex: lookahead and lookbehind are not supported")
    })

    test("Go flags and escapes: (?i), \\z, \\-", () => {
        const c = parseConfig(`creation_rules:\n  - path_regex: '(?i)\\.ENV\\z'\n    age: ${A}\n  - path_regex: 'a\\-b'\n    age: ${B}\n`, "c")
        expect(ageFor(c, "/repo/prod.env")).toEqual([A])
        expect(ageFor(c, "/repo/a-b.yaml")).toEqual([B])
        expect(() => ageFor(c, "/repo/prod.env.bak")).toThrow(ConfigError)
    })

    test("checkGoRegex accepts what RE2 accepts among common patterns", () => {
        // `[]a]` is a class holding `]` and `a` in Go, and `\12` an octal escape (newline).
        for (const p of ["^secrets/.*\\.yaml$", "(prod|staging)/[^/]+\\.json$", "(?P<env>dev)/", "[]a]", "^x{2,3}$", "\\12"]) {
            expect(checkGoRegex(p)).toBeUndefined()
        }
        expect(checkGoRegex("(a)\\1")).toBe("backreferences are not supported by Go regular expressions (RE2)")
        expect(checkGoRegex("a{2")).toBeUndefined()
        expect(checkGoRegex("x**")).toBe("not a valid Go regular expression (RE2): invalid nested repetition operator")
    })
})

describe("planForRule", () => {
    const rule = (text: string): Rule => {
        const r = parseConfig(text, "c").creation_rules?.[0]
        if (r === undefined) throw new Error("no rule")
        return r
    }

    test("flat rule: one group from age, comma-separated and deduplicated", () => {
        expect(planForRule(rule(`creation_rules:\n  - age: "${A},${B}, ${A}"\n    encrypted_regex: ^data$\n`))).toEqual({
            groups: [[A, B]],
            shamirThreshold: 0,
            rule: { encryptedRegex: "^data$" },
            macOnlyEncrypted: false,
            unsupported: [],
        })
    })

    test("key_groups: merge flattened recursively, merged keys first, duplicates removed", () => {
        const text = `creation_rules:
  - age: ${D}
    pgp: FPIGNORED
    shamir_threshold: 2
    key_groups:
      - age: [${A}, ${B}]
        merge:
          - age: [${C}, ${A}]
            merge:
              - age: [${D}]
          - age: ["${B},${C}"]
      - age: [${D}]
        pgp: [FP1]
`
        const plan = planForRule(rule(text))
        // sops extractMasterKeys: merge groups (recursively) first, then the group's own keys, deduplicated.
        expect(plan.groups).toEqual([[D, C, A, B], [D]])
        expect(plan.shamirThreshold).toBe(2)
        // The single-group fields are ignored when key_groups is set, so only the group's pgp counts.
        expect(plan.unsupported).toEqual(["pgp"])
    })

    test("foreign key types are reported, not dropped silently", () => {
        const r = rule(
            `creation_rules:\n  - kms: arn:aws:kms:us-east-1:1:key/x\n    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n    hc_vault_transit_uri: https://v:8200/v1/transit/keys/k\n`,
        )
        const plan = planForRule(r)
        expect(plan.groups).toEqual([[]])
        expect(plan.unsupported).toEqual(["kms", "gcp_kms", "hc_vault_transit_uri"])
        // Recipients on the command line replace the config's keys, foreign ones included.
        expect(planForRule(r, { recipients: [A] })).toMatchObject({ groups: [[A]], unsupported: [] })
    })

    test("recipients from --age / SOPS_AGE_RECIPIENTS replace every config key, as one group", () => {
        const r = rule(`creation_rules:\n  - key_groups:\n      - age: [${A}]\n      - age: [${B}]\n    shamir_threshold: 2\n`)
        const plan = planForRule(r, { recipients: [` ${C}`, D, ""] })
        expect(plan.groups).toEqual([[C, D]])
        // The threshold is not a key: it still comes from the rule unless overridden.
        expect(plan.shamirThreshold).toBe(2)
        expect(planForRule(r, { recipients: [C], shamirThreshold: 1 }).shamirThreshold).toBe(1)
        expect(planForRule(r, { shamirThreshold: 0 }).shamirThreshold).toBe(2)
    })

    test("rule flags override the config's rule field by field", () => {
        const r = rule(`creation_rules:\n  - age: ${A}\n    unencrypted_suffix: _clear\n    mac_only_encrypted: true\n`)
        expect(planForRule(r).rule).toEqual({ unencryptedSuffix: "_clear" })
        expect(planForRule(r, { rule: { unencryptedSuffix: "_plain" } }).rule).toEqual({ unencryptedSuffix: "_plain" })
        expect(planForRule(r).macOnlyEncrypted).toBe(true)
        // A different field from the command line on top of the config's field: two rules, as in sops.
        expect(() => planForRule(r, { rule: { encryptedRegex: "^x$" } })).toThrow(
            /cannot use more than one of .* \(got unencrypted_suffix and encrypted_regex\)$/,
        )
        const plain = rule(`creation_rules:\n  - age: ${A}\n`)
        expect(planForRule(plain, { macOnlyEncrypted: true, rule: { encryptedSuffix: "_enc" } })).toMatchObject({
            macOnlyEncrypted: true,
            rule: { encryptedSuffix: "_enc" },
        })
    })

    test("no rule: recipients from the command line, else a ConfigError with a hint", () => {
        expect(planForRule(undefined, { recipients: [A], rule: { encryptedRegex: "^d" }, shamirThreshold: 0 })).toEqual({
            groups: [[A]],
            shamirThreshold: 0,
            rule: { encryptedRegex: "^d" },
            macOnlyEncrypted: false,
            unsupported: [],
        })
        expect(() => planForRule(undefined)).toThrow(ConfigError)
        expect(() => planForRule(undefined)).toThrow(/^no recipients to encrypt to$/)
        expect(() => planForRule(undefined, { recipients: [] })).toThrow(ConfigError)
    })

    test("property: merge flattening is order-preserving dedup of merged-then-own keys", () => {
        const recipient = fc.constantFrom(A, B, C, D)
        const leaf = fc.array(recipient, { maxLength: 4 })
        fc.assert(
            fc.property(fc.array(leaf, { maxLength: 3 }), leaf, (merges, own) => {
                const groupYaml =
                    `creation_rules:\n  - key_groups:\n      - age: [${own.join(", ")}]\n` +
                    (merges.length > 0 ? `        merge:\n${merges.map((m) => `          - age: [${m.join(", ")}]\n`).join("")}` : "")
                const plan = planForRule(rule(groupYaml))
                const expected = [...new Set([...merges.flat(), ...own])]
                expect(plan.groups).toEqual([expected])
            }),
        )
    })
})
