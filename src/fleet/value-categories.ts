/**
 * The categories of a file's values (issue 16 §5): the `category:` of the first
 * value policy (value-policy.ts) that matches each key path. Key paths are stored
 * in the clear in a sops file (only values are encrypted), so `access` and
 * `status` name a file's categories without decrypting anything.
 */
import { readFileSync } from "node:fs"
import { leavesOf } from "../core/masked-listing.js"
import type { PathStep } from "../core/tree-path.js"
import { loadStore } from "../stores/index.js"
import type { InventoryEntry } from "./inventory.js"
import { policyFor, type ValuePolicy } from "./value-policy.js"

/** Whether any policy gives a category (else no CATEGORY column is shown anywhere). */
export function hasCategories(policies: readonly ValuePolicy[]): boolean {
    return policies.some((p) => p.category !== undefined)
}

/** The category of one value of `file` (relative to the config's directory), if a policy names one. */
export function categoryOf(policies: readonly ValuePolicy[], file: string, keyPath: readonly PathStep[]): string | undefined {
    return policyFor(policies, file, keyPath)?.category
}

/** The key paths of an encrypted file's first document, read from its encrypted text. */
export async function encryptedKeyPaths(entry: InventoryEntry): Promise<PathStep[][]> {
    const store = await loadStore(entry.format, {})
    const doc = store.parseEncrypted(readFileSync(entry.abs))
    return leavesOf(doc.branches[0] ?? { kind: "map", items: [] }).map((l) => [...l.path])
}

/** The distinct categories of an encrypted file's values, sorted; [] when unreadable or none match. */
export async function fileCategories(policies: readonly ValuePolicy[], entry: InventoryEntry): Promise<string[]> {
    if (!entry.encrypted || !hasCategories(policies)) return []
    let paths: PathStep[][]
    try {
        paths = await encryptedKeyPaths(entry)
    } catch {
        // The inventory already parsed it; a file changed since is shown without categories.
        return []
    }
    const found = new Set<string>()
    for (const p of paths) {
        const c = categoryOf(policies, entry.path, p)
        if (c !== undefined) found.add(c)
    }
    return [...found].sort()
}
