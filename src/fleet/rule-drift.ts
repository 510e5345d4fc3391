/**
 * A file's encryption rule against its creation rule (sops-format.md §5).
 *
 * sops writes the rule that decides which values are encrypted (`unencrypted_suffix`,
 * `encrypted_regex`, …, `mac_only_encrypted`) into each file's metadata, and every
 * later `set`/`edit` follows the file's copy, not `.sops.yaml`. That copy is not
 * covered by the MAC: whoever can commit to the repository can change it, and a file
 * that says `unencrypted_regex: .*` makes every later `set` write its value in
 * clear. So a difference is shown (set, edit, rotate warn; `status --check` fails),
 * and a value the file's rule would leave in clear but the creation rule would
 * encrypt is refused unless the user says `--allow-clear`.
 *
 * Pure: trees, metadata and plans in, descriptions out.
 */
import { FIELD_OF, type EncryptionPlan } from "../config/match.js"
import type { EncryptionRule, Metadata } from "../core/metadata.js"
import { compilePolicy, effectiveRule, type Policy } from "../core/policy.js"
import type { PathStep } from "../core/tree-path.js"
import { describePath } from "../core/tree-path.js"
import type { Branch, Node, Scalar } from "../core/tree.js"
import { ruleForNewFile } from "../engine/rules.js"

/** What decides encryption and what the MAC covers. */
export interface RuleSettings {
    readonly rule: EncryptionRule
    readonly macOnlyEncrypted: boolean
}

/** A file's rule that is not its creation rule, both in words (`encrypted_regex ^pass`). */
export interface RuleDrift {
    readonly file: RuleSettings
    readonly creation: RuleSettings
    readonly fileText: string
    readonly creationText: string
}

// The names as .sops.yaml and the metadata spell them, for messages.
const FIELD_NAMES = FIELD_OF

/** The settings a new file under `plan` gets (the default suffix when the rule names none). */
export function creationSettings(plan: Pick<EncryptionPlan, "rule" | "macOnlyEncrypted">): RuleSettings {
    return { rule: effectiveRule(ruleForNewFile(plan.rule, false)), macOnlyEncrypted: plan.macOnlyEncrypted }
}

/** The settings a file's metadata gives (an old file naming no rule gets the default suffix, as sops reads it). */
export function fileSettings(metadata: Pick<Metadata, "rule" | "macOnlyEncrypted">): RuleSettings {
    return { rule: effectiveRule(metadata.rule), macOnlyEncrypted: metadata.macOnlyEncrypted }
}

/** `encrypted_regex ^pass`, `unencrypted_suffix _unencrypted, mac_only_encrypted`. */
export function describeSettings(s: RuleSettings): string {
    const parts = Object.entries(FIELD_NAMES).flatMap(([k, name]) => {
        const v = s.rule[k as keyof EncryptionRule]
        return v === undefined || v === "" ? [] : [`${name} ${v}`]
    })
    if (s.macOnlyEncrypted) parts.push("mac_only_encrypted")
    return parts.join(", ")
}

function sameSettings(a: RuleSettings, b: RuleSettings): boolean {
    if (a.macOnlyEncrypted !== b.macOnlyEncrypted) return false
    return (Object.keys(FIELD_NAMES) as (keyof EncryptionRule)[]).every((k) => (a.rule[k] ?? "") === (b.rule[k] ?? ""))
}

/**
 * How the file's rule differs from its creation rule, or undefined when they agree.
 * Binary files have no rule (sops encrypts their one value whatever the rule says):
 * never a drift.
 */
export function ruleDrift(metadata: Pick<Metadata, "rule" | "macOnlyEncrypted">, plan: Pick<EncryptionPlan, "rule" | "macOnlyEncrypted">, binary: boolean): RuleDrift | undefined {
    if (binary) return undefined
    const file = fileSettings(metadata)
    const creation = creationSettings(plan)
    if (sameSettings(file, creation)) return undefined
    return { file, creation, fileText: describeSettings(file), creationText: describeSettings(creation) }
}

