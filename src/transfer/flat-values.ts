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
import { ExitCode, SecretsError } from "../errors.js"
import type { Branch } from "../core/tree.js"
import { describePath } from "../core/tree-path.js"
import { flatLeaves } from "../core/flat-names.js"
import { valueToString } from "../stores/flatten.js"

export { FLAT_SEPARATOR } from "../core/flat-names.js"

export interface FlatValues {
    readonly pairs: readonly (readonly [name: string, value: string])[]
    /** Key paths left out (null or empty), in index syntax. */
    readonly skipped: readonly string[]
}

export function flatValues(doc: Branch): FlatValues {
    const pairs: [string, string][] = []
    const skipped: string[] = []
    for (const leaf of flatLeaves(doc, "rename one of the keys, or export with --format json or yaml, which keep the nesting")) {
        const node = leaf.node
        if (node.kind === "null" || node.kind === "map" || node.kind === "list") {
            skipped.push(describePath(leaf.path))
        } else if (node.kind === "bytes") {
            throw new SecretsError(ExitCode.Generic, `the value at ${describePath(leaf.path)} is not UTF-8 text and cannot be exported as text`)
        } else {
            pairs.push([leaf.name, valueToString(node)])
        }
    }
    return { pairs, skipped }
}
