import type { Node } from "../../src/core/tree.js"

/**
 * A plain JavaScript view of a decrypted tree, for comparing with the JSON
 * plaintexts in the interop folder: comments are dropped, int64 values that fit a
 * double become numbers, and bytes become UTF-8 text.
 */
export function treeToJs(node: Node): unknown {
    switch (node.kind) {
        case "map": {
            const out: Record<string, unknown> = {}
            for (const item of node.items) if (item.kind === "entry") out[item.key] = treeToJs(item.value)
            return out
        }
        case "list":
            return node.items.flatMap((i) => (i.kind === "comment" ? [] : [treeToJs(i)]))
        case "str":
        case "time":
            return node.value
        case "bytes":
            return new TextDecoder().decode(node.value)
        case "int":
            return Number(node.value)
        case "float":
        case "bool":
            return node.value
        case "null":
            return null
    }
}
