/**
 * Picking the creation rule for a file and turning it into an encryption plan
 * (sops-format.md §8, config.go `parseCreationRuleForFile`, cmd/sops `getEncryptConfig`).
 */
import type { GoRegex } from "../core/go-regex.js"
import type { EncryptionRule } from "../core/metadata.js"
import { ConfigError, quote } from "../errors.js"
import { pathRegex, pathRegexProblem } from "./path-regex.js"
import type { Config, KeyGroupConfig, Rule } from "./schema.js"

/**
 * Why sops (Go's regexp) would refuse a pattern, or undefined when it compiles. The
 * config schema checks every regex field with it, so a config that sops cannot load
 * is refused here too rather than half working.
 */
export function checkGoRegex(pattern: string): string | undefined {
    // The common patterns are checked without the RE2 engine (path-regex.ts).
    return pathRegexProblem(pattern)
}

/** Compile a rule's path_regex, or throw a ConfigError naming the rule. */
function compilePathRegex(config: Config, index: number, pattern: string): GoRegex {
    const problem = pathRegexProblem(pattern)
    if (problem !== undefined) {
        throw new ConfigError(`${config.path}: creation_rules[${index}].path_regex: ${problem}`)
    }
    return pathRegex(pattern, "path_regex")
}

/**
 * The path a rule's `path_regex` sees: the absolute path with `<configDir>/` cut off,
 * so relative to the config's directory when the file is below it and absolute
 * otherwise. Like sops (`strings.TrimPrefix(filePath, configDir+separator)`) this is
 * plain string work, so a config in `/` never strips anything (`//` is no prefix).
 */
export function pathForRules(configDir: string, absFilePath: string): string {
    for (const sep of ["/", "\\"]) {
        const prefix = configDir + sep
        if (absFilePath.startsWith(prefix)) return absFilePath.slice(prefix.length)
    }
    return absFilePath
}

export interface MatchOptions {
    /** Recipients were given with `--age` / `SOPS_AGE_RECIPIENTS`. */
    readonly keysOnCommandLine?: boolean
}

/**
 * The first creation rule whose `path_regex` matches the file (a missing or empty
 * regex matches everything), or undefined when the config has no `creation_rules`.
 * Rules present but none matching is a ConfigError, except with keys on the command
 * line.
 */
export function matchRule(config: Config, configDir: string, absFilePath: string, opts: MatchOptions = {}): Rule | undefined {
    const rules = config.creation_rules
    if (rules === undefined) return undefined
    const relative = pathForRules(configDir, absFilePath)
    for (const [i, rule] of rules.entries()) {
        const pattern = rule.path_regex ?? ""
        if (pattern === "") return rule
        // Go regexp.MatchString is unanchored, and so is `test`.
        if (compilePathRegex(config, i, pattern).test(relative)) return rule
    }
    // sops errors here even when keys come from flags (#1790): it loads the rule set
    // for the encryption settings before it looks at the flags. That makes a repo-wide
    // config with only `secrets/.*` rules block `--age` on any other file for no gain:
    // the flags replace the rule's keys anyway, and the rule flags can be given too.
    // So with recipients on the command line a non-matching config is not an error.
    if (opts.keysOnCommandLine === true) return undefined
    const listed = rules.map((r) => quote(r.path_regex ?? ""))
    throw new ConfigError(`no creation rule in ${config.path} matches ${quote(relative)}`, [
        `the path_regex values, tried in order, are ${listed.join(", ")}`,
        "path_regex sees the path relative to the directory of the config file",
    ])
}

/** What the command line can override in a rule (sops `getEncryptConfig`). */
export interface PlanOverrides {
    /** `--age` / `SOPS_AGE_RECIPIENTS`: replaces the rule's keys entirely, as one group. */
    readonly recipients?: readonly string[]
    /** `--unencrypted-suffix` and friends: each set field replaces the rule's one. */
    readonly rule?: EncryptionRule
    /** `--shamir-secret-sharing-threshold`; 0 = not given. */
    readonly shamirThreshold?: number
    /** `--mac-only-encrypted`. */
    readonly macOnlyEncrypted?: boolean
}

