/**
 * Nested values as flat names: a key path joined with `__` (`db: {password: …}` is
 * `db__password`, the second item of `hosts` is `hosts__1`), the convention of
 * docker compose, ASP.NET and many config loaders. One walk for every place that
 * needs it (`run --flatten`, `export` to env/docker/k8s, the Node API's
 * `flatten`), so that they name the same value the same way.
 *
 * Two key paths that flatten to one name (`a__b: x` beside `a: {b: y}`) are
 * refused, naming both paths and never a value: which one won would depend on key
 * order, and a silently dropped secret is worse than an error.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { Branch, Node } from "./tree.js"
import { describePath, type PathStep } from "./tree-path.js"

export const FLAT_SEPARATOR = "__"

export interface FlatLeaf {
    /** The flat name: the key path's keys and list indexes joined with `__`. */
    readonly name: string
    /** The key path, mapping keys and list indexes, as `set` and `--extract` take it. */
    readonly path: readonly PathStep[]
    /**
     * The mapping keys only: a value's AAD (sops leaves list positions out), which
     * says whether a value was decrypted under its own key path.
     */
    readonly aadPath: readonly string[]
    /** A scalar, or an empty mapping or list (no value to give; callers report it). */
    readonly node: Node
}

/** Every leaf of `doc` below its top level, in file order; `hint` ends a collision's error. */
export function flatLeaves(doc: Branch, hint = "rename one of the keys"): FlatLeaf[] {
    const out: FlatLeaf[] = []
    const from = new Map<string, readonly PathStep[]>()
    const visit = (node: Node, path: PathStep[], aadPath: string[]): void => {
        if (node.kind === "map" || node.kind === "list") {
            let index = 0
            let any = false
            for (const item of node.items) {
                if (item.kind === "comment") continue
                any = true
                if (item.kind === "entry") visit(item.value, [...path, item.key], [...aadPath, item.key])
                else visit(item, [...path, index++], aadPath)
            }
            if (any || path.length === 0) return
        }
        const name = path.map(String).join(FLAT_SEPARATOR)
        const earlier = from.get(name)
        if (earlier !== undefined) {
            throw new SecretsError(ExitCode.Generic, `${describePath(earlier)} and ${describePath(path)} both flatten to the name ${quote(name)}`, [hint])
        }
        from.set(name, path)
        out.push({ name, path, aadPath, node })
    }
    visit(doc, [], [])
    return out
}
