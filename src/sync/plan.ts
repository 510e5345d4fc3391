/**
 * What a pull would change in a file: the key paths added, changed and removed
 * between the file's plaintext tree and the values wanted from 1Password. A plan
 * holds paths only, never values, so it can be printed, logged and compared in CI
 * (issue 5 §3: "a dry-run diff of key paths, never values").
 */
import { map, str, type Branch, type Node } from "../core/tree.js"
import { describePath, getAt, setAt, unsetAt, type PathStep } from "../core/tree-path.js"

/** One value to have in the file, and where it came from (a reference: not secret). */
export interface WantedValue {
    readonly path: readonly PathStep[]
    readonly value: string
    readonly source: string
}

/**
 * Where `--prune` may remove keys: the entries of the mapping at `path` whose key
 * starts with `keyPrefix` (all of them when absent). Keys outside every scope are
 * never removed, so values set by hand next to pulled ones survive a prune.
 */
export interface PruneScope {
    readonly path: readonly PathStep[]
    readonly keyPrefix?: string
}

export interface SyncPlan {
    readonly added: readonly (readonly PathStep[])[]
    readonly changed: readonly (readonly PathStep[])[]
    readonly removed: readonly (readonly PathStep[])[]
    /** How many wanted values are already in the file as they are. */
    readonly unchanged: number
}

/**
 * Compare `current` (undefined for a file that does not exist yet) with `wanted`.
 * A value counts as unchanged only when the file holds the same string: a number
 * 5432 in the file is changed by the string "5432", since 1Password values are
 * strings and the file would otherwise never converge.
 */
export function planSync(current: Branch | undefined, wanted: readonly WantedValue[], prune: readonly PruneScope[] = []): SyncPlan {
    const added: PathStep[][] = []
    const changed: PathStep[][] = []
    let unchanged = 0
    for (const w of wanted) {
        const node = current === undefined ? undefined : getAt(current, w.path)
        if (node === undefined) added.push([...w.path])
        else if (holds(node, w.value)) unchanged++
        else changed.push([...w.path])
    }
    const removed = current === undefined ? [] : toRemove(current, wanted, prune)
    return { added, changed, removed, unchanged }
}

function holds(node: Node, value: string): boolean {
    return node.kind === "str" && node.value === value
}

function toRemove(current: Branch, wanted: readonly WantedValue[], scopes: readonly PruneScope[]): PathStep[][] {
    const exact = new Set(wanted.map((w) => describePath(w.path)))
    const inner = new Set<string>()
    for (const w of wanted) for (let i = 0; i < w.path.length; i++) inner.add(describePath(w.path.slice(0, i)))
    const out: PathStep[][] = []
    const seen = new Set<string>()
    const visit = (node: Node, path: PathStep[]): void => {
        const shown = describePath(path)
        if (exact.has(shown) || seen.has(shown)) return
        if (!inner.has(shown)) {
            seen.add(shown)
            out.push(path)
            return
        }
        // Inside a list only whole values are managed; a list is never pruned item by item.
        if (node.kind !== "map") return
        for (const item of node.items) if (item.kind === "entry") visit(item.value, [...path, item.key])
    }
    for (const scope of scopes) {
        const node = getAt(current, scope.path)
        if (node === undefined || node.kind !== "map") continue
        for (const item of node.items) {
            if (item.kind !== "entry" || (scope.keyPrefix !== undefined && !item.key.startsWith(scope.keyPrefix))) continue
            // The metadata block is never data, whatever the scope says.
            if (scope.path.length === 0 && item.key === "sops") continue
            visit(item.value, [...scope.path, item.key])
        }
    }
    return out
}

/** True when applying the plan would change nothing. */
export function isEmptyPlan(plan: SyncPlan): boolean {
    return plan.added.length === 0 && plan.changed.length === 0 && plan.removed.length === 0
}

/**
 * `current` with the plan applied: added and changed paths get their wanted string
 * (missing mappings are created on the way), removed paths go. Entries not in the
 * plan, comments and key order are kept as they are.
 */
export function applyPlan(current: Branch | undefined, plan: SyncPlan, wanted: readonly WantedValue[]): Branch {
    const byPath = new Map(wanted.map((w) => [describePath(w.path), w.value]))
    let out: Branch = current ?? map()
    for (const path of [...plan.added, ...plan.changed]) {
        const value = byPath.get(describePath(path))
        if (value !== undefined) out = setAt(out, path, str(value))
    }
    for (const path of plan.removed) out = unsetAt(out, path) ?? out
    return out
}

/** The plan as lines, `+` added, `~` changed, `-` removed, one key path each, never a value. */
export function formatPlan(plan: SyncPlan): string[] {
    return [
        ...plan.added.map((p) => `+ ${describePath(p)}`),
        ...plan.changed.map((p) => `~ ${describePath(p)}`),
        ...plan.removed.map((p) => `- ${describePath(p)}`),
    ]
}

/** The plan for `--json`: key paths as arrays of steps (strings and list indexes). */
export function planToJson(plan: SyncPlan): { added: PathStep[][]; changed: PathStep[][]; removed: PathStep[][]; unchanged: number } {
    const copy = (ps: readonly (readonly PathStep[])[]) => ps.map((p) => [...p])
    return { added: copy(plan.added), changed: copy(plan.changed), removed: copy(plan.removed), unchanged: plan.unchanged }
}
