/**
 * The first document of an opened file as flat NAME -> text pairs, for the export
 * formats that have no nesting (env, docker, k8s-secret): a nested key path is
 * joined with `__` (`db: {password: …}` is `db__password`, list items by index,
 * `hosts__0`), the convention of `secrets run --flatten` and of many config
 * loaders. Scalars are written as text the way sops' dotenv store writes them
 * (ValueToString: `1.0` stays `1.0`, booleans `true`/`false`).
 *
 * Refused, naming the key path (never the value): two paths that flatten to the
 * same name, and values that are not UTF-8 text. Nulls and empty mappings or lists
 * have no text: they are left out and reported, as exec-env leaves nulls out.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { Branch, Node } from "../core/tree.js"
import { describePath, type PathStep } from "../core/tree-path.js"
import { valueToString } from "../stores/flatten.js"

export const FLAT_SEPARATOR = "__"

export interface FlatValues {
    readonly pairs: readonly (readonly [name: string, value: string])[]
    /** Key paths left out (null or empty), in index syntax. */
    readonly skipped: readonly string[]
}

export function flatValues(doc: Branch): FlatValues {
    const pairs: [string, string][] = []
    const skipped: string[] = []
    const from = new Map<string, PathStep[]>()
    const walk = (node: Node, path: PathStep[]): void => {
        if (node.kind === "map" || node.kind === "list") {
            let index = 0
            let any = false
            for (const item of node.items) {
                if (item.kind === "comment") continue
                any = true
                if (item.kind === "entry") walk(item.value, [...path, item.key])
                else walk(item, [...path, index++])
            }
            if (!any && path.length > 0) skipped.push(describePath(path))
            return
        }
        if (node.kind === "null") {
            skipped.push(describePath(path))
            return
        }
        if (node.kind === "bytes") {
            throw new SecretsError(ExitCode.Generic, `the value at ${describePath(path)} is not UTF-8 text and cannot be exported as text`)
        }
        const name = path.map(String).join(FLAT_SEPARATOR)
        const earlier = from.get(name)
        if (earlier !== undefined) {
            throw new SecretsError(ExitCode.Generic, `${describePath(earlier)} and ${describePath(path)} both flatten to the name ${quote(name)}`, [
                "rename one of the keys, or export with --format json or yaml, which keep the nesting",
            ])
        }
        from.set(name, path)
        pairs.push([name, valueToString(node)])
    }
    walk(doc, [])
    return { pairs, skipped }
}
