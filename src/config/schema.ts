/**
 * The `.sops.yaml` schema (sops-format.md §8): its types, and a validator written
 * out by hand.
 *
 * sops decodes the file with yaml.v3 into Go structs, which has three consequences we
 * reproduce: unknown keys are ignored (we keep them and the loader warns about them
 * inside creation rules), `null` means "not set" (the loader drops null-valued keys
 * before validation), and a type mismatch is a hard error. Anything `secrets` adds
 * lives under the top-level `secrets:` key, which sops never reads, so one file
 * serves both tools.
 *
 * Why not zod, which this used to be: every `encrypt`, `edit`, `updatekeys` and
 * `rotate` validates the config, and zod's set-up and first parse cost about a
 * tenth of such a command (issue 14). The validator keeps zod's behaviour, which
 * the messages depend on: issues in the schema's field order, every problem
 * collected (the first is reported, the rest counted), a rule's cross-field checks
 * skipped while its fields have problems, known fields first in the output, then
 * unknown ones in file order. test/unit/config/zod-reference.ts keeps the zod
 * schema, and a property test holds the two to the same results.
 */
import { IDENTITY_NOT_RECIPIENT, looksLikeIdentity } from "../core/identity-text.js"
import { checkGoRegex } from "./match.js"

/** A short type name for messages; never the value itself. */
export function describe(v: unknown): string {
    if (v === null || v === undefined) return "nothing"
    if (Array.isArray(v)) return "a list"
    if (typeof v === "object") return "a mapping"
    if (typeof v === "number") return Number.isInteger(v) ? "a number" : "a decimal number"
    if (typeof v === "boolean") return "a boolean"
    return `a ${typeof v}`
}

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

const REGEX_FIELDS = ["path_regex", "unencrypted_regex", "encrypted_regex", "unencrypted_comment_regex", "encrypted_comment_regex"] as const

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

/** One creation rule, as validated: key fields split into lists. */
export interface Rule {
    path_regex?: string
    timeout?: string
    age?: string[]
    pgp?: string[]
    kms?: string[]
    gcp_kms?: string[]
    azure_keyvault?: string[]
    hc_vault_transit_uri?: string[]
    hckms?: string[]
    aws_profile?: string
    key_groups?: KeyGroupConfig[]
    shamir_threshold?: number
    plugins?: Record<string, unknown>[]
    unencrypted_suffix?: string
    encrypted_suffix?: string
    unencrypted_regex?: string
    encrypted_regex?: string
    unencrypted_comment_regex?: string
    encrypted_comment_regex?: string
    mac_only_encrypted?: boolean
    [unknown: string]: unknown
}

/** Per-store options (`stores:`); `dotenv` and `ini` have none. */
export interface StoresConfig {
    yaml?: { indent?: number; [unknown: string]: unknown }
    json?: { indent?: number; [unknown: string]: unknown }
    json_binary?: { indent?: number; [unknown: string]: unknown }
    dotenv?: unknown
    ini?: unknown
    [unknown: string]: unknown
}

/** The whole file, as validated. */
export interface ConfigFile {
    creation_rules?: Rule[]
    destination_rules?: Record<string, unknown>[]
    stores?: StoresConfig
    keys?: unknown
    secrets?: Record<string, unknown>
    [unknown: string]: unknown
}

/** A parsed config: the file's content plus where it came from and what was ignored. */
export interface Config extends ConfigFile {
    /** The config file's path as the caller named it (used in messages). */
    readonly path: string
    /** Things sops would silently ignore (unknown keys in rules), one message each. */
    readonly warnings: readonly string[]
}

/** One problem: where (keys and list indices), what, and a hint of its own when the field's usual one does not fit. */
export interface ConfigIssue {
    readonly path: readonly (string | number)[]
    readonly message: string
    readonly hint?: string
}

type Path = readonly (string | number)[]
/** Validate one present value at `at`, adding problems to `issues`; returns the output value. */
type Field = (v: unknown, at: Path, issues: ConfigIssue[]) => unknown

/**
 * Validate a config's data (YAML already turned into plain values, nulls dropped).
 * Either the validated config or every problem, in the order they are reported.
 */
export function validateConfig(data: unknown): { ok: true; config: ConfigFile } | { ok: false; issues: ConfigIssue[] } {
    const issues: ConfigIssue[] = []
    const config = configFields(data, [], issues) as ConfigFile
    return issues.length === 0 ? { ok: true, config } : { ok: false, issues }
}

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

