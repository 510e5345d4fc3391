/**
 * Changing who can open a file: re-wrapping the same data key for a new set of
 * recipients (`updatekeys`, `groups add/delete`) and rotating to a new data key
 * (`rotate`), sops-format.md §3 and §8.
 *
 * Two rules shape everything here:
 * - sops keeps the data key on updatekeys/groups so that master keys it cannot
 *   reach again (pgp, kms, …) stay valid. We go one step further for minimal diffs:
 *   a recipient that stays in its group keeps its exact `enc` block (sops re-wraps
 *   them all), so only the blocks of added and removed recipients change.
 * - With several groups each group wraps a Shamir share, not the key. The shares
 *   cannot be derived from the data key, so adding a recipient to a group, changing
 *   the number of groups or the threshold means splitting the key again, and then
 *   every group's blocks change. We cannot wrap for foreign keys, so any change that
 *   needs a new split (or a new data key) is refused while the file has them.
 */
import { effectiveThreshold, newDataKey, splitForGroups } from "../core/datakey.js"
import type { AgeKey, ForeignKey, KeyGroup, MasterKey, Metadata } from "../core/metadata.js"
import { ExitCode, SecretsError } from "../errors.js"
import { wrapDataKey } from "../keys/age.js"
import type { Store } from "../stores/store.js"
import type { OpenedFile } from "./open.js"
import { seal, wrapGroups } from "./seal.js"

/** The age recipients one key group gains and loses (foreign keys are not listed). */
export interface GroupDiff {
    /** 0-based group index. */
    readonly group: number
    readonly added: readonly string[]
    readonly removed: readonly string[]
}

export interface RewrapResult {
    readonly metadata: Metadata
    /** One entry per group index of the old or new layout, as sops' diffKeyGroups. */
    readonly diff: readonly GroupDiff[]
    /** The key was split again: every group's blocks are new. */
    readonly resplit: boolean
}

/** The age recipients of a group, in file order. */
export function ageRecipients(group: KeyGroup): string[] {
    return group.flatMap((k) => (k.type === "age" ? [k.recipient] : []))
}

function foreignKeys(group: KeyGroup | undefined): ForeignKey[] {
    return (group ?? []).filter((k): k is ForeignKey => k.type !== "age")
}

/** True when some group gains or loses a recipient. */
export function hasChanges(diff: readonly GroupDiff[]): boolean {
    return diff.some((d) => d.added.length > 0 || d.removed.length > 0)
}

/** Trimmed, without empty items and duplicates, order kept. */
export function normalizeGroups(groups: readonly (readonly string[])[]): string[][] {
    return groups.map((g) => [...new Set(g.map((r) => r.trim()).filter((r) => r !== ""))])
}

/**
 * Per group index, the age recipients `next` adds to and removes from `current`
 * (sops `diffKeyGroups`, keyed by the recipient string).
 */
export function diffGroups(current: readonly KeyGroup[], next: readonly (readonly string[])[]): GroupDiff[] {
    const out: GroupDiff[] = []
    for (let i = 0; i < Math.max(current.length, next.length); i++) {
        const ours = ageRecipients(current[i] ?? [])
        const theirs = next[i] ?? []
        out.push({
            group: i,
            added: theirs.filter((r) => !ours.includes(r)),
            removed: ours.filter((r) => !theirs.includes(r)),
        })
    }
    return out
}

/**
 * Re-wrap the file's data key for `newGroups` (age recipients per group) with the
 * Shamir `threshold` to write (0 = all groups). Foreign keys stay in their group.
 * Unchanged recipients keep their `enc` block unless the key must be split again;
 * `mac`, `lastmodified` and `version` are left as they are (sops §4: not changed by
 * updatekeys/groups). Throws SecretsError when the result could not be opened, or
 * would need wrapping for a foreign key.
 */
export async function rewrapGroups(
    metadata: Metadata,
    dataKey: Uint8Array,
    newGroups: readonly (readonly string[])[],
    threshold: number,
): Promise<RewrapResult> {
    const groups = normalizeGroups(newGroups)
    const old = metadata.keyGroups
    checkLayout(groups, old, threshold)
    const diff = diffGroups(old, groups)

    for (let i = groups.length; i < old.length; i++) {
        if (foreignKeys(old[i]).length > 0) {
            throw foreignRefusal(old, `key group ${i} would be removed with its ${typesOf(foreignKeys(old[i]))} keys`)
        }
    }
    const oldThreshold = old.length > 1 ? effectiveThreshold(metadata.shamirThreshold, old.length) : 1
    const newThreshold = groups.length > 1 ? effectiveThreshold(threshold, groups.length) : 1
    // One group wraps the key itself; several wrap shares that only a new split can extend.
    const resplit =
        old.length !== groups.length || (groups.length > 1 && (oldThreshold !== newThreshold || diff.some((d) => d.added.length > 0)))
    if (resplit && groups.some((_, i) => foreignKeys(old[i]).length > 0)) {
        throw foreignRefusal(old, "the data key would have to be split again for the new key groups")
    }

    let keyGroups: KeyGroup[]
    if (resplit) {
        const ordered = groups.map((g, i) => orderRecipients(old[i], g))
        keyGroups = await wrapGroups(ordered, await splitForGroups(dataKey, groups.length, threshold))
    } else {
        keyGroups = await Promise.all(groups.map(async (g, i) => keepOrWrap(old[i], g, dataKey)))
    }
    // sops writes the threshold it split with: 0 ("all groups") becomes the group count.
    const written = resplit && groups.length > 1 ? newThreshold : threshold
    return { metadata: { ...metadata, keyGroups, shamirThreshold: written }, diff, resplit }
}