/** Everything needed to encrypt a new file. */
export interface EncryptionPlan {
    /** Age recipients per key group, merges flattened and duplicates removed. */
    readonly groups: string[][]
    /** 0 = sops' default (the number of groups). */
    readonly shamirThreshold: number
    readonly rule: EncryptionRule
    readonly macOnlyEncrypted: boolean
    /** Key types the rule asks for that this tool cannot use (`pgp`, `kms`, …), sorted as sops loads them. */
    readonly unsupported: string[]
}

const FOREIGN_RULE_FIELDS = ["kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault_transit_uri", "pgp", "plugins"] as const
const FOREIGN_GROUP_FIELDS = ["kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault", "pgp", "plugins"] as const

/** The `.sops.yaml` (and metadata) name of each encryption-rule field. */
export const FIELD_OF: Record<keyof EncryptionRule, keyof Rule & string> = {
    unencryptedSuffix: "unencrypted_suffix",
    encryptedSuffix: "encrypted_suffix",
    unencryptedRegex: "unencrypted_regex",
    encryptedRegex: "encrypted_regex",
    unencryptedCommentRegex: "unencrypted_comment_regex",
    encryptedCommentRegex: "encrypted_comment_regex",
}

/**
 * Turn a matched rule (or none) and the command-line overrides into a plan. With no
 * rule and no recipients there is nothing to encrypt to: ConfigError.
 */
export function planForRule(rule: Rule | undefined, overrides: PlanOverrides = {}): EncryptionPlan {
    const unsupported = new Set<string>()
    let groups: string[][]
    if (overrides.recipients !== undefined && overrides.recipients.length > 0) {
        // Any key flag makes sops ignore the config's keys entirely (one group from flags).
        groups = [dedup(overrides.recipients.map((r) => r.trim()).filter((r) => r !== ""))]
    } else if (rule === undefined) {
        throw new ConfigError("no recipients to encrypt to", [
            "give them with --age or SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml",
        ])
    } else if (rule.key_groups !== undefined && rule.key_groups.length > 0) {
        // A non-empty key_groups makes sops ignore the rule's single-group fields.
        groups = rule.key_groups.map((g) => flattenGroup(g, unsupported))
    } else {
        for (const f of FOREIGN_RULE_FIELDS) if (nonEmpty(rule[f])) unsupported.add(f)
        groups = [dedup(rule.age ?? [])]
    }

    const fromRule: Record<string, string> = {}
    for (const [camel, snake] of Object.entries(FIELD_OF)) {
        const given = overrides.rule?.[camel as keyof EncryptionRule]
        const configured = rule?.[snake]
        const value = given !== undefined && given !== "" ? given : typeof configured === "string" ? configured : ""
        if (value !== "") fromRule[camel] = value
    }
    const set = Object.keys(fromRule)
    if (set.length > 1) {
        const got = set.map((c) => FIELD_OF[c as keyof EncryptionRule]).join(" and ")
        throw new ConfigError(
            `cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, ` +
                `encrypted_comment_regex, or unencrypted_comment_regex (got ${got})`,
            ["a rule given on the command line is combined with the creation rule's own, field by field"],
        )
    }

    // 0 is the flag's default, so like sops it means "not given" and the rule's value stands.
    const flagThreshold = overrides.shamirThreshold ?? 0
    return {
        groups,
        shamirThreshold: flagThreshold > 0 ? flagThreshold : (rule?.shamir_threshold ?? 0),
        rule: fromRule as EncryptionRule,
        macOnlyEncrypted: overrides.macOnlyEncrypted === true || rule?.mac_only_encrypted === true,
        unsupported: [...unsupported],
    }
}

/**
 * A key group's age recipients with its `merge` groups first, recursively, then its
 * own, deduplicated: the order and dedup of sops' `extractMasterKeys`.
 */
function flattenGroup(group: KeyGroupConfig, unsupported: Set<string>): string[] {
    const out: string[] = []
    for (const sub of group.merge ?? []) out.push(...flattenGroup(sub, unsupported))
    out.push(...(group.age ?? []))
    for (const f of FOREIGN_GROUP_FIELDS) if (nonEmpty(group[f])) unsupported.add(f)
    return dedup(out)
}

function nonEmpty(v: unknown): boolean {
    return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== ""
}

function dedup(items: readonly string[]): string[] {
    return [...new Set(items)]
}
