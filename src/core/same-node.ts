/**
 * Structural equality of document nodes, types included: the test of "unchanged"
 * for `set --idempotent` and `secrets import` (an unchanged value is not rewritten,
 * so it keeps its ciphertext). A copy of the function in src/cli/commands/set.ts,
 * moved below the CLI so that src/transfer can use it; set.ts can import it from here.
 */
import type { Node } from "./tree.js"

/** Structural equality of two nodes, types included (int 5 is not float 5). */
export function sameNode(a: Node, b: Node): boolean {
    if (a.kind !== b.kind) return false
    switch (a.kind) {
        case "null":
            return true
        case "str":
        case "int":
        case "bool":
        case "time":
            return a.value === (b as typeof a).value
        case "float":
            return Object.is(a.value, (b as typeof a).value)
        case "bytes": {
            const bv = (b as typeof a).value
            return a.value.length === bv.length && a.value.every((x, i) => x === bv[i])
        }
        case "map": {
            const bm = b as typeof a
            return (
                a.items.length === bm.items.length &&
                a.items.every((it, i) => {
                    const other = bm.items[i]
                    if (other === undefined || it.kind !== other.kind) return false
                    if (it.kind === "comment") return other.kind === "comment" && it.text === other.text
                    return other.kind === "entry" && it.key === other.key && sameNode(it.value, other.value)
                })
            )
        }
        case "list": {
            const bl = b as typeof a
            return (
                a.items.length === bl.items.length &&
                a.items.every((it, i) => {
                    const other = bl.items[i]
                    if (other === undefined) return false
                    if (it.kind === "comment" || other.kind === "comment") {
                        return it.kind === "comment" && other.kind === "comment" && it.text === other.text
                    }
                    return sameNode(it, other)
                })
            )
        }
    }
}
