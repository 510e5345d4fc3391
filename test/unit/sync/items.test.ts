import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { OpClient, OpItem, OpItemTemplate } from "../../../src/integrations/op-types.js"
import { envName, fetchItems, itemScopes, itemsToWanted } from "../../../src/sync/from-items.js"
import { findField, resolveMapping } from "../../../src/sync/resolve.js"
import { parseMapping } from "../../../src/sync/mapping.js"
import { planItem, targetsFromFile, targetsFromMapping, targetsFromTopLevel } from "../../../src/sync/to-items.js"
import { applyPlan, planSync } from "../../../src/sync/plan.js"
import { entry, int, map, str } from "../../../src/core/tree.js"
import { thrown } from "../../helpers/errors.js"

const VAULT = { id: "vvvvvvvvvvvvvvvvvvvvvvvvvv", name: "Prod" }

function dbItem(): OpItem {
    return {
        id: "iiiiiiiiiiiiiiiiiiiiiiiiii",
        title: "db",
        version: 3,
        vault: VAULT,
        category: "LOGIN",
        sections: [{ id: "Section_abc", label: "conn" }, { id: "add more" }],
        fields: [
            { id: "username", type: "STRING", purpose: "USERNAME", label: "username", value: "admin", reference: "op://Prod/db/username" },
            { id: "password", type: "CONCEALED", purpose: "PASSWORD", label: "password", value: "pw1", reference: "op://Prod/db/password" },
            { id: "notesPlain", type: "STRING", purpose: "NOTES", label: "notesPlain" },
            { id: "f1", type: "STRING", label: "host", value: "h1", section: { id: "Section_abc", label: "conn" } },
            { id: "f2", type: "CONCEALED", label: "password", value: "pw2", section: { id: "Section_abc", label: "conn" } },
            { id: "f3", type: "STRING", label: "region", value: "eu", section: { id: "add more" } },
        ],
    }
}

/** A fake client that records calls and serves one vault. */
function fakeClient(items: OpItem[]): OpClient & { calls: string[] } {
    const calls: string[] = []
    const find = (v: string, i: string) => {
        const it = items.find((x) => (x.vault.name.toLowerCase() === v.toLowerCase() || x.vault.id === v) && (x.id === i || x.title.toLowerCase() === i.toLowerCase()))
        if (it === undefined) throw Object.assign(new Error(`item ${i} not found`), { kind: "item-not-found" })
        return it
    }
    return {
        calls,
        read: async (ref) => {
            calls.push(`read ${ref}`)
            return "from-read"
        },
        getItem: async (v, i) => {
            calls.push(`get ${v} ${i}`)
            return find(v, i)
        },
        listItems: async (v, filter) => {
            calls.push(`list ${v}${filter?.tags ? ` ${filter.tags.join(",")}` : ""}`)
            return items
        },
        createItem: async () => {
            throw new Error("not used")
        },
        editItem: async () => {
            throw new Error("not used")
        },
    }
}

describe("findField (op's resolution rules)", () => {
    it("prefers a top-level field, matches sections by label or id, names case-insensitively or by id", () => {
        const it = dbItem()
        expect(findField(it, undefined, "password")?.value).toBe("pw1")
        expect(findField(it, "conn", "password")?.value).toBe("pw2")
        expect(findField(it, "Section_abc", "PASSWORD")?.value).toBe("pw2")
        expect(findField(it, undefined, "HOST")?.value).toBe("h1")
        expect(findField(it, undefined, "f3")?.value).toBe("eu")
        expect(findField(it, "conn", "region")).toBeUndefined()
    })
})

describe("resolveMapping", () => {
    it("one getItem per distinct item (names case-insensitive), read only for queries and unknown fields", async () => {
        const client = fakeClient([dbItem()])
        const mapped = parseMapping(
            `a: op://Prod/db/password\nb: op://prod/DB/conn/password\nc: op://Prod/db/notesPlain\nd: op://Prod/db/password?attribute=otp\ne: op://Prod/db/key.pem\n`,
            "m.yaml",
        )
        const wanted = await resolveMapping(client, mapped)
        expect(wanted.map((w) => [w.path, w.value])).toEqual([
            [["a"], "pw1"],
            [["b"], "pw2"],
            [["c"], ""],
            [["d"], "from-read"],
            [["e"], "from-read"],
        ])
        expect(client.calls).toEqual(["get Prod db", "read op://Prod/db/password?attribute=otp", "read op://Prod/db/key.pem"])
    })
})

