/**
 * The 3-way merge of decrypted trees (src/core/tree-merge.ts), for the git merge
 * driver of issue 15: the laws a merge must keep, checked on random trees and
 * random edits, then the rules one case at a time (deletes, lists, order,
 * comments, several documents).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sameNode } from "../../../src/core/same-node.js"
import { mergeDocuments, mergeTree } from "../../../src/core/tree-merge.js"
import { getAt, setAt, unsetAt } from "../../../src/core/tree-path.js"
import { bool, comment, entry, int, list, map, nil, str, type Branch, type MapItem, type Node } from "../../../src/core/tree.js"
import { treeToJs } from "../../helpers/tree-to-js.js"

// Few keys and few values, so that random edits often meet at the same path.
const KEYS = ["a", "b", "c"] as const
const leaf: fc.Arbitrary<Node> = fc.oneof(
    fc.constantFrom("1", "2", "3").map(str),
    fc.constantFrom(1, 2).map((n) => int(n)),
    fc.constant(bool(true)),
    fc.constant(nil),
    fc.constantFrom(list(str("1"), str("2")), list(str("2")), list(str("1"), comment("c"), str("2"))),
)

function mapping(depth: number): fc.Arbitrary<Branch> {
    const value: fc.Arbitrary<Node> = depth === 0 ? leaf : fc.oneof({ weight: 2, arbitrary: leaf }, { weight: 1, arbitrary: mapping(depth - 1) })
    return fc
        .tuple(
            fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), value), { selector: (t) => t[0], maxLength: 3 }),
            fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        )
        .map(([entries, comments]) => {
            const items: MapItem[] = []
            entries.forEach(([k, v], i) => {
                if (comments[i] === true) items.push(comment(` about ${k}`))
                items.push(entry(k, v))
            })
            return map(...items)
        })
}

const tree = mapping(2)
const path = fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 })
type Edit = { path: string[]; value: Node | undefined }
const edit: fc.Arbitrary<Edit> = fc.record({ path, value: fc.option(fc.oneof(leaf, mapping(1)), { nil: undefined }) })

/** `t` with the edit applied (a set, or a delete when value is undefined); undefined when it cannot apply. */
function apply(t: Branch, e: Edit): Branch | undefined {
    try {
        return e.value === undefined ? (unsetAt(t, e.path) ?? t) : setAt(t, e.path, e.value)
    } catch {
        return undefined // a step through a scalar or a list: not an edit a user could make
    }
}

function applyAll(t: Branch, edits: readonly Edit[]): Branch {
    return edits.reduce((acc, e) => apply(acc, e) ?? acc, t)
}

const edited = fc.tuple(tree, fc.array(edit, { maxLength: 3 })).map(([b, es]) => applyAll(b, es))

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
    return a.length <= b.length && a.every((k, i) => b[i] === k)
}

/** Exactly the same tree: values, types, order and comments. */
function expectSame(actual: Node, expected: Node): void {
    expect(sameNode(actual, expected), `${JSON.stringify(treeToJs(actual))} vs ${JSON.stringify(treeToJs(expected))}`).toBe(true)
}

