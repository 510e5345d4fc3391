import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseMapping } from "../../../src/sync/mapping.js"
import { applyPlan, formatPlan, isEmptyPlan, planSync, planToJson, type WantedValue } from "../../../src/sync/plan.js"
import { entry, int, map, str, comment, type Branch } from "../../../src/core/tree.js"
import { getAt } from "../../../src/core/tree-path.js"
import { thrown } from "../../helpers/errors.js"

describe("parseMapping", () => {
    it("reads nested and flat forms into key paths and parsed references", () => {
        const m = parseMapping(`db:\n  password: op://Prod/db/password\n  host: op://Prod/db/conn/host\n'["hosts"][0]': op://Prod/h/url?attribute=value\n`, "m.yaml")
        expect(m.map((x) => [x.path, x.reference.vault, x.reference.item, x.reference.section, x.reference.field, x.reference.query])).toEqual([
            [["db", "password"], "Prod", "db", undefined, "password", undefined],
            [["db", "host"], "Prod", "db", "conn", "host", undefined],
            [["hosts", 0], "Prod", "h", undefined, "url", "attribute=value"],
        ])
    })

    it("reads JSON too", () => {
        expect(parseMapping(`{"a": {"b": "op://V/i/f"}}`, "m.json").map((x) => x.path)).toEqual([["a", "b"]])
    })

    it.each([
        ["db:\n  password: hunter2-secret\n", 'mapping "m.yaml": ["db"]["password"] is not an op:// reference'],
        ["db:\n  port: 5432\n", 'mapping "m.yaml": ["db"]["port"] must be an op:// reference, not a number'],
        ["db: [op://V/i/f]\n", 'mapping "m.yaml": ["db"] is a list; lists are not supported in a mapping'],
        ["db: op://V/i\n", `mapping "m.yaml": ["db"]: invalid secret reference 'op://V/i': too few '/': secret references should have at least vault, item and field specified`],
        ["db: {}\n", 'mapping "m.yaml": ["db"] is an empty mapping'],
        ["", 'mapping "m.yaml" is empty'],
        ["- a\n", 'mapping "m.yaml" must be a mapping of keys to op:// references'],
        [`db: {password: op://V/i/f}\n'["db"]["password"]': op://V/i/g\n`, 'mapping "m.yaml" names ["db"]["password"] twice'],
        [`'["db"]': op://V/i/f\ndb2: {x: op://V/i/g}\n'["db"]["x"]': op://V/i/h\n`, 'mapping "m.yaml": ["db"] is a reference and also holds ["db"]["x"]'],
        [`'[db]': op://V/i/f\n`, 'mapping "m.yaml": the key "[db]" starts with [ but is not an index path like ["db"]["password"]'],
    ])("refuses %j", (text, message) => {
        expect(thrown(() => parseMapping(text, "m.yaml")).message).toBe(message)
    })

    it("gives syntax errors by position, without quoting the text", () => {
        const e = thrown(() => parseMapping(`a: op://V/i/f\nb: "s3cr3t-unterminated\n`, "m.yaml"))
        expect(e.message).toMatch(/^mapping "m\.yaml" is not valid YAML or JSON \(.+ at line \d+, column \d+\)$/)
        expect(e.message).not.toContain("s3cr3t")
    })
})

const w = (path: (string | number)[], value: string): WantedValue => ({ path, value, source: `op://V/${String(path[0])}/x` })

describe("planSync / applyPlan", () => {
    const current: Branch = map(
        comment(" header"),
        entry("db", map(entry("password", str("old")), entry("user", str("admin")), entry("legacy", str("x")))),
        entry("port", int(5432)),
        entry("mine", str("hand-set")),
    )

    it("classifies added, changed (a number is changed by a string) and unchanged paths", () => {
        const plan = planSync(current, [w(["db", "password"], "new"), w(["db", "user"], "admin"), w(["port"], "5432"), w(["api", "token"], "t")])
        expect(formatPlan(plan)).toEqual(['+ ["api"]["token"]', '~ ["db"]["password"]', '~ ["port"]'])
        expect(plan.unchanged).toBe(1)
        expect(planToJson(plan)).toEqual({ added: [["api", "token"]], changed: [["db", "password"], ["port"]], removed: [], unchanged: 1 })
    })

    it("prunes only inside the scopes, whole subtrees at once, never the sops key", () => {
        const withSops = map(...current.items, entry("sops", map(entry("version", str("3.13.0")))), entry("old", map(entry("a", str("1")))))
        const wanted = [w(["db", "password"], "old")]
        expect(formatPlan(planSync(withSops, wanted, [{ path: ["db"] }]))).toEqual(['- ["db"]["user"]', '- ["db"]["legacy"]'])
        expect(formatPlan(planSync(withSops, wanted, [{ path: [] }]))).toEqual(['- ["db"]["user"]', '- ["db"]["legacy"]', '- ["port"]', '- ["mine"]', '- ["old"]'])
        expect(formatPlan(planSync(withSops, wanted, [{ path: [], keyPrefix: "m" }]))).toEqual(['- ["mine"]'])
        expect(formatPlan(planSync(withSops, wanted))).toEqual([])
    })

    it("applies in place: order and comments kept, new keys appended", () => {
        const wanted = [w(["db", "password"], "new"), w(["api", "token"], "t")]
        const plan = planSync(current, wanted, [{ path: ["db"] }])
        const out = applyPlan(current, plan, wanted)
        expect(out).toEqual(
            map(comment(" header"), entry("db", map(entry("password", str("new")))), entry("port", int(5432)), entry("mine", str("hand-set")), entry("api", map(entry("token", str("t"))))),
        )
    })

    it("property: after applying a plan, planning again finds nothing, and every wanted value is there", () => {
        const key = fc.constantFrom("a", "b", "c", "d")
        const path = fc.array(key, { minLength: 1, maxLength: 3 })
        const leafTree = fc.array(fc.tuple(path, fc.string()), { maxLength: 8 })
        fc.assert(
            fc.property(leafTree, leafTree, fc.boolean(), (start, want, prune) => {
                // Drop paths that are prefixes of others: a key cannot be a value and a mapping.
                const clean = (xs: [string[], string][]) => {
                    const out: [string[], string][] = []
                    for (const [p, v] of xs) {
                        const s = p.join("/")
                        if (out.some(([q]) => q.join("/") === s || q.join("/").startsWith(`${s}/`) || s.startsWith(`${q.join("/")}/`))) continue
                        out.push([p, v])
                    }
                    return out
                }
                const startTree = applyPlan(undefined, planSync(undefined, clean(start).map(([p, v]) => w(p, v))), clean(start).map(([p, v]) => w(p, v)))
                const wanted = clean(want).map(([p, v]) => w(p, v))
                let plan
                try {
                    plan = planSync(startTree, wanted, prune ? [{ path: [] }] : [])
                    const next = applyPlan(startTree, plan, wanted)
                    expect(isEmptyPlan(planSync(next, wanted, prune ? [{ path: [] }] : []))).toBe(true)
                    for (const x of wanted) expect(getAt(next, x.path)).toEqual(str(x.value))
                } catch (e) {
                    // A wanted path through a value the file holds as a string is refused, not overwritten.
                    expect((e as Error).message).toMatch(/is not a mapping$/)
                }
            }),
            { numRuns: 300 },
        )
    })
})