describe("items to a tree, by format", () => {
    it("yaml/json: item > [labelled section >] field; empty fields left out; unlabelled sections add no level", () => {
        expect(itemsToWanted([dbItem()], "yaml").map((w) => [w.path, w.value, w.source])).toEqual([
            [["db", "username"], "admin", "op://Prod/db/username"],
            [["db", "password"], "pw1", "op://Prod/db/password"],
            [["db", "conn", "host"], "h1", "op://Prod/db/host"],
            [["db", "conn", "password"], "pw2", "op://Prod/db/password"],
            [["db", "region"], "eu", "op://Prod/db/region"],
        ])
    })

    it("ini: item section with section.field keys; dotenv: ITEM_SECTION_FIELD", () => {
        expect(itemsToWanted([dbItem()], "ini").map((w) => w.path)).toEqual([["db", "username"], ["db", "password"], ["db", "conn.host"], ["db", "conn.password"], ["db", "region"]])
        expect(itemsToWanted([dbItem()], "dotenv").map((w) => w.path)).toEqual([["DB_USERNAME"], ["DB_PASSWORD"], ["DB_CONN_HOST"], ["DB_CONN_PASSWORD"], ["DB_REGION"]])
    })

    it("two fields on one key is an error naming both references, not a guess", () => {
        const it = dbItem()
        const clash: OpItem = { ...it, fields: [...(it.fields ?? []), { id: "x", type: "STRING", label: "Username", value: "v", reference: "op://Prod/db/Username" }] }
        expect(thrown(() => itemsToWanted([clash], "dotenv")).message).toBe('op://Prod/db/username and op://Prod/db/Username both land on ["DB_USERNAME"]')
    })

    it("envName: upper snake, runs of other characters to one _, no leading digit", () => {
        expect(envName(["my db (prod)", "api-key"])).toBe("MY_DB_PROD_API_KEY")
        expect(envName(["1st", "x"])).toBe("_1ST_X")
        fc.assert(fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }), (parts) => {
            try {
                expect(envName(parts)).toMatch(/^[A-Z_][A-Z0-9_]*$/)
            } catch (e) {
                expect((e as Error).message).toMatch(/^no dotenv name can be made from/)
            }
        }))
    })

    it("fetchItems: named items by getItem only; a vault by list then getItem by IDs; scopes follow", async () => {
        const client = fakeClient([dbItem()])
        await fetchItems(client, { vault: "Prod", items: ["db", "DB"] })
        expect(client.calls).toEqual(["get Prod db"])
        client.calls.length = 0
        const items = await fetchItems(client, { vault: "Prod", tags: ["app"] })
        expect(client.calls).toEqual(["list Prod app", `get ${VAULT.id} iiiiiiiiiiiiiiiiiiiiiiiiii`])
        expect(itemScopes(items, { vault: "Prod" }, "yaml")).toEqual([{ path: [] }])
        expect(itemScopes(items, { vault: "Prod", items: ["db"] }, "yaml")).toEqual([{ path: ["db"] }])
        expect(itemScopes(items, { vault: "Prod", items: ["db"] }, "dotenv")).toEqual([{ path: [], keyPrefix: "DB_" }])
    })
})

