/**
 * `flatten: true`: nested values become variables named by their key path joined
 * with `__` (`db: {password: …}` is `db__password`, the second item of `hosts`
 * is `hosts__1`), the convention of `docker compose`, ASP.NET and `secrets run
 * --flatten` (issue 13 §1). The result is a one-level mapping that
 * env-from-tree.ts turns into variables with its usual rules.
 *
 * Each flat name keeps the key path it came from, because a value's AAD is its
 * mapping keys (list positions are not part of it, as in sops): that is how the
 * caller asks whether a value was decrypted before it may set PATH and the like.
 */
import { entry, map, type Branch, type Entry } from "../core/tree.js"
import { flatLeaves } from "../core/flat-names.js"

export interface FlatBranch {
    /** One entry per leaf, in file order; nested mappings and lists are gone. */
    readonly branch: Branch
    /** The mapping keys (the AAD path) of each flat name's value. */
    readonly keyPaths: ReadonlyMap<string, readonly string[]>
}

export function flattenBranch(branch: Branch): FlatBranch {
    const items: Entry[] = []
    const keyPaths = new Map<string, readonly string[]>()
    for (const leaf of flatLeaves(branch, "rename one of the keys, or load the file without flatten")) {
        // An empty mapping or list holds no value to set.
        if (leaf.node.kind === "map" || leaf.node.kind === "list") continue
        keyPaths.set(leaf.name, leaf.aadPath)
        items.push(entry(leaf.name, leaf.node))
    }
    return { branch: map(...items), keyPaths }
}