/** One scalar of a document with what each of two rules decides for it. */
interface Judged {
    readonly steps: PathStep[]
    readonly value: Scalar
    readonly encA: boolean
    readonly encB: boolean
}

/**
 * Every non-null scalar of `branch`, judged by two policies. The walk keeps the
 * comments stack exactly as core/walk.ts does (one frame per mapping or list,
 * filled by comments, cleared after each other item), so comment rules decide as
 * they will when the file is sealed. Comments themselves are not listed.
 */
function judge(branch: Branch, a: Policy, b: Policy): Judged[] {
    const out: Judged[] = []
    const stack: string[][] = []
    const visit = (node: Node, keys: string[], steps: PathStep[]): void => {
        if (node.kind === "map" || node.kind === "list") {
            const frame: string[] = []
            stack.push(frame)
            let index = 0
            for (const item of node.items) {
                if (item.kind === "comment") {
                    frame.push(item.text)
                    continue
                }
                if (item.kind === "entry") visit(item.value, [...keys, item.key], [...steps, item.key])
                else visit(item, keys, [...steps, index++])
                frame.length = 0
            }
            stack.pop()
            return
        }
        if (node.kind === "null") return
        out.push({ steps, value: node, encA: a.shouldEncrypt(keys, stack, false), encB: b.shouldEncrypt(keys, stack, false) })
    }
    visit(branch, [], [])
    return out
}

function scalarAt(root: Node | undefined, steps: readonly PathStep[]): Node | undefined {
    let node = root
    for (const s of steps) {
        if (node === undefined) return undefined
        if (typeof s === "string") {
            if (node.kind !== "map") return undefined
            const found = node.items.find((i) => i.kind === "entry" && i.key === s)
            node = found?.kind === "entry" ? found.value : undefined
        } else {
            if (node.kind !== "list") return undefined
            node = node.items.filter((i) => i.kind !== "comment")[s] as Node | undefined
        }
    }
    return node
}

function sameScalar(a: Scalar, b: Node | undefined): boolean {
    if (b === undefined || a.kind !== b.kind) return false
    if (a.kind === "null") return true
    if (a.kind === "bytes") {
        const bv = (b as typeof a).value
        return a.value.length === bv.length && a.value.every((x, i) => x === bv[i])
    }
    if (a.kind === "float") return Object.is(a.value, (b as typeof a).value)
    return a.value === (b as typeof a).value
}

function label(doc: number, docs: number, steps: readonly PathStep[]): string {
    const p = describePath(steps)
    return docs > 1 ? `document ${doc + 1}: ${p}` : p
}

/**
 * Key paths of the values in `after` that `file`'s rule leaves in clear but the
 * creation rule would encrypt, and that are new or changed since `before` (same
 * document, same place, same typed value counts as unchanged: a value already in
 * clear in the file is the drift warning's business, not a new leak).
 */
export function clearAgainstCreationRule(before: readonly Branch[], after: readonly Branch[], file: RuleSettings, creation: RuleSettings): string[] {
    const filePolicy = compilePolicy(file.rule)
    const creationPolicy = compilePolicy(creation.rule)
    const out: string[] = []
    for (const [d, doc] of after.entries()) {
        for (const j of judge(doc, filePolicy, creationPolicy)) {
            if (j.encA || !j.encB) continue
            if (sameScalar(j.value, scalarAt(before[d], j.steps))) continue
            out.push(label(d, after.length, j.steps))
        }
    }
    return out
}

/**
 * Key paths of the values that were encrypted under `from` and are in clear under
 * `to`: what re-encrypting a file under its creation rule exposes in the diff.
 */
export function madeClear(branches: readonly Branch[], from: RuleSettings, to: RuleSettings): string[] {
    const a = compilePolicy(from.rule)
    const b = compilePolicy(to.rule)
    const out: string[] = []
    for (const [d, doc] of branches.entries()) {
        for (const j of judge(doc, a, b)) if (j.encA && !j.encB) out.push(label(d, branches.length, j.steps))
    }
    return out
}
