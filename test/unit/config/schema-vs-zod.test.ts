/**
 * The hand-written `.sops.yaml` validator (src/config/schema.ts) against the zod
 * schema it replaced (zod-reference.ts), on random configs: the same verdict; for a
 * valid config the same output, key order included (unknown-field warnings and
 * rule order read it); for an invalid one the same issues, in the same order, with
 * the same paths, messages and hints (the first is reported, the rest counted).
 *
 * Also a type check: the zod schema's output types are assignable to the
 * hand-written ones, so the program reads the fields it used to.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { validateConfig, type ConfigFile, type ConfigIssue, type Rule, type StoresConfig } from "../../../src/config/schema.js"
import * as ref from "./zod-reference.js"

type Same<A, B> = A extends B ? true : false
const typesAgree: [Same<ref.ConfigFile, ConfigFile>, Same<ref.Rule, Rule>, Same<ref.StoresConfig, StoresConfig>] = [true, true, true]

/** zod's verdict in the validator's terms. */
function viaZod(data: unknown): { ok: true; config: unknown } | { ok: false; issues: ConfigIssue[] } {
    const r = ref.configSchema.safeParse(data)
    if (r.success) return { ok: true, config: r.data }
    return {
        ok: false,
        issues: r.error.issues.map((i) => {
            const hint = "params" in i ? (i.params as { hint?: string } | undefined)?.hint : undefined
            return hint === undefined ? { path: i.path as (string | number)[], message: i.message } : { path: i.path as (string | number)[], message: i.message, hint }
        }),
    }
}

/** Key order matters: the JSON text compares it, toStrictEqual the rest (undefined values, arrays). */
function expectSame(data: unknown): void {
    const ours = validateConfig(data)
    const theirs = viaZod(data)
    expect(ours.ok).toBe(theirs.ok)
    if (ours.ok && theirs.ok) {
        expect(JSON.stringify(ours.config)).toBe(JSON.stringify(theirs.config))
        expect(ours.config).toStrictEqual(theirs.config)
    } else if (!ours.ok && !theirs.ok) {
        expect(ours.issues).toStrictEqual(theirs.issues)
    }
}

const RULE_KEYS = [...ref.CREATION_RULE_KEYS, "key_groups", "merge", "unknown_field"]
const GROUP_KEYS = [...ref.KEY_GROUP_KEYS, "typo"]
const TOP_KEYS = ["creation_rules", "destination_rules", "stores", "keys", "secrets", "other"]
const STORE_KEYS = ["yaml", "json", "json_binary", "dotenv", "ini", "indent", "toml"]

/** Strings that mean something to some field: recipients, lists, identities, regexes Go takes or refuses. */
const text = fc.constantFrom(
    "",
    "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw",
    "a, b,,c ",
    " , ",
    "AGE-SECRET-KEY-1QQQQ",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "^secrets/",
    "\\.yaml$",
    "(",
    "a{2,1}",
    "(?P<n>x)",
    "[[:alpha:]]",
    "\\C",
    "_unencrypted",
    "x",
)
const scalar = fc.oneof(text, fc.integer({ min: -3, max: 3 }), fc.constantFrom(1.5, -0.5, Number.NaN, Infinity), fc.boolean())

/** Any YAML-shaped value, its mapping keys drawn from `keys`. */
const value = (keys: readonly string[]) =>
    fc.letrec<{ node: unknown }>((tie) => ({
        node: fc.oneof(
            { depthSize: "small", maxDepth: 3 },
            scalar,
            fc.array(tie("node"), { maxLength: 3 }),
            fc.dictionary(fc.constantFrom(...keys), tie("node"), { maxKeys: 3 }),
        ),
    })).node