describe("mergeTree: laws on random trees", () => {
    it("takes the only side that changed, and either when both made the same change", () => {
        fc.assert(
            fc.property(tree, fc.array(edit, { maxLength: 3 }), (b, edits) => {
                const x = applyAll(b, edits)
                for (const [r, want] of [
                    [mergeTree(b, x, b), x],
                    [mergeTree(b, b, x), x],
                    [mergeTree(b, x, x), x],
                ] as const) {
                    expectSame(r.tree, want)
                    expect(r.conflicts).toEqual([])
                }
            }),
            { numRuns: 300 },
        )
    })

    it("reports the same conflicts whichever side is ours, and merges to the same values when there are none", () => {
        fc.assert(
            fc.property(tree, fc.array(edit, { maxLength: 3 }), fc.array(edit, { maxLength: 3 }), (b, ex, ey) => {
                const x = applyAll(b, ex)
                const y = applyAll(b, ey)
                const xy = mergeTree(b, x, y)
                const yx = mergeTree(b, y, x)
                expect(new Set(xy.conflicts)).toEqual(new Set(yx.conflicts))
                expect(new Set(xy.conflicts).size).toBe(xy.conflicts.length)
                if (xy.conflicts.length === 0) expect(treeToJs(xy.tree)).toEqual(treeToJs(yx.tree))
            }),
            { numRuns: 500 },
        )
    })

    it("merges edits at disjoint key paths without a conflict, and the result holds both", () => {
        let checked = 0
        fc.assert(
            fc.property(tree, edit, edit, (b, e1, e2) => {
                fc.pre(!isPrefix(e1.path, e2.path) && !isPrefix(e2.path, e1.path))
                const x = apply(b, e1)
                const y = apply(b, e2)
                fc.pre(x !== undefined && y !== undefined)
                const r = mergeTree(b, x!, y!)
                expect(r.conflicts).toEqual([])
                // Disjoint edits commute, so applying both in turn is the answer (key order aside).
                const both = apply(x!, e2)!
                expect(treeToJs(r.tree)).toEqual(treeToJs(both))
                const at1 = getAt(r.tree, e1.path)
                const want1 = getAt(x!, e1.path)
                expect(at1 === undefined ? undefined : treeToJs(at1)).toEqual(want1 === undefined ? undefined : treeToJs(want1))
                checked++
            }),
            { numRuns: 500 },
        )
        expect(checked).toBeGreaterThan(100) // most generated pairs were real cases, not skipped
    })

    it("conflicts exactly when both sides changed the same leaf differently", () => {
        fc.assert(
            fc.property(tree, path, leaf, leaf, (b, p, v1, v2) => {
                const x = apply(b, { path: p, value: v1 })
                const y = apply(b, { path: p, value: v2 })
                fc.pre(x !== undefined && y !== undefined)
                const before = getAt(b, p)
                const r = mergeTree(b, x!, y!)
                // A change to a list's comments alone is no change to conflict over.
                const bare = (n: Node) => withoutListComments(n)
                const changed = (v: Node) => before === undefined || !sameNode(bare(before), bare(v))
                const label = p.map((k) => `["${k}"]`).join("")
                if (changed(v1) && changed(v2) && !sameNode(bare(v1), bare(v2))) {
                    expect(r.conflicts).toEqual([label])
                    expectSame(getAt(r.tree, p)!, v1) // ours is kept
                } else {
                    expect(r.conflicts).toEqual([])
                }
            }),
            { numRuns: 300 },
        )
    })
})

function withoutListComments(n: Node): Node {
    return n.kind === "list" ? list(...n.items.filter((i) => i.kind !== "comment")) : n
}

const doc = (...items: MapItem[]) => map(...items)

function keysOf(b: Branch): string[] {
    return b.items.map((i) => (i.kind === "entry" ? i.key : `#${i.text}`))
}