describe("push templates", () => {
    it("an edit keeps unmentioned fields and the item's keys, sets matched values, appends CONCEALED fields", () => {
        const existing = { ...dbItem(), urls: [{ href: "https://x" }] } as OpItem
        const change = planItem(
            { vault: "Prod", item: "db", fields: [{ field: "password", value: "NEW", path: ["db", "password"] }, { section: "conn", field: "port", value: "5432", path: ["db", "conn", "port"] }, { field: "username", value: "admin", path: ["db", "username"] }] },
            existing,
        )
        expect(change.action).toBe("update")
        expect(change.fields).toEqual(["password", "conn.port"])
        const t = change.template as OpItemTemplate & { urls?: unknown; id?: string }
        expect(t.id).toBe(existing.id)
        expect(t.urls).toEqual([{ href: "https://x" }])
        expect(t.vault).toEqual({ id: VAULT.id })
        expect(t.fields.map((f) => [f.id, f.label, f.value, f.type, f.section?.id])).toEqual([
            ["username", "username", "admin", "STRING", undefined],
            ["password", "password", "NEW", "CONCEALED", undefined],
            ["notesPlain", "notesPlain", undefined, "STRING", undefined],
            ["f1", "host", "h1", "STRING", "Section_abc"],
            ["f2", "password", "pw2", "CONCEALED", "Section_abc"],
            ["f3", "region", "eu", "STRING", "add more"],
            ["", "port", "5432", "CONCEALED", "Section_abc"],
        ])
        expect(t.sections).toEqual(existing.sections)
    })

    it("unchanged when every value is there; create makes a Secure Note with new sections", () => {
        expect(planItem({ vault: "Prod", item: "db", fields: [{ field: "password", value: "pw1", path: ["db", "password"] }] }, dbItem()).action).toBe("unchanged")
        const created = planItem({ vault: "Prod", item: "svc", fields: [{ field: "token", value: "t", path: ["svc", "token"] }, { section: "net", field: "host", value: "h", path: ["svc", "net", "host"] }] }, undefined)
        expect(created.action).toBe("create")
        expect(created.template).toEqual({
            title: "svc",
            category: "SECURE_NOTE",
            sections: [{ id: "net", label: "net" }],
            fields: [
                { id: "", type: "CONCEALED", label: "token", value: "t" },
                { id: "", type: "CONCEALED", label: "host", value: "h", section: { id: "net", label: "net" } },
            ],
        })
    })

    it("targets: top-level keys become items, values become text; a mapping groups by item; bad shapes are refused", () => {
        const tree = map(entry("db", map(entry("port", int(5432)), entry("conn", map(entry("host", str("h")))))), entry("sops", map()))
        expect(targetsFromTopLevel(tree, "Prod", "yaml", "f.yaml")).toEqual([
            { vault: "Prod", item: "db", fields: [{ field: "port", value: "5432", path: ["db", "port"] }, { section: "conn", field: "host", value: "h", path: ["db", "conn", "host"] }] },
        ])
        expect(thrown(() => targetsFromTopLevel(map(entry("x", str("v"))), "Prod", "yaml", "f.yaml")).message).toBe('"f.yaml": ["x"] is not a mapping, so it cannot become an item')
        expect(thrown(() => targetsFromTopLevel(tree, "Prod", "dotenv", "f.env")).message).toBe('"f.env" has no top-level mappings to turn into items')
        const mapped = parseMapping(`a: op://Prod/db/password\nb: op://prod/DB/conn/host\n`, "m.yaml")
        expect(targetsFromMapping(map(entry("a", str("1")), entry("b", str("2"))), mapped, "f.yaml")).toEqual([
            { vault: "Prod", item: "db", fields: [{ field: "password", value: "1", path: ["a"] }, { section: "conn", field: "host", value: "2", path: ["b"] }] },
        ])
        expect(thrown(() => targetsFromMapping(map(entry("a", str("1"))), mapped, "f.yaml")).message).toBe('"f.yaml" has no value at ["b"], which the mapping sends to op://prod/DB/conn/host')
    })

    it("property: push template then pull shape is a round trip (yaml)", () => {
        const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/)
        const itemShape = fc.dictionary(name, fc.oneof(fc.string(), fc.dictionary(name, fc.string(), { minKeys: 1, maxKeys: 3 })), { minKeys: 1, maxKeys: 4 })
        fc.assert(
            fc.property(fc.dictionary(name, itemShape, { minKeys: 1, maxKeys: 3 }), (doc) => {
                // Empty strings are left out by a pull (op omits empty values); a key can't be both a field and a section.
                const tree = map(
                    ...Object.entries(doc).map(([k, v]) =>
                        entry(k, map(...Object.entries(v).map(([f, x]) => entry(f, typeof x === "string" ? str(x || "v") : map(...Object.entries(x).map(([g, y]) => entry(g, str(y || "v")))))))),
                    ),
                )
                const items: OpItem[] = targetsFromTopLevel(tree, "Prod", "yaml", "f.yaml").map((t, n) => {
                    const tpl = planItem(t, undefined).template
                    return { id: `id${n}`, title: tpl.title, version: 1, vault: VAULT, category: tpl.category, ...(tpl.sections ? { sections: tpl.sections } : {}), fields: tpl.fields }
                })
                let wanted
                try {
                    wanted = itemsToWanted(items, "yaml")
                } catch (e) {
                    // A section and a top-level field with one name collide; that is reported, not merged.
                    expect((e as Error).message).toMatch(/both land on/)
                    return
                }
                expect(applyPlan(undefined, planSync(undefined, wanted), wanted)).toEqual(tree)
            }),
            { numRuns: 200 },
        )
    })
})

