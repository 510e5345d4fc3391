/**
 * The reference for src/config/schema.ts: the `.sops.yaml` schema as zod v4
 * validators, exactly as the program used it before issue 14 replaced zod on the
 * hot path with a validator written out by hand. schema-vs-zod.test.ts holds the
 * two to the same output and the same issues, in the same order.
 *
 * The `.sops.yaml` schema (sops-format.md §8), as zod v4 validators.
 *
 * sops decodes the file with yaml.v3 into Go structs, which has three consequences we
 * reproduce: unknown keys are ignored (we keep them and the loader warns about them
 * inside creation rules), `null` means "not set" (the loader drops null-valued keys
 * before validation), and a type mismatch is a hard error. Anything `secrets` adds
 * lives under the top-level `secrets:` key, which sops never reads, so one file
 * serves both tools.
 */
import { z } from "zod"
import { IDENTITY_NOT_RECIPIENT, looksLikeIdentity } from "../../../src/core/identity-text.js"
import { checkGoRegex } from "../../../src/config/match.js"
import { describe } from "../../../src/config/schema.js"

/**
 * A key field of a creation rule (`age`, `pgp`, `kms`, …): one string of
 * comma-separated keys or a list of strings. sops splits the string form on commas,
 * trims, and skips empty items (config.go `parseKeyField`); for age it also splits
 * each list item (`age.MasterKeysFromRecipients`), which we do for every list item.
 */
function keyField(noun: string): z.ZodType<string[]> {
    return z.unknown().transform((v, ctx) => {
        if (identityIn(v, ctx)) return z.NEVER
        if (typeof v === "string") return splitKeys([v])
        if (Array.isArray(v)) {
            const bad = v.findIndex((item) => typeof item !== "string")
            if (bad >= 0) {
                ctx.addIssue({ code: "custom", message: `expected ${noun} as a string, got ${describe(v[bad])}`, path: [bad] })
                return z.NEVER
            }
            return splitKeys(v as string[])
        }
        ctx.addIssue({ code: "custom", message: `expected a string or a list of strings, got ${describe(v)}` })
        return z.NEVER
    })
}

/**
 * A secret key where keys are listed (issue 10 §8): refused without echoing it.
 * Checked for every key field, not just `age`: an identity is never a valid key
 * of any type, and a pasted one is equally exposed in any of them.
 */
function identityIn(v: unknown, ctx: z.RefinementCtx): boolean {
    const items = typeof v === "string" ? [v] : Array.isArray(v) ? v : []
    const at = items.findIndex((item) => typeof item === "string" && looksLikeIdentity(item))
    if (at < 0) return false
    ctx.addIssue({ code: "custom", message: `${IDENTITY_NOT_RECIPIENT}; give its public key (age-keygen -y KEYFILE)`, path: Array.isArray(v) ? [at] : [] })
    return true
}

/** A key list inside `key_groups`: yaml.v3 decodes it into `[]string`, so a bare string is an error. */
function groupKeyList(noun: string): z.ZodType<string[]> {
    return z.unknown().transform((v, ctx) => {
        if (identityIn(v, ctx)) return z.NEVER
        if (!Array.isArray(v)) {
            ctx.addIssue({ code: "custom", message: `expected a list of strings, got ${describe(v)}` })
            return z.NEVER
        }
        const bad = v.findIndex((item) => typeof item !== "string")
        if (bad >= 0) {
            ctx.addIssue({ code: "custom", message: `expected ${noun} as a string, got ${describe(v[bad])}`, path: [bad] })
            return z.NEVER
        }
        return splitKeys(v as string[])
    })
}

function splitKeys(items: readonly string[]): string[] {
    return items.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "")
}

const str = (): z.ZodType<string> =>
    z.unknown().transform((v, ctx) => {
        if (typeof v === "string") return v
        ctx.addIssue({ code: "custom", message: `expected a string, got ${describe(v)}` })
        return z.NEVER
    })

const int = (min: number): z.ZodType<number> =>
    z.unknown().transform((v, ctx) => {
        if (typeof v === "number" && Number.isInteger(v) && v >= min) return v
        const what = typeof v === "number" && Number.isInteger(v) ? `${v}` : describe(v)
        ctx.addIssue({ code: "custom", message: `expected a whole number${min === 0 ? " of 0 or more" : ""}, got ${what}` })
        return z.NEVER
    })

const bool = (): z.ZodType<boolean> =>
    z.unknown().transform((v, ctx) => {
        if (typeof v === "boolean") return v
        ctx.addIssue({ code: "custom", message: `expected true or false, got ${describe(v)}` })
        return z.NEVER
    })

/** zod's error option for a mapping-shaped field, in our wording. */
const mapping = { error: (iss: { input?: unknown }) => `expected a mapping, got ${describe(iss.input)}` }

const objectList = (noun: string) =>
    z.array(z.looseObject({}, mapping), { error: (iss) => `expected a list of ${noun}, got ${describe(iss.input)}` })

/** The six encryption-rule fields (sops-format.md §5), in sops' order. */
export const RULE_FIELDS = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
] as const
export type RuleField = (typeof RULE_FIELDS)[number]

const REGEX_FIELDS = new Set<string>([
    "path_regex",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
])

/** A key group: master keys of several types, plus groups merged into it (recursively). */
export interface KeyGroupConfig {
    age?: string[]
    pgp?: string[]
    kms?: Record<string, unknown>[]
    gcp_kms?: Record<string, unknown>[]
    azure_keyvault?: Record<string, unknown>[]
    hc_vault?: string[]
    hckms?: Record<string, unknown>[]
    plugins?: Record<string, unknown>[]
    merge?: KeyGroupConfig[]
    [unknown: string]: unknown
}

