/**
 * Several documents as one (`secrets export --profile`, issue 13 point 3): the
 * files of a profile in order, a later file's value replacing an earlier one's at
 * the same key path, mappings merged key by key, so that `db.host` from one file
 * and `db.password` from the next both survive, as their flattened names
 * (`DB__HOST`, `DB__PASSWORD`) do under `secrets run --profile`. A list or a
 * scalar is replaced whole. Comments are dropped: the result is exported, not
 * written back.
 */
import type { Branch, Entry, Mapping, Node } from "./tree.js"

export function mergeTrees(docs: readonly Branch[]): Branch {
    let out: Mapping = { kind: "map", items: [] }
    for (const doc of docs) out = mergeMaps(out, doc)
    return out
}

function mergeMaps(base: Mapping, over: Mapping): Mapping {
    const items: Entry[] = base.items.filter((i): i is Entry => i.kind === "entry")
    const index = new Map(items.map((e, i) => [e.key, i]))
    for (const item of over.items) {
        if (item.kind !== "entry") continue
        const at = index.get(item.key)
        if (at === undefined) {
            index.set(item.key, items.push(item) - 1)
            continue
        }
        items[at] = { ...item, value: merged(items[at]!.value, item.value) }
    }
    return { kind: "map", items }
}

function merged(old: Node, next: Node): Node {
    return old.kind === "map" && next.kind === "map" ? mergeMaps(old, next) : next
}