describe("the file as one item (--item NAME, pull --flat)", () => {
    it("pull --flat: no item level; sections nest in yaml, join in dotenv, become INI sections", () => {
        const noTopLevel: OpItem = { ...dbItem(), fields: dbItem().fields?.filter((f) => f.section?.label === "conn") }
        expect(itemsToWanted([dbItem()], "yaml", true).map((w) => w.path)).toEqual([["username"], ["password"], ["conn", "host"], ["conn", "password"], ["region"]])
        expect(itemsToWanted([dbItem()], "dotenv", true).map((w) => w.path)).toEqual([["USERNAME"], ["PASSWORD"], ["CONN_HOST"], ["CONN_PASSWORD"], ["REGION"]])
        expect(itemsToWanted([noTopLevel], "ini", true).map((w) => w.path)).toEqual([["conn", "host"], ["conn", "password"]])
        expect(thrown(() => itemsToWanted([dbItem()], "ini", true)).message).toBe("op://Prod/db/username is outside any section, and an INI file has no place for it")
        expect(itemScopes([dbItem()], { vault: "Prod", items: ["db"], flat: true }, "dotenv")).toEqual([{ path: [] }])
    })

    it("push --item: top-level values are fields, a top-level mapping is a section", () => {
        const tree = map(entry("URL", str("u")), entry("db", map(entry("password", str("p")), entry("port", int(5432n)))))
        expect(targetsFromFile(tree, "Prod", "myapp", "f.yaml")).toEqual([
            {
                vault: "Prod",
                item: "myapp",
                fields: [
                    { field: "URL", value: "u", path: ["URL"] },
                    { section: "db", field: "password", value: "p", path: ["db", "password"] },
                    { section: "db", field: "port", value: "5432", path: ["db", "port"] },
                ],
            },
        ])
        const deep = map(entry("a", map(entry("b", map(entry("c", str("x")))))))
        expect(thrown(() => targetsFromFile(deep, "Prod", "i", "f.yaml")).message).toBe('"f.yaml": ["a"]["b"] is a mapping, not one value')
    })

    it("property: push --item then pull --flat is a round trip (yaml and dotenv)", () => {
        const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/)
        const envKey = fc.stringMatching(/^[A-Z][A-Z0-9]{0,6}(_[A-Z0-9]{1,4})?$/)
        const toItem = (tree: ReturnType<typeof map>): OpItem => {
            const tpl = planItem(targetsFromFile(tree, "Prod", "app", "f")[0]!, undefined).template
            return { id: "id0", title: tpl.title, version: 1, vault: VAULT, category: tpl.category, ...(tpl.sections ? { sections: tpl.sections } : {}), fields: tpl.fields }
        }
        fc.assert(
            fc.property(fc.dictionary(name, fc.oneof(fc.string({ minLength: 1 }), fc.dictionary(name, fc.string({ minLength: 1 }), { minKeys: 1, maxKeys: 3 })), { minKeys: 1, maxKeys: 4 }), (doc) => {
                const tree = map(...Object.entries(doc).map(([k, v]) => entry(k, typeof v === "string" ? str(v) : map(...Object.entries(v).map(([f, x]) => entry(f, str(x)))))))
                const wanted = itemsToWanted([toItem(tree)], "yaml", true)
                expect(applyPlan(undefined, planSync(undefined, wanted), wanted)).toEqual(tree)
            }),
            { numRuns: 200 },
        )
        fc.assert(
            fc.property(fc.uniqueArray(fc.tuple(envKey, fc.string({ minLength: 1 })), { minLength: 1, maxLength: 5, selector: ([k]) => k }), (pairs) => {
                const tree = map(...pairs.map(([k, v]) => entry(k, str(v))))
                const wanted = itemsToWanted([toItem(tree)], "dotenv", true)
                expect(applyPlan(undefined, planSync(undefined, wanted), wanted)).toEqual(tree)
            }),
            { numRuns: 200 },
        )
    })
})