export const keyGroupSchema: z.ZodType<KeyGroupConfig> = z.looseObject({
    age: groupKeyList("an age recipient").optional(),
    pgp: groupKeyList("a PGP fingerprint").optional(),
    kms: objectList("KMS keys").optional(),
    gcp_kms: objectList("GCP KMS keys").optional(),
    azure_keyvault: objectList("Azure Key Vault keys").optional(),
    hc_vault: groupKeyList("a Vault transit URI").optional(),
    hckms: objectList("HuaweiCloud KMS keys").optional(),
    plugins: objectList("plugin keys").optional(),
    get merge(): z.ZodOptional<z.ZodArray<z.ZodType<KeyGroupConfig>>> {
        return z.array(keyGroupSchema, { error: (iss) => `expected a list of key groups, got ${describe(iss.input)}` }).optional()
    },
}, mapping)

/** Keys of a creation rule that sops reads; anything else is ignored (with a warning from the loader). */
export const CREATION_RULE_KEYS = [
    "path_regex",
    "timeout",
    "kms",
    "aws_profile",
    "age",
    "pgp",
    "gcp_kms",
    "hckms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "key_groups",
    "shamir_threshold",
    "plugins",
    ...RULE_FIELDS,
    "mac_only_encrypted",
] as const

/** Keys of a key group that sops reads. */
export const KEY_GROUP_KEYS = ["merge", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault", "age", "pgp", "plugins"] as const

export const creationRuleSchema = z
    .looseObject({
        path_regex: str().optional(),
        timeout: str().optional(),
        age: keyField("an age recipient").optional(),
        pgp: keyField("a PGP fingerprint").optional(),
        kms: keyField("a KMS ARN").optional(),
        gcp_kms: keyField("a GCP KMS resource id").optional(),
        azure_keyvault: keyField("an Azure Key Vault URL").optional(),
        hc_vault_transit_uri: keyField("a Vault transit URI").optional(),
        // yaml.v3 decodes hckms into []string: no comma-separated string form.
        hckms: groupKeyList("a HuaweiCloud KMS key id").optional(),
        aws_profile: str().optional(),
        key_groups: z.array(keyGroupSchema, { error: (iss) => `expected a list of key groups, got ${describe(iss.input)}` }).optional(),
        shamir_threshold: int(0).optional(),
        plugins: objectList("plugin keys").optional(),
        unencrypted_suffix: str().optional(),
        encrypted_suffix: str().optional(),
        unencrypted_regex: str().optional(),
        encrypted_regex: str().optional(),
        unencrypted_comment_regex: str().optional(),
        encrypted_comment_regex: str().optional(),
        mac_only_encrypted: bool().optional(),
    }, mapping)
    .superRefine((rule, ctx) => {
        // sops 3.13 config.go `configFromRule` counts all six fields together (so does
        // the metadata loader, and core/policy.ts): a suffix and a comment regex in one
        // rule is an error there, so it is here too, or the file would not work with sops.
        const set = RULE_FIELDS.filter((f) => (rule[f] ?? "") !== "")
        const [first, second] = set
        if (first !== undefined && second !== undefined) {
            ctx.addIssue({
                code: "custom",
                message: `cannot be combined with ${first} in the same rule (one of ${RULE_FIELDS.join(", ")} per rule)`,
                path: [second],
                params: { hint: "keep one of them; sops refuses a rule with two" },
            })
        }
        for (const field of REGEX_FIELDS) {
            const pattern = rule[field as keyof typeof rule]
            if (typeof pattern !== "string" || pattern === "") continue
            const problem = checkGoRegex(pattern)
            if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: [field] })
        }
    })

/** Per-store options (`stores:`); `dotenv` and `ini` have none. */
export const storesSchema = z.looseObject({
    yaml: z.looseObject({ indent: int(Number.MIN_SAFE_INTEGER).optional() }, mapping).optional(),
    json: z.looseObject({ indent: int(Number.MIN_SAFE_INTEGER).optional() }, mapping).optional(),
    json_binary: z.looseObject({ indent: int(Number.MIN_SAFE_INTEGER).optional() }, mapping).optional(),
    dotenv: z.unknown().optional(),
    ini: z.unknown().optional(),
}, mapping)

/**
 * The whole file. `creation_rules` absent means "no rules" (sops treats such a config
 * as absent). `keys:` is what sops-nix users write to hold YAML anchors (`- &host_web1
 * age1…`) that creation rules reference by alias; aliases are already resolved when
 * this schema sees the data. `secrets:` is reserved for this tool's own settings.
 */
const ruleList = { error: (iss: { input?: unknown }) => `expected a list of rules, got ${describe(iss.input)}` }

export const configSchema = z.looseObject({
    creation_rules: z.array(creationRuleSchema, ruleList).optional(),
    destination_rules: z.array(z.looseObject({}, mapping), ruleList).optional(),
    stores: storesSchema.optional(),
    keys: z.unknown().optional(),
    secrets: z.record(z.string(), z.unknown(), { error: (iss) => `expected a mapping, got ${describe(iss.input)}` }).optional(),
})

export type Rule = z.output<typeof creationRuleSchema>
export type StoresConfig = z.output<typeof storesSchema>
export type ConfigFile = z.output<typeof configSchema>
