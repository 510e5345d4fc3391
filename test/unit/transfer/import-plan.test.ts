/**
 * The upsert of `secrets import` (src/transfer/import-plan.ts): which key paths are
 * added, updated, unchanged and deleted, --at, and the reserved `sops` keys.
 */
import { describe, expect, it } from "vitest"
import { comment, entry, int, list, map, str } from "../../../src/core/tree.js"
import { planImport } from "../../../src/transfer/import-plan.js"
import { treeToJs } from "../../helpers/tree-to-js.js"

const opts = { at: [], deleteMissing: false, dotenv: false }

describe("planImport", () => {
    const current = map(comment(" keep me"), entry("A", str("1")), entry("B", str("old")), entry("db", map(entry("user", str("u")), entry("port", int(5432)))))

    it("adds new keys, replaces changed ones, leaves equal ones, and keeps comments and order", () => {
        const imported = map(entry("A", str("1")), entry("B", str("new")), entry("C", str("3")), entry("db", map(entry("user", str("u2")))))
        const r = planImport(current, imported, opts)
        expect(r.summary).toEqual({ added: ['["C"]'], updated: ['["B"]', '["db"]["user"]'], unchanged: ['["A"]'], deleted: [] })
        expect(r.changed).toBe(true)
        expect(r.doc.items[0]).toEqual(comment(" keep me"))
        expect(treeToJs(r.doc)).toEqual({ A: "1", B: "new", db: { user: "u2", port: 5432 }, C: "3" })
    })

    it("counts a type change as an update (the string \"5432\" is not the int 5432)", () => {
        const r = planImport(current, map(entry("db", map(entry("port", str("5432"))))), opts)
        expect(r.summary.updated).toEqual(['["db"]["port"]'])
    })

    it("changes nothing when every value is already there", () => {
        const r = planImport(current, map(entry("A", str("1")), entry("db", map(entry("port", int(5432))))), opts)
        expect(r.changed).toBe(false)
        expect(r.doc).toBe(current)
    })

    it("with deleteMissing removes the leaves the source lacks, and only under --at", () => {
        const all = planImport(current, map(entry("A", str("1"))), { ...opts, deleteMissing: true })
        expect(all.summary.deleted).toEqual(['["B"]', '["db"]["user"]', '["db"]["port"]'])
        expect(treeToJs(all.doc)).toEqual({ A: "1", db: {} })

        const under = planImport(current, map(entry("user", str("u"))), { ...opts, at: ["db"], deleteMissing: true })
        expect(under.summary).toEqual({ added: [], updated: [], unchanged: ['["db"]["user"]'], deleted: ['["db"]["port"]'] })
        expect(treeToJs(under.doc)).toEqual({ A: "1", B: "old", db: { user: "u" } })
    })

    it("imports under --at, creating the mappings on the way", () => {
        const r = planImport(current, map(entry("K", str("v"))), { ...opts, at: ["apps", "web"] })
        expect(r.summary.added).toEqual(['["apps"]["web"]["K"]'])
        expect(treeToJs(r.doc)).toMatchObject({ apps: { web: { K: "v" } } })
    })

    it("replaces a list whole", () => {
        const r = planImport(map(entry("L", list(str("a"), str("b")))), map(entry("L", list(str("a")))), opts)
        expect(r.summary.updated).toEqual(['["L"]'])
        expect(treeToJs(r.doc)).toEqual({ L: ["a"] })
    })

    it("refuses the metadata keys: sops anywhere, sops_ in a dotenv file, and --at under a value or with an index", () => {
        expect(() => planImport(current, map(entry("sops", str("x"))), opts)).toThrow('the top-level key "sops" is reserved')
        expect(() => planImport(current, map(entry("sops_mac", str("x"))), { ...opts, dotenv: true })).toThrow('"sops_mac" is reserved')
        expect(planImport(current, map(entry("sops_mac", str("x"))), opts).summary.added).toEqual(['["sops_mac"]'])
        expect(() => planImport(current, map(entry("K", str("v"))), { ...opts, at: ["A"] })).toThrow('["A"] holds a value, not a mapping')
        expect(() => planImport(current, map(entry("K", str("v"))), { ...opts, at: ["db", 0] })).toThrow("mapping keys only")
    })
})