// ---------------------------------------------------------------- values

const str: Field = (v, at, issues) => (typeof v === "string" ? v : fail(issues, at, `expected a string, got ${describe(v)}`))

const int = (min: number): Field => (v, at, issues) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= min) return v
    const what = typeof v === "number" && Number.isInteger(v) ? `${v}` : describe(v)
    return fail(issues, at, `expected a whole number${min === 0 ? " of 0 or more" : ""}, got ${what}`)
}

const bool: Field = (v, at, issues) => (typeof v === "boolean" ? v : fail(issues, at, `expected true or false, got ${describe(v)}`))

const anything: Field = (v) => v

/**
 * A key field of a creation rule (`age`, `pgp`, `kms`, …): one string of
 * comma-separated keys or a list of strings. sops splits the string form on commas,
 * trims, and skips empty items (config.go `parseKeyField`); for age it also splits
 * each list item (`age.MasterKeysFromRecipients`), which we do for every list item.
 */
const keyField = (noun: string): Field => (v, at, issues) => {
    if (identityIn(v, at, issues)) return undefined
    if (typeof v === "string") return splitKeys([v])
    if (Array.isArray(v)) return stringItems(v, noun, at, issues)
    return fail(issues, at, `expected a string or a list of strings, got ${describe(v)}`)
}

/** A key list inside `key_groups`: yaml.v3 decodes it into `[]string`, so a bare string is an error. */
const groupKeyList = (noun: string): Field => (v, at, issues) => {
    if (identityIn(v, at, issues)) return undefined
    if (!Array.isArray(v)) return fail(issues, at, `expected a list of strings, got ${describe(v)}`)
    return stringItems(v, noun, at, issues)
}

function stringItems(v: readonly unknown[], noun: string, at: Path, issues: ConfigIssue[]): string[] | undefined {
    const bad = v.findIndex((item) => typeof item !== "string")
    if (bad >= 0) return fail(issues, [...at, bad], `expected ${noun} as a string, got ${describe(v[bad])}`)
    return splitKeys(v as string[])
}

/**
 * A secret key where keys are listed (issue 10 §8): refused without echoing it.
 * Checked for every key field, not just `age`: an identity is never a valid key
 * of any type, and a pasted one is equally exposed in any of them.
 */
function identityIn(v: unknown, at: Path, issues: ConfigIssue[]): boolean {
    const items = typeof v === "string" ? [v] : Array.isArray(v) ? v : []
    const i = items.findIndex((item) => typeof item === "string" && looksLikeIdentity(item))
    if (i < 0) return false
    fail(issues, Array.isArray(v) ? [...at, i] : at, `${IDENTITY_NOT_RECIPIENT}; give its public key (age-keygen -y KEYFILE)`)
    return true
}

function splitKeys(items: readonly string[]): string[] {
    return items.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "")
}

function fail(issues: ConfigIssue[], path: Path, message: string, hint?: string): undefined {
    issues.push(hint === undefined ? { path, message } : { path, message, hint })
    return undefined
}

// ---------------------------------------------------------------- mappings and lists

/** A mapping, not a list: what yaml.v3 decodes into a struct (zod's isObject). */
function isMapping(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}

/**
 * A mapping with known fields, unknown ones kept: each known field present is
 * validated in `shape` order (so problems come in that order), then the unknown
 * fields are copied in the file's order. `__proto__` is never copied: assigning it
 * would replace the result's prototype.
 */
function mapping(shape: Readonly<Record<string, Field>>): Field {
    const known = new Set(Object.keys(shape))
    return (v, at, issues) => {
        if (!isMapping(v)) return fail(issues, at, `expected a mapping, got ${describe(v)}`)
        const out: Record<string, unknown> = {}
        for (const [key, field] of Object.entries(shape)) {
            if (key in v) out[key] = field(v[key], [...at, key], issues)
        }
        for (const key in v) if (!known.has(key) && key !== "__proto__") out[key] = v[key]
        return out
    }
}

/** A list whose every item is validated (all of them, so every problem is counted). */
const list = (what: string, item: Field): Field => (v, at, issues) => {
    if (!Array.isArray(v)) return fail(issues, at, `expected a list of ${what}, got ${describe(v)}`)
    return v.map((x, i) => item(x, [...at, i], issues))
}

