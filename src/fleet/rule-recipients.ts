/**
 * Who may read a file, according to its creation rule in `.sops.yaml`: the key
 * groups and Shamir threshold the rule gives, and the recipients a file holds that
 * the rule does not name.
 *
 * Why this matters: a sops file carries its own recipient list, and anyone who can
 * open it can add to that list (`rotate -i --add-age`, `updatekeys` with another
 * config, a hand edit with `edit -s`). A revoked person who once added a second key
 * of their own keeps reading the file through every rotation that starts from the
 * file's list. Rotations that must shut people out (`keys revoke`, `rotate
 * --strict`, `keys rotate`) start from the rule instead, and name what they drop.
 *
 * Pure: the caller loads the config and reads the file's metadata.
 */
import { matchRule, planForRule } from "../config/match.js"
import type { Config, Rule } from "../config/schema.js"
import type { KeyGroup } from "../core/metadata.js"
import { ageRecipients, normalizeGroups } from "../engine/rekey.js"

/** A creation rule's recipients, as a file encrypted under it would have them. */
export interface RuleRecipients {
    /** Age recipients per key group: merges flattened, trimmed, each once per group. */
    readonly groups: string[][]
    /** Shamir threshold; 0 = sops' default, all groups. */
    readonly threshold: number
    /** Key types the rule names that this tool cannot encrypt to (`pgp`, `kms`, …). */
    readonly unsupported: string[]
}

/**
 * The creation rule that governs the file at `abs` (absolute), or undefined when the
 * config has no rules or none matches. A rule that cannot be used (a bad
 * `path_regex`) is a ConfigError, as for encrypt.
 */
export function creationRuleFor(config: Config, configDir: string, abs: string): Rule | undefined {
    // keysOnCommandLine: "no rule matches" is an answer here, not an error.
    return matchRule(config, configDir, abs, { keysOnCommandLine: true })
}

/** The recipients a file encrypted under `rule` gets (sops `getEncryptConfig`, without flags). */
export function recipientsOfRule(rule: Rule): RuleRecipients {
    const plan = planForRule(rule)
    return { groups: normalizeGroups(plan.groups), threshold: plan.shamirThreshold, unsupported: plan.unsupported }
}

/**
 * The recipients of the file at `abs` according to its creation rule, or undefined
 * when no rule matches it. What `keys revoke`, `keys rotate` and `rotate --strict`
 * rotate or re-wrap to.
 */
export function ruleRecipientsFor(config: Config, configDir: string, abs: string): RuleRecipients | undefined {
    const rule = creationRuleFor(config, configDir, abs)
    return rule === undefined ? undefined : recipientsOfRule(rule)
}

/**
 * The age recipients of `keyGroups` (a file's metadata) that no group of
 * `ruleGroups` names, in file order, each once: keys someone added to the file
 * itself. A recipient the rule names in another group is not one of them (it is in
 * the wrong group, which a re-key fixes, but it is meant to read the file).
 */
export function offRuleRecipients(keyGroups: readonly KeyGroup[], ruleGroups: readonly (readonly string[])[]): string[] {
    const named = new Set(ruleGroups.flat().map((r) => r.trim()))
    const out: string[] = []
    for (const g of keyGroups) {
        for (const r of ageRecipients(g)) {
            const t = r.trim()
            if (!named.has(t) && !out.includes(t)) out.push(t)
        }
    }
    return out
}

/** Recipients the rule names that the file lacks, in rule order, each once. */
export function missingRuleRecipients(keyGroups: readonly KeyGroup[], ruleGroups: readonly (readonly string[])[]): string[] {
    const present = new Set(keyGroups.flatMap((g) => ageRecipients(g).map((r) => r.trim())))
    return [...new Set(ruleGroups.flat().map((r) => r.trim()))].filter((r) => !present.has(r))
}

/** `groups` without `recipient` in any group (the rule as it is once that key is revoked). */
export function withoutRecipient(groups: readonly (readonly string[])[], recipient: string): string[][] {
    const r = recipient.trim()
    return groups.map((g) => g.filter((x) => x.trim() !== r))
}