/** Mostly well-formed values per field, sometimes anything: valid configs are common, invalid ones too. */
const keyList = fc.oneof(text, fc.array(text, { maxLength: 3 }), value(GROUP_KEYS))
const group: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ g: Record<string, unknown> }>((tie) => ({
    g: fc.record(
        {
            age: fc.oneof(fc.array(text, { maxLength: 3 }), keyList),
            pgp: fc.array(text, { maxLength: 2 }),
            kms: fc.oneof(fc.array(fc.dictionary(fc.constantFrom("arn", "role"), text, { maxKeys: 2 }), { maxLength: 2 }), value(GROUP_KEYS)),
            hc_vault: keyList,
            plugins: value(GROUP_KEYS),
            merge: fc.oneof({ depthSize: "small", maxDepth: 2 }, fc.array(tie("g"), { maxLength: 2 }), scalar),
            typo: scalar,
        },
        { requiredKeys: [] },
    ),
})).g
const rule = fc.record(
    {
        path_regex: fc.oneof(text, scalar),
        age: keyList,
        pgp: keyList,
        kms: keyList,
        hckms: keyList,
        key_groups: fc.oneof(fc.array(group, { maxLength: 2 }), value(GROUP_KEYS)),
        shamir_threshold: scalar,
        unencrypted_suffix: fc.oneof(text, scalar),
        encrypted_regex: fc.oneof(text, scalar),
        unencrypted_comment_regex: text,
        mac_only_encrypted: scalar,
        timeout: scalar,
        unknown_field: value(RULE_KEYS),
    },
    { requiredKeys: [] },
)
const config = fc.record(
    {
        other: scalar,
        creation_rules: fc.oneof(fc.array(fc.oneof(rule, value(RULE_KEYS)), { maxLength: 3 }), value(RULE_KEYS)),
        destination_rules: value(RULE_KEYS),
        stores: fc.oneof(fc.dictionary(fc.constantFrom(...STORE_KEYS), fc.oneof(fc.record({ indent: scalar }, { requiredKeys: [] }), value(STORE_KEYS)), { maxKeys: 3 }), scalar),
        keys: value(TOP_KEYS),
        secrets: value(TOP_KEYS),
    },
    { requiredKeys: [] },
)

describe("validateConfig agrees with the zod schema it replaced", () => {
    it("on random configs, mostly well-formed (property)", () => {
        expect(typesAgree).toEqual([true, true, true])
        fc.assert(fc.property(config, (data) => expectSame(data)), { numRuns: 3000 })
    })

    it("on random YAML-shaped values of any shape (property)", () => {
        fc.assert(fc.property(fc.dictionary(fc.constantFrom(...TOP_KEYS), value([...TOP_KEYS, ...RULE_KEYS]), { maxKeys: 4 }), (data) => expectSame(data)), { numRuns: 2000 })
    })

    it("on the cases the messages tests pin: several problems, cross-field checks, order of output keys", () => {
        expectSame({ zz: 1, creation_rules: [{ foo: 1, age: "a,b", path_regex: "x" }], keys: 3 })
        expectSame({ creation_rules: [{ age: 1, pgp: 2, unencrypted_suffix: "a", encrypted_suffix: "b" }] })
        expectSame({ creation_rules: [{ unencrypted_suffix: "a", encrypted_suffix: "b", encrypted_regex: "(" }] })
        expectSame({ creation_rules: [{ unencrypted_suffix: 3, encrypted_suffix: "b", encrypted_regex: "(" }] })
        expectSame({ creation_rules: [1, { age: 2 }, "x"], stores: 5, secrets: [] })
        expectSame({ creation_rules: [{ key_groups: [{ age: "x", merge: [{ age: [1] }, 3] }] }] })
        expectSame({ secrets: { a: 1 }, creation_rules: [{ shamir_threshold: -1, mac_only_encrypted: "x", timeout: 1 }] })
        expectSame({ creation_rules: [{ age: ["a", 2, "AGE-SECRET-KEY-1X"] }] })
        expectSame({ stores: { yaml: { indent: 2.5 }, json: 3, dotenv: 1 } })
        expectSame({ secrets: new Date(0), stores: { yaml: new Date(0) } })
        expectSame(JSON.parse('{"__proto__": {"x": 1}, "secrets": {"__proto__": 1, "a": 2}, "creation_rules": [{"__proto__": 1, "age": "a"}]}'))
    })
})