/** `secrets:`, this tool's own settings: a plain mapping of anything, checked where each setting is read. */
const record: Field = (v, at, issues) => {
    if (!isPlainMapping(v)) return fail(issues, at, `expected a mapping, got ${describe(v)}`)
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(v)) if (key !== "__proto__") out[key] = v[key]
    return out
}

/** zod's isPlainObject: a mapping whose prototype is Object's (or none). */
function isPlainMapping(v: unknown): v is Record<string, unknown> {
    if (!isMapping(v)) return false
    const ctor: unknown = v.constructor
    if (ctor === undefined || typeof ctor !== "function") return true
    const proto: unknown = ctor.prototype
    return isMapping(proto) && Object.prototype.hasOwnProperty.call(proto, "isPrototypeOf")
}

const objectList = (noun: string): Field => list(noun, mapping({}))

// ---------------------------------------------------------------- the file

const keyGroup: Field = mapping({
    age: groupKeyList("an age recipient"),
    pgp: groupKeyList("a PGP fingerprint"),
    kms: objectList("KMS keys"),
    gcp_kms: objectList("GCP KMS keys"),
    azure_keyvault: objectList("Azure Key Vault keys"),
    hc_vault: groupKeyList("a Vault transit URI"),
    hckms: objectList("HuaweiCloud KMS keys"),
    plugins: objectList("plugin keys"),
    merge: (v, at, issues) => list("key groups", keyGroup)(v, at, issues),
})

const ruleFields: Field = mapping({
    path_regex: str,
    timeout: str,
    age: keyField("an age recipient"),
    pgp: keyField("a PGP fingerprint"),
    kms: keyField("a KMS ARN"),
    gcp_kms: keyField("a GCP KMS resource id"),
    azure_keyvault: keyField("an Azure Key Vault URL"),
    hc_vault_transit_uri: keyField("a Vault transit URI"),
    // yaml.v3 decodes hckms into []string: no comma-separated string form.
    hckms: groupKeyList("a HuaweiCloud KMS key id"),
    aws_profile: str,
    key_groups: list("key groups", keyGroup),
    shamir_threshold: int(0),
    plugins: objectList("plugin keys"),
    unencrypted_suffix: str,
    encrypted_suffix: str,
    unencrypted_regex: str,
    encrypted_regex: str,
    unencrypted_comment_regex: str,
    encrypted_comment_regex: str,
    mac_only_encrypted: bool,
})

/** A creation rule: its fields, then, when they are all well-formed, the checks across them. */
const creationRule: Field = (v, at, issues) => {
    const before = issues.length
    const rule = ruleFields(v, at, issues) as Rule | undefined
    if (rule === undefined || issues.length > before) return rule
    // sops 3.13 config.go `configFromRule` counts all six fields together (so does
    // the metadata loader, and core/policy.ts): a suffix and a comment regex in one
    // rule is an error there, so it is here too, or the file would not work with sops.
    const [first, second] = RULE_FIELDS.filter((f) => (rule[f] ?? "") !== "")
    if (first !== undefined && second !== undefined) {
        fail(
            issues,
            [...at, second],
            `cannot be combined with ${first} in the same rule (one of ${RULE_FIELDS.join(", ")} per rule)`,
            "keep one of them; sops refuses a rule with two",
        )
    }
    for (const field of REGEX_FIELDS) {
        const pattern = rule[field]
        if (typeof pattern !== "string" || pattern === "") continue
        const problem = checkGoRegex(pattern)
        if (problem !== undefined) fail(issues, [...at, field], problem)
    }
    return rule
}

const indentOnly = mapping({ indent: int(Number.MIN_SAFE_INTEGER) })

/**
 * The whole file. `creation_rules` absent means "no rules" (sops treats such a config
 * as absent). `keys:` is what sops-nix users write to hold YAML anchors (`- &host_web1
 * age1…`) that creation rules reference by alias; aliases are already resolved when
 * this sees the data. `secrets:` is reserved for this tool's own settings.
 */
const configFields: Field = mapping({
    creation_rules: list("rules", creationRule),
    destination_rules: list("rules", mapping({})),
    stores: mapping({ yaml: indentOnly, json: indentOnly, json_binary: indentOnly, dotenv: anything, ini: anything }),
    keys: anything,
    secrets: record,
})
