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
import { entry, map, type Branch, type Entry, type Node } from "../core/tree.js"
import { ExitCode, SecretsError, quote } from "../errors.js"

export const FLAT_SEPARATOR = "__"

export interface FlatBranch {
    /** One entry per leaf, in file order; nested mappings and lists are gone. */
    readonly branch: Branch
    /** The mapping keys (the AAD path) of each flat name's value. */
    readonly keyPaths: ReadonlyMap<string, readonly string[]>
}

export function flattenBranch(branch: Branch): FlatBranch {
    const items: Entry[] = []
    const keyPaths = new Map<string, readonly string[]>()
    const from = new Map<string, string>()
    const visit = (node: Node, name: string, keys: readonly string[], label: string): void => {
        if (node.kind === "map") {
            for (const item of node.items) {
                if (item.kind !== "entry") continue
                visit(item.value, `${name}${FLAT_SEPARATOR}${item.key}`, [...keys, item.key], `${label}[${JSON.stringify(item.key)}]`)
            }
            return
        }
        if (node.kind === "list") {
            let i = 0
            for (const item of node.items) {
                if (item.kind === "comment") continue
                visit(item, `${name}${FLAT_SEPARATOR}${i}`, keys, `${label}[${i}]`)
                i++
            }
            return
        }
        const earlier = from.get(name)
        if (earlier !== undefined) {
            // `a__b: x` beside `a: {b: y}`: which one wins would depend on key order.
            throw new SecretsError(ExitCode.Generic, `${earlier} and ${label} both flatten to the variable ${quote(name)}`, [
                "rename one of the keys, or load the file without flatten",
            ])
        }
        from.set(name, label)
        keyPaths.set(name, keys)
        items.push(entry(name, node))
    }
    for (const item of branch.items) {
        if (item.kind !== "entry") continue
        visit(item.value, item.key, [item.key], `[${JSON.stringify(item.key)}]`)
    }
    return { branch: map(...items), keyPaths }
}
