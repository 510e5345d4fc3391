/**
 * Which values changed between two revisions of one encrypted file (issue 15 §4,
 * `secrets log`), from the encrypted documents alone where that is exact, never
 * from or into plaintext.
 *
 * What an ENC string tells, under one data key: AES-GCM is deterministic for a
 * (key, IV, AAD) triple, so the same ENC string at the same path is the same value.
 * A different ENC string is USUALLY a changed value, because our writers and sops
 * re-encrypt an unchanged value with its old IV (the IV stash: src/core/cipher.ts
 * IvStash; sops aes/cipher.go `stash map[stashKey][]byte`, keyed by AAD and
 * plaintext). It is not proof: sops keys its stash by the Go value, and a `time`
 * value with a zone offset is a time.Time holding a fresh FixedZone *Location on
 * each parse, unequal as a map key, so it can miss the stash and get a fresh IV
 * unchanged (read in sops' code, not observed: no sops binary here); writers
 * without a stash (python sops, scripts, `seal` without one) re-encrypt every value. So a different ENC string is "undecided" unless the
 * caller, who holds the data key, compares the plaintexts (`samePlaintext`).
 * Across a data-key change (rotate) every encrypted value has a new ENC string and
 * only plaintexts can tell.
 *
 * Unencrypted leaves (`_unencrypted`, a rule that spares a key) are compared as
 * they are. Comments are not key paths and are left out.
 */
import { describePath, type PathStep } from "./tree-path.js"
import type { Branch, ListItem, Node, Scalar } from "./tree.js"

/** One leaf of an encrypted document: where it is and what the file holds there. */
export interface Leaf {
    readonly path: readonly PathStep[]
    /** The document it is in (a YAML file may hold several). */
    readonly document: number
    /** The ENC string, `""`, or for an unencrypted leaf its kind and value (the file shows those anyway). */
    readonly text: string
    /** False for a leaf the rule left in plaintext: its text compares exactly under any key. */
    readonly encrypted: boolean
}

/** A document's leaves by key path label (sops index syntax, `["db"]["hosts"][0]`). */
export type Leaves = ReadonlyMap<string, Leaf>

/** The comparison rules the caller knows. */
export interface ChangeRules {
    /** Both revisions are encrypted under the same data key (the caller decides, by decrypting if need be). */
    readonly sameDataKey: boolean
    /**
     * Plaintext equality of a label present in both revisions, for the labels
     * `undecidedLabels` returned; undefined: not known (the revision could not be opened).
     */
    readonly samePlaintext?: (label: string) => boolean | undefined
}

/** The key path labels that were added, changed and removed; `undecided`: present in both, not known whether changed. */
export interface ValueChanges {
    readonly added: string[]
    readonly changed: string[]
    readonly removed: string[]
    readonly undecided: string[]
}

const ENC_PREFIX = "ENC["

/** The label of a leaf: its index path, after `#N ` for the N-th document of a multi-document file. */
export function leafLabel(document: number, path: readonly PathStep[]): string {
    const p = describePath(path)
    return document === 0 ? p : `#${document} ${p}`
}

/** Every scalar leaf of `branches` (as a store's parseEncrypted gives them), in file order. */
export function leavesOf(branches: readonly Branch[]): Map<string, Leaf> {
    const out = new Map<string, Leaf>()
    const visit = (node: Node, path: PathStep[], document: number): void => {
        switch (node.kind) {
            case "map":
                for (const item of node.items) if (item.kind === "entry") visit(item.value, [...path, item.key], document)
                return
            case "list": {
                let i = 0
                for (const item of node.items as readonly ListItem[]) {
                    if (item.kind === "comment") continue
                    visit(item, [...path, i++], document)
                }
                return
            }
            case "str": {
                // An encrypted leaf is a string holding an ENC text (or "" for an empty value,
                // which sops never encrypts and which is therefore exact too).
                const encrypted = node.value.startsWith(ENC_PREFIX)
                out.set(leafLabel(document, path), { path, document, text: encrypted ? node.value : plainKey(node), encrypted })
                return
            }
            default:
                out.set(leafLabel(document, path), { path, document, text: plainKey(node), encrypted: false })
        }
    }
    branches.forEach((b, d) => visit(b, [], d))
    return out
}

/**
 * A plaintext value as a comparable text: its kind and its value, so that the
 * string "1" and the integer 1 differ as they do in the file. For an unencrypted
 * leaf and for a value the caller decrypted alike; never shown to anyone.
 */
export function plainKey(node: Scalar): string {
    switch (node.kind) {
        case "null":
            return "null:"
        case "bytes":
            return `bytes:${Buffer.from(node.value).toString("base64")}`
        case "str":
            return `str:${node.value}`
        default:
            return `${node.kind}:${String(node.value)}`
    }
}

/**
 * The labels present in both revisions that the ENC strings cannot decide: the
 * caller decrypts exactly these (under each revision's data key) and answers
 * `samePlaintext` for them.
 */
export function undecidedLabels(prev: Leaves, next: Leaves, sameDataKey: boolean): string[] {
    const out: string[] = []
    for (const [label, after] of next) {
        const before = prev.get(label)
        if (before === undefined) continue
        if (decideByText(before, after, sameDataKey) === undefined) out.push(label)
    }
    return out
}

/** true: unchanged, false: changed, undefined: only the plaintexts can tell. */
function decideByText(before: Leaf, after: Leaf, sameDataKey: boolean): boolean | undefined {
    if (!before.encrypted && !after.encrypted) return before.text === after.text
    if (before.encrypted !== after.encrypted) {
        // An empty value is stored as "" (not encrypted) and a non-empty one never is:
        // one side empty and the other not is a change. Otherwise the rule changed
        // which leaves are encrypted, and only the plaintexts tell.
        if (before.text === "str:" || after.text === "str:") return false
        return undefined
    }
    if (sameDataKey && before.text === after.text) return true
    return undefined
}

/**
 * The changes from `prev` to `next`, labels in `next`'s order (removed ones in
 * `prev`'s). A label the ENC strings cannot decide goes to `changed` or out of the
 * result when `samePlaintext` answers, to `undecided` when it does not.
 */
export function valueChanges(prev: Leaves, next: Leaves, rules: ChangeRules): ValueChanges {
    const out: ValueChanges = { added: [], changed: [], removed: [], undecided: [] }
    for (const [label, after] of next) {
        const before = prev.get(label)
        if (before === undefined) {
            out.added.push(label)
            continue
        }
        const same = decideByText(before, after, rules.sameDataKey) ?? rules.samePlaintext?.(label)
        if (same === undefined) out.undecided.push(label)
        else if (!same) out.changed.push(label)
    }
    for (const label of prev.keys()) if (!next.has(label)) out.removed.push(label)
    return out
}

/** Keeps only the labels at or under `filter` (a label itself, or a mapping or list above leaves). */
export function changesUnder(changes: ValueChanges, filter: string): ValueChanges {
    const keep = (l: string) => l === filter || l.startsWith(filter + "[")
    return {
        added: changes.added.filter(keep),
        changed: changes.changed.filter(keep),
        removed: changes.removed.filter(keep),
        undecided: changes.undecided.filter(keep),
    }
}
