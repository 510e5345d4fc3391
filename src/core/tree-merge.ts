/**
 * The 3-way merge of decrypted documents by key path, for the git merge driver
 * (issue 15 point 3). sops files conflict on every merge because `mac` and
 * `lastmodified` change on both sides (sops #52); merging the plaintext trees key
 * by key and sealing the result once removes those conflicts, and leaves only the
 * real ones: the same value changed differently on both sides.
 *
 * Rules at each key path: ours == base -> theirs; theirs == base -> ours;
 * ours == theirs -> ours; two mappings changed on both sides are merged key by
 * key; anything else is a conflict, which keeps ours' value and is reported by
 * path. A missing key takes part like a value, so a key deleted on one side and
 * unchanged on the other is deleted, and deleted on one side but changed on the
 * other is a conflict. A list is one value: merging lists item by item would need
 * an identity for items, which sops files do not have.
 *
 * Order: ours' keys in ours' order; a key that only theirs added goes after the
 * nearest key before it in theirs that is in the result, or at the end. Comments
 * are ours' wherever both sides changed a mapping: a comment has no key to merge by.
 */
import { sameNode } from "./same-node.js"
import { describePath } from "./tree-path.js"
import type { Branch, Entry, ListItem, MapItem, Mapping, Node } from "./tree.js"

export interface TreeMergeResult {
    readonly tree: Branch
    /** Key paths changed differently on both sides, in index syntax (`["db"]["password"]`). */
    readonly conflicts: string[]
}

export interface DocumentsMergeResult {
    readonly documents: Branch[]
    /**
     * As above; in a file of several documents each path is prefixed with its
     * document's number (`document 2 ["db"]`), because sops' index syntax has none.
     */
    readonly conflicts: string[]
}

const EMPTY: Mapping = { kind: "map", items: [] }

/** Merge one document. `base` undefined (an unreadable or absent ancestor) merges as an empty mapping. */
export function mergeTree(base: Branch | undefined, ours: Branch, theirs: Branch): TreeMergeResult {
    const conflicts: string[][] = []
    // Both sides are mappings, so resolve() returns one (whole when one side is unchanged).
    const tree = resolve(base, ours, theirs, [], conflicts) as Branch
    return { tree, conflicts: conflicts.map(describePath) }
}

/**
 * Merge the documents of a file (YAML may hold several): document i of each side
 * merges with document i of the others, and a document present on one side only
 * is added or deleted by the same rules as a key.
 */
export function mergeDocuments(
    base: readonly Branch[] | undefined,
    ours: readonly Branch[],
    theirs: readonly Branch[],
): DocumentsMergeResult {
    const several = Math.max(base?.length ?? 0, ours.length, theirs.length) > 1
    const documents: Branch[] = []
    const labels: string[] = []
    const count = Math.max(ours.length, theirs.length, base?.length ?? 0)
    for (let i = 0; i < count; i++) {
        const conflicts: string[][] = []
        const b = base?.[i]
        const merged = resolve(b, ours[i], theirs[i], [], conflicts)
        if (merged !== undefined) documents.push(merged as Branch)
        const prefix = several ? `document ${i + 1}` : ""
        for (const path of conflicts) labels.push([prefix, describePath(path)].filter((s) => s !== "").join(" "))
    }
    return { documents: documents.length > 0 ? documents : [EMPTY], conflicts: labels }
}

/** The merged value at `path`, undefined for "no key here". Conflicts keep ours'. */
function resolve(b: Node | undefined, o: Node | undefined, t: Node | undefined, path: string[], conflicts: string[][]): Node | undefined {
    if (same(o, b)) return t
    if (same(t, b)) return o
    if (same(o, t)) return o
    if (o?.kind === "map" && t?.kind === "map") return mergeMaps(b?.kind === "map" ? b : EMPTY, o, t, path, conflicts)
    // A list or scalar whose only change on one side is in its comments: the other
    // side's change wins rather than conflicting over a comment.
    if (sameValue(o, b)) return t
    if (sameValue(t, b)) return o
    if (sameValue(o, t)) return o
    conflicts.push(path)
    return o
}

function mergeMaps(b: Mapping, o: Mapping, t: Mapping, path: string[], conflicts: string[][]): Mapping {
    const baseOf = firstEntries(b)
    const theirsOf = firstEntries(t)
    const oursOf = firstEntries(o)
    const kept: MapItem[] = []
    const keys = new Set<string>()
    const merged = new Set<MapItem>() // the kept entries that are their key's value (not repeats)
    for (const item of o.items) {
        // A repeated key: the first one is the value (as lookup() reads it); later ones stay as ours wrote them.
        if (item.kind === "comment" || oursOf.get(item.key) !== item) {
            kept.push(item)
            continue
        }
        const v = resolve(baseOf.get(item.key)?.value, item.value, theirsOf.get(item.key)?.value, [...path, item.key], conflicts)
        if (v === undefined) continue
        const out: Entry = v === item.value ? item : { kind: "entry", key: item.key, value: v }
        kept.push(out)
        merged.add(out)
        keys.add(item.key)
    }
    // Keys only theirs has: added by theirs (kept), or deleted by ours (gone unless
    // theirs changed them). Each added key joins the group after the nearest kept
    // key before it in theirs; a group is placed in one pass below, so a file with
    // many keys added costs no search per key.
    const after = new Map<string, Entry[]>()
    const tail: Entry[] = []
    let group = tail
    for (const item of t.items) {
        if (item.kind === "comment" || theirsOf.get(item.key) !== item) continue
        if (oursOf.has(item.key)) {
            if (keys.has(item.key)) {
                group = after.get(item.key) ?? []
                after.set(item.key, group)
            }
            continue
        }
        const v = resolve(baseOf.get(item.key)?.value, undefined, item.value, [...path, item.key], conflicts)
        if (v !== undefined) group.push(v === item.value ? item : { kind: "entry", key: item.key, value: v })
    }
    if (after.size === 0 && tail.length === 0) return { kind: "map", items: kept }
    const items: MapItem[] = []
    let pending: Entry[] = []
    for (const item of kept) {
        // An inline comment (`key: v # note`) belongs to the key before it: the added keys go after it.
        if (item.kind !== "comment" || item.inline !== true) {
            for (const e of pending) items.push(e) // a loop: spreading 100k keys overflows the call stack
            pending = []
        }
        items.push(item)
        if (item.kind === "entry" && merged.has(item)) pending = after.get(item.key) ?? []
    }
    for (const e of pending) items.push(e)
    for (const e of tail) items.push(e)
    return { kind: "map", items }
}

function firstEntries(m: Mapping): Map<string, Entry> {
    const out = new Map<string, Entry>()
    for (const item of m.items) if (item.kind === "entry" && !out.has(item.key)) out.set(item.key, item)
    return out
}

function same(a: Node | undefined, b: Node | undefined): boolean {
    if (a === undefined || b === undefined) return a === b
    return a === b || sameNode(a, b)
}

/** Equality of the values alone, comments ignored. */
function sameValue(a: Node | undefined, b: Node | undefined): boolean {
    if (a === undefined || b === undefined) return a === b
    return sameNode(withoutComments(a), withoutComments(b))
}

function withoutComments(n: Node): Node {
    if (n.kind === "map") {
        const items: MapItem[] = []
        for (const it of n.items) if (it.kind === "entry") items.push({ kind: "entry", key: it.key, value: withoutComments(it.value) })
        return { kind: "map", items }
    }
    if (n.kind === "list") {
        const items: ListItem[] = []
        for (const it of n.items) if (it.kind !== "comment") items.push(withoutComments(it))
        return { kind: "list", items }
    }
    return n
}