describe("mergeTree: the rules case by case", () => {
    const base = doc(entry("user", str("app")), entry("password", str("old")), entry("db", doc(entry("host", str("h1")), entry("port", int(5432)))))

    it("merges a change on each side at different keys, nested ones too", () => {
        const ours = setAt(base, ["password"], str("new"))
        const theirs = setAt(base, ["db", "host"], str("h2"))
        const r = mergeTree(base, ours, theirs)
        expect(r.conflicts).toEqual([])
        expect(treeToJs(r.tree)).toEqual({ user: "app", password: "new", db: { host: "h2", port: 5432 } })
    })

    it("names the conflicting key paths in index syntax and keeps ours' value there", () => {
        const ours = setAt(setAt(base, ["db", "host"], str("ours")), ["password"], str("p1"))
        const theirs = setAt(setAt(base, ["db", "host"], str("theirs")), ["password"], str("p2"))
        const r = mergeTree(base, ours, theirs)
        expect(r.conflicts).toEqual(['["password"]', '["db"]["host"]'])
        expect(treeToJs(r.tree)).toEqual({ user: "app", password: "p1", db: { host: "ours", port: 5432 } })
    })

    it("deletes a key deleted on one side and unchanged on the other, on either side", () => {
        const without = unsetAt(base, ["password"])!
        for (const r of [mergeTree(base, without, base), mergeTree(base, base, without), mergeTree(base, without, setAt(base, ["user"], str("u")))]) {
            expect(r.conflicts).toEqual([])
            expect(getAt(r.tree, ["password"])).toBeUndefined()
        }
    })

    it("conflicts when one side deletes a key the other changed (ours wins: kept or gone)", () => {
        const deleted = unsetAt(base, ["db", "port"])!
        const changed = setAt(base, ["db", "port"], int(6432))
        const a = mergeTree(base, deleted, changed)
        expect(a.conflicts).toEqual(['["db"]["port"]'])
        expect(getAt(a.tree, ["db", "port"])).toBeUndefined()
        const b = mergeTree(base, changed, deleted)
        expect(b.conflicts).toEqual(['["db"]["port"]'])
        expect(getAt(b.tree, ["db", "port"])).toEqual(int(6432))
    })

    it("treats a list as one value: changed on one side it is taken, changed on both differently it conflicts", () => {
        const b = doc(entry("hosts", list(str("a"), str("b"))), entry("x", str("1")))
        const one = mergeTree(b, setAt(b, ["x"], str("2")), setAt(b, ["hosts"], list(str("a"), str("b"), str("c"))))
        expect(one.conflicts).toEqual([])
        expect(treeToJs(one.tree)).toEqual({ hosts: ["a", "b", "c"], x: "2" })
        const both = mergeTree(b, setAt(b, ["hosts"], list(str("a"))), setAt(b, ["hosts"], list(str("b"))))
        expect(both.conflicts).toEqual(['["hosts"]'])
        expect(treeToJs(both.tree)).toEqual({ hosts: ["a"], x: "1" })
    })

    it("does not conflict over a comment inside a list: the other side's value change wins", () => {
        const b = doc(entry("hosts", list(str("a"), str("b"))))
        const commented = doc(entry("hosts", list(str("a"), comment(" primary"), str("b"))))
        const r = mergeTree(b, commented, doc(entry("hosts", list(str("c")))))
        expect(r.conflicts).toEqual([])
        expect(treeToJs(r.tree)).toEqual({ hosts: ["c"] })
    })

    it("conflicts when a mapping became a scalar on one side and changed inside on the other", () => {
        const r = mergeTree(base, setAt(base, ["db"], str("sqlite")), setAt(base, ["db", "port"], int(1)))
        expect(r.conflicts).toEqual(['["db"]'])
        expect(getAt(r.tree, ["db"])).toEqual(str("sqlite"))
    })

    it("adds a key both sides added with the same value once; different values conflict", () => {
        const same = mergeTree(base, setAt(base, ["token"], str("t")), setAt(base, ["token"], str("t")))
        expect(same.conflicts).toEqual([])
        expect(keysOf(same.tree)).toEqual(["user", "password", "db", "token"])
        expect(mergeTree(base, setAt(base, ["token"], str("t1")), setAt(base, ["token"], str("t2"))).conflicts).toEqual(['["token"]'])
    })

    it("puts ours' keys in ours' order and a key new in theirs after its predecessor in theirs", () => {
        const b = doc(entry("a", str("1")), entry("b", str("1")), entry("c", str("1")))
        const ours = doc(entry("c", str("1")), entry("a", str("2")), entry("b", str("1")))
        const theirs = doc(entry("a", str("1")), entry("new1", str("n")), entry("new2", str("n")), entry("b", str("1")), entry("c", str("1")), entry("last", str("l")))
        const r = mergeTree(b, ours, theirs)
        expect(r.conflicts).toEqual([])
        expect(keysOf(r.tree)).toEqual(["c", "last", "a", "new1", "new2", "b"])
    })

    it("puts a new key whose predecessors are all gone at the end, and never between a key and its inline comment", () => {
        const b = doc(entry("a", str("1")), entry("b", str("1")), entry("z", str("1")))
        const ours = doc(entry("b", str("1")), comment(" b's note", true), comment(" about z"), entry("z", str("2")))
        const theirs = doc(entry("first", str("f")), entry("a", str("1")), entry("b", str("1")), entry("after-b", str("n")), entry("z", str("1")))
        const r = mergeTree(b, ours, theirs)
        expect(r.conflicts).toEqual([])
        expect(keysOf(r.tree)).toEqual(["b", "# b's note", "after-b", "# about z", "z", "first"])
        // `a` was deleted by ours and unchanged by theirs: gone.
        expect(getAt(r.tree, ["a"])).toBeUndefined()
    })

    it("keeps ours' comments where both sides changed a mapping, and theirs' whole mapping where only theirs did", () => {
        const b = doc(entry("a", str("1")), entry("b", str("1")))
        const ours = doc(comment(" ours"), entry("a", str("2")), entry("b", str("1")))
        const theirs = doc(comment(" theirs"), entry("a", str("1")), entry("b", str("2")))
        expect(keysOf(mergeTree(b, ours, theirs).tree)).toEqual(["# ours", "a", "b"])
        expectSame(mergeTree(b, b, theirs).tree, theirs)
    })

    it("merges additions to a mapping both sides created, and with no ancestor at all", () => {
        const b = doc(entry("x", str("1")))
        const r = mergeTree(b, setAt(b, ["new", "k1"], str("1")), setAt(b, ["new", "k2"], str("2")))
        expect(r.conflicts).toEqual([])
        expect(treeToJs(r.tree)).toEqual({ x: "1", new: { k1: "1", k2: "2" } })
        const none = mergeTree(undefined, doc(entry("x", str("1")), entry("o", str("o"))), doc(entry("x", str("2")), entry("t", str("t"))))
        expect(none.conflicts).toEqual(['["x"]'])
        expect(treeToJs(none.tree)).toEqual({ x: "1", o: "o", t: "t" })
    })

    it("keeps repeated keys as ours wrote them and merges the first, the one that is read", () => {
        const b = doc(entry("k", str("1")), entry("k", str("dup")))
        const r2 = mergeTree(b, doc(entry("k", str("1")), entry("k", str("dup")), entry("o", str("o"))), doc(entry("k", str("2")), entry("k", str("dup"))))
        expect(r2.conflicts).toEqual([])
        expect(r2.tree.items).toEqual([entry("k", str("2")), entry("k", str("dup")), entry("o", str("o"))])
    })
})

