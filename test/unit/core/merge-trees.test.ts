/**
 * `export --profile` merges the profile's files (src/core/merge-trees.ts): a later
 * file's value wins at the same key path and mappings merge key by key, so the
 * flat names it exports are exactly the ones `run --profile --flatten` would set
 * from the same files, last file winning per name. Checked by property against
 * that per-name rule.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { mergeTrees } from "../../../src/core/merge-trees.js"
import { str, type Branch, type Node } from "../../../src/core/tree.js"

const entry = (key: string, value: Node) => ({ kind: "entry" as const, key, value })
const map = (...items: ReturnType<typeof entry>[]): Branch => ({ kind: "map", items })

/** Flat names of a tree's leaves (maps only), `a__b`. */
function flat(node: Node, prefix = ""): Map<string, string> {
    const out = new Map<string, string>()
    if (node.kind !== "map") {
        out.set(prefix, node.kind === "str" ? node.value : node.kind)
        return out
    }
    for (const item of node.items) {
        if (item.kind !== "entry") continue
        for (const [k, v] of flat(item.value, prefix === "" ? item.key : `${prefix}__${item.key}`)) out.set(k, v)
    }
    return out
}

describe("mergeTrees", () => {
    it("merges mappings key by key and lets a later scalar or list replace the whole value", () => {
        const merged = mergeTrees([
            map(entry("db", map(entry("host", str("a")), entry("port", str("1")))), entry("list", { kind: "list", items: [str("x")] })),
            map(entry("db", map(entry("password", str("p")), entry("port", str("2")))), entry("list", str("now a string"))),
        ])
        expect(merged).toEqual(
            map(entry("db", map(entry("host", str("a")), entry("port", str("2")), entry("password", str("p")))), entry("list", str("now a string"))),
        )
    })

    it("gives every flat name the value of the last file that has it, when no key is both a mapping and a value", () => {
        // Trees over a small key set, leaves at a fixed depth, so a key is a mapping in every file or a value in every file.
        const leaf = fc.string({ minLength: 1, maxLength: 4 }).map(str)
        const tree = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.dictionary(fc.constantFrom("x", "y", "z"), leaf))
        const toBranch = (d: Record<string, Record<string, Node>>): Branch =>
            map(...Object.entries(d).map(([k, inner]) => entry(k, map(...Object.entries(inner).map(([k2, v]) => entry(k2, v))))))
        fc.assert(
            fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), (docs) => {
                const branches = docs.map(toBranch)
                const expected = new Map<string, string>()
                for (const b of branches) for (const [k, v] of flat(b)) expected.set(k, v)
                const got = flat(mergeTrees(branches))
                // Empty inner mappings flatten to nothing in both.
                expect(new Map([...got].filter(([, v]) => v !== "map"))).toEqual(new Map([...expected].filter(([, v]) => v !== "map")))
            }),
            { seed: 13, numRuns: 200 },
        )
    })
})