/** Kept recipients in file order (minimal diff), then the added ones in the order given. */
function orderRecipients(group: KeyGroup | undefined, wanted: readonly string[]): string[] {
    const kept = ageRecipients(group ?? []).filter((r) => wanted.includes(r))
    return [...kept, ...wanted.filter((r) => !kept.includes(r))]
}

/** One group without a new split: foreign keys, then kept age blocks verbatim, then new ones. */
async function keepOrWrap(group: KeyGroup | undefined, wanted: readonly string[], payload: Uint8Array): Promise<KeyGroup> {
    const existing = new Map<string, AgeKey>()
    for (const k of group ?? []) if (k.type === "age" && !existing.has(k.recipient)) existing.set(k.recipient, k)
    const out: MasterKey[] = [...foreignKeys(group)]
    for (const r of orderRecipients(group, wanted)) {
        out.push(existing.get(r) ?? { type: "age", recipient: r, enc: await wrapDataKey(r, payload) })
    }
    return out
}

function checkLayout(groups: readonly string[][], old: readonly KeyGroup[], threshold: number): void {
    if (groups.length === 0 || groups.every((g, i) => g.length === 0 && foreignKeys(old[i]).length === 0)) {
        throw new SecretsError(ExitCode.Generic, "no recipient would be left to decrypt the file", [
            "keep at least one age recipient",
        ])
    }
    for (const [i, g] of groups.entries()) {
        if (g.length === 0 && foreignKeys(old[i]).length === 0) {
            throw new SecretsError(ExitCode.Generic, `key group ${i} would have no keys`, ["give every key group at least one recipient"])
        }
    }
    if (groups.length > 255) throw new SecretsError(ExitCode.Generic, "there cannot be more than 255 key groups")
    const t = groups.length > 1 ? effectiveThreshold(threshold, groups.length) : threshold
    if (t > groups.length) {
        throw new SecretsError(
            ExitCode.Generic,
            `the Shamir threshold ${t} cannot be met with ${groups.length} key group${groups.length === 1 ? "" : "s"}`,
            ["lower it with --shamir-secret-sharing-threshold"],
        )
    }
    if (groups.length > 1 && t < 2) {
        throw new SecretsError(ExitCode.Generic, "the Shamir threshold must be at least 2 with several key groups", [
            "pass --shamir-secret-sharing-threshold 2 or more",
        ])
    }
}

function typesOf(keys: readonly ForeignKey[]): string {
    return [...new Set(keys.map((k) => k.type))].join("/")
}

function foreignRefusal(groups: readonly KeyGroup[], why: string): SecretsError {
    const types = typesOf(groups.flatMap((g) => foreignKeys(g)))
    return new SecretsError(ExitCode.Generic, `cannot change the keys: ${why}, and the file also has ${types} keys that secrets cannot encrypt to`, [
        `use sops for this change, or remove the ${types} keys with sops first`,
    ])
}

export interface RotateChange {
    /**
     * Every group's age recipients, in place of the file's own: a creation rule's
     * (`rotate --strict`, `keys revoke`), so that a recipient the rule does not name
     * loses the new key. `add` and `remove` apply on top.
     */
    readonly groups?: readonly (readonly string[])[]
    /** With `groups`: the rule's Shamir threshold (0 = all groups), written as sops writes a new file's. */
    readonly threshold?: number
    /** age recipients added to group 0 (`--add-age`). */
    readonly add?: readonly string[]
    /** age recipients removed from every group (`--rm-age`). */
    readonly remove?: readonly string[]
}

export interface Rotated {
    /** The file, every value encrypted under the new key with fresh IVs. */
    readonly output: Uint8Array
    readonly metadata: Metadata
    readonly dataKey: Uint8Array
    readonly diff: readonly GroupDiff[]
}

/**
 * `rotate`: a new data key, every value re-encrypted with fresh IVs (no stash: the
 * old IVs belong to the old key) and every group wrapped again, after applying the
 * recipient changes. `version` is kept (sops does not bump it on rotate); `mac` and
 * `lastmodified` are new. Refused when the file has foreign keys: they would keep
 * the old key (sops-format.md §13: "data key unchanged unless all groups can be
 * re-wrapped").
 */
export async function rotateDataKey(opened: OpenedFile, store: Store, now: Date, change: RotateChange = {}): Promise<Rotated> {
    const old = opened.metadata.keyGroups
    const foreign = old.flatMap((g) => foreignKeys(g))
    if (foreign.length > 0) {
        const types = typesOf(foreign)
        throw new SecretsError(ExitCode.Generic, `cannot rotate the data key: the file also has ${types} keys, which secrets cannot encrypt to`, [
            `a new data key would lock out the ${types} keys; rotate with sops, or remove the ${types} keys with sops first`,
        ])
    }
    const remove = new Set((change.remove ?? []).map((r) => r.trim()))
    const base = change.groups ?? old.map((g) => ageRecipients(g))
    const groups = normalizeGroups(base.map((g, i) => [...g, ...(i === 0 ? (change.add ?? []) : [])])).map((g) =>
        g.filter((r) => !remove.has(r)),
    )
    const threshold =
        change.threshold === undefined ? opened.metadata.shamirThreshold : groups.length > 1 ? change.threshold || groups.length : 0
    checkLayout(groups, [], threshold)
    const diff = diffGroups(old, groups)
    const dataKey = newDataKey()
    const keyGroups = await wrapGroups(groups, await splitForGroups(dataKey, groups.length, threshold))
    const metadata: Metadata = { ...opened.metadata, keyGroups, shamirThreshold: threshold }
    const output = seal(opened.branches, store, metadata, dataKey, undefined, now)
    return { output, metadata, dataKey, diff }
}