describe("mergeTree at scale", () => {
    it("merges a mapping to which theirs added 300k keys (no per-key search, no spread of them as arguments)", () => {
        const b = doc(entry("a", str("1")), entry("b", str("1")))
        const items: MapItem[] = [entry("a", str("1"))]
        for (let i = 0; i < 300_000; i++) {
            if (i === 150_000) items.push(entry("b", str("1")))
            items.push(entry(`k${i}`, str("v")))
        }
        const theirs: Branch = { kind: "map", items }
        const r = mergeTree(b, setAt(b, ["a"], str("2")), theirs)
        expect(r.conflicts).toEqual([])
        expect(r.tree.items.length).toBe(300_002)
        expect(keysOf(r.tree).slice(0, 2)).toEqual(["a", "k0"])
        expect(keysOf(r.tree)[150_001]).toBe("b")
        expect(getAt(r.tree, ["a"])).toEqual(str("2"))
    })
})

describe("mergeDocuments", () => {
    const d1 = doc(entry("a", str("1")))
    const d2 = doc(entry("b", str("1")))

    it("merges document by document and numbers the documents in conflict paths", () => {
        const r = mergeDocuments([d1, d2], [setAt(d1, ["a"], str("2")), setAt(d2, ["b"], str("o"))], [d1, setAt(d2, ["b"], str("t"))])
        expect(r.documents.map(treeToJs)).toEqual([{ a: "2" }, { b: "o" }])
        expect(r.conflicts).toEqual(['document 2 ["b"]'])
    })

    it("labels paths without a document number in a one-document file", () => {
        expect(mergeDocuments([d1], [setAt(d1, ["a"], str("x"))], [setAt(d1, ["a"], str("y"))]).conflicts).toEqual(['["a"]'])
    })

    it("adds a document only theirs added, and deletes one ours deleted that theirs left alone", () => {
        expect(mergeDocuments([d1], [d1], [d1, d2]).documents.map(treeToJs)).toEqual([{ a: "1" }, { b: "1" }])
        expect(mergeDocuments([d1, d2], [d1], [setAt(d1, ["a"], str("2")), d2]).documents.map(treeToJs)).toEqual([{ a: "2" }])
        const r = mergeDocuments([d1, d2], [d1], [d1, setAt(d2, ["b"], str("2"))])
        expect(r.conflicts).toEqual(["document 2"])
    })

    it("merges with no ancestor (an unreadable base)", () => {
        const r = mergeDocuments(undefined, [d1], [doc(entry("a", str("1")), entry("t", str("t")))])
        expect(r.conflicts).toEqual([])
        expect(r.documents.map(treeToJs)).toEqual([{ a: "1", t: "t" }])
    })
})
