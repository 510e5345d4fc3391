import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { item, loginItem, seedStore, standinId, STANDIN_USER_UUID, vault, type OpStandin, type StandinStore } from "../../helpers/op-standin.js"
import { errLine, op, standinWith } from "./run-op.js"

const NOW = "2025-03-04T05:06:07.890Z"

function store(): StandinStore {
    return seedStore({
        vaults: [
            vault("Dev", [
                loginItem("db", "admin", "pw-1", [{ label: "host", value: "db.local", section: "conn" }]),
                item({ title: "Delete Me", id: "vwyt5in4gempt67i7d2mpao6c4", category: "PASSWORD", fields: [{ label: "password", value: "a" }] }),
                item({ title: "delete me", id: "dmm2ybtxxjlxtv23puevxw5ydy", category: "PASSWORD", fields: [{ label: "password", value: "b" }], tags: ["ops/db", "x"] }),
                item({ title: "old", archived: true, fields: [{ label: "password", value: "gone" }] }),
                item({ title: "api", category: "API_CREDENTIAL", fields: [{ label: "credential", value: "c-1" }, { label: "notesPlain", value: "" }], tags: ["ops"] }),
            ]),
            vault("Prod", [loginItem("db", "root", "pw-prod")]),
        ],
    })
}

describe.concurrent("op item get / list", () => {
    let standin: OpStandin
    let s: StandinStore
    beforeAll(async () => {
        s = store()
        ;({ standin } = await standinWith(s))
    })

    it("prints the item JSON in op's key order, 2-space indent, trailing newline, value absent when empty", async () => {
        const r = await op(standin, ["item", "get", "api", "--vault", "Dev", "--format", "json"])
        expect(r.stderr).toBe("")
        const v = s.vaults[0]!
        const it = v.items[4]!
        expect(r.stdout).toBe(`{
  "id": "${it.id}",
  "title": "api",
  "tags": ["ops"],
  "version": 1,
  "vault": {
    "id": "${v.id}",
    "name": "Dev"
  },
  "category": "API_CREDENTIAL",
  "last_edited_by": "${STANDIN_USER_UUID}",
  "created_at": "2024-01-02T03:04:05Z",
  "updated_at": "2024-01-02T03:04:05Z",
  "fields": [
    {
      "id": "credential",
      "type": "CONCEALED",
      "label": "credential",
      "value": "c-1",
      "entropy": 18.33,
      "reference": "op://Dev/api/credential",
      "password_details": {
        "strength": "GOOD"
      }
    },
    {
      "id": "notesPlain",
      "type": "STRING",
      "purpose": "NOTES",
      "label": "notesPlain",
      "reference": "op://Dev/api/notesPlain"
    }
  ]
}
`)
    })

    it("derives additional_information, sections and section references for a login", async () => {
        const j = JSON.parse((await op(standin, ["item", "get", "db", "--vault=Dev", "--format=json"])).stdout)
        expect(j.additional_information).toBe("admin")
        expect(j.sections).toEqual([{ id: expect.stringMatching(/^Section_[a-z0-9]{26}$/), label: "conn" }])
        expect(j.fields[2]).toEqual({
            id: standinId(`field:${j.id}:conn:host`),
            section: { id: j.sections[0].id, label: "conn" },
            type: "STRING",
            label: "host",
            value: "db.local",
            reference: "op://Dev/db/conn/host",
        })
    })

    it("OP_FORMAT=json is the default format", async () => {
        const r = await op(standin, ["item", "get", "db", "--vault", "Prod"], { env: { OP_FORMAT: "json" } })
        expect(JSON.parse(r.stdout).additional_information).toBe("root")
    })

    it("the same title in several vaults without --vault is ambiguous; with --vault it is not", async () => {
        const r = await op(standin, ["item", "get", "DB", "--format", "json"])
        expect(r.code).toBe(1)
        expect(r.stdout).toBe("")
        expect(r.stderr).toMatch(/^\[ERROR\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} More than one item matches "DB"\. Try again and specify the item by its ID: \n/)
        const prod = s.vaults[1]!
        expect(r.stderr.split("\n").slice(1)).toEqual([
            `\t* for the item "db" in vault Dev: ${s.vaults[0]!.items[0]!.id}`,
            `\t* for the item "db" in vault ${prod.name}: ${prod.items[0]!.id}`,
            "",
        ])
    })

    it("prints op's ambiguity block for two titles differing only in case", async () => {
        const r = await op(standin, ["item", "get", "Delete Me", "--vault", "Dev"])
        expect(r.stderr.replace(/^\[ERROR\] [\d/: ]+ /, "")).toBe(
            'More than one item matches "Delete Me". Try again and specify the item by its ID: \n' +
                '\t* for the item "Delete Me" in vault Dev: vwyt5in4gempt67i7d2mpao6c4\n' +
                '\t* for the item "delete me" in vault Dev: dmm2ybtxxjlxtv23puevxw5ydy\n',
        )
        const byId = await op(standin, ["item", "get", "dmm2ybtxxjlxtv23puevxw5ydy", "--format", "json"])
        expect(JSON.parse(byId.stdout).title).toBe("delete me")
    })

    it.each([
        [["item", "get", "nope", "--vault", "Dev"], `"nope" isn't an item in the "Dev" vault. Specify the item with its UUID, name, or domain.`],
        [["item", "get", "nope"], `"nope" isn't an item. Specify the item with its UUID, name, or domain.`],
        [["item", "get", "db", "--vault", "Invalid Vault"], `"Invalid Vault" isn't a vault in this account. Specify the vault with its ID or name.`],
        [["item", "list", "--vault", "Nope"], `"Nope" isn't a vault in this account. Specify the vault with its ID or name.`],
        [["item", "get", "old"], `"old" isn't an item. Specify the item with its UUID, name, or domain.`],
    ])("%j fails with op's text", async (args, msg) => {
        const r = await op(standin, args)
        expect(r).toMatchObject({ code: 1, stdout: "" })
        expect(r.stderr).toMatch(errLine(msg))
    })

    it("archived items: found with --include-archive, OP_INCLUDE_ARCHIVE or by ID", async () => {
        const old = s.vaults[0]!.items[3]!
        expect((await op(standin, ["item", "get", "old", "--include-archive", "--format", "json"])).code).toBe(0)
        expect((await op(standin, ["item", "get", "old", "--format", "json"], { env: { OP_INCLUDE_ARCHIVE: "true" } })).code).toBe(0)
        expect(JSON.parse((await op(standin, ["item", "get", old.id, "--format", "json"])).stdout).title).toBe("old")
    })

    it("--fields: one match is an object, several an array, section.label works", async () => {
        const one = JSON.parse((await op(standin, ["item", "get", "db", "--vault", "Dev", "--fields", "label=password", "--format", "json"])).stdout)
        expect(one).toMatchObject({ id: "password", value: "pw-1", reference: "op://Dev/db/password" })
        const two = JSON.parse((await op(standin, ["item", "get", "db", "--vault", "Dev", "--fields", "username,label=conn.host", "--format", "json"])).stdout)
        expect(two.map((f: { value: string }) => f.value)).toEqual(["admin", "db.local"])
        const byType = JSON.parse((await op(standin, ["item", "get", "db", "--vault", "Dev", "--fields", "type=concealed", "--format", "json"])).stdout)
        expect(byType.id).toBe("password")
    })

    it("--fields human-readable: values joined by a comma, concealed hidden unless --reveal", async () => {
        const id = s.vaults[0]!.items[0]!.id
        const hidden = await op(standin, ["item", "get", "db", "--vault", "Dev", "--fields", "label=username,label=password"])
        expect(hidden.stdout).toBe(`admin,[use 'op item get ${id} --reveal' to reveal]\n`)
        const shown = await op(standin, ["item", "get", "db", "--vault", "Dev", "--fields", "label=username,label=password", "--reveal"])
        expect(shown.stdout).toBe("admin,pw-1\n")
    })

    it("item list: summaries without fields; --categories, --tags (nested), archive excluded", async () => {
        const all = JSON.parse((await op(standin, ["item", "list", "--format", "json"])).stdout)
        expect(all.map((i: { title: string }) => i.title)).toEqual(["db", "Delete Me", "delete me", "api", "db"])
        expect(all[0]).not.toHaveProperty("fields")
        expect(all[0]).not.toHaveProperty("sections")
        expect(Object.keys(all[0])).toEqual(["id", "title", "version", "vault", "category", "last_edited_by", "created_at", "updated_at", "additional_information"])
        const pw = JSON.parse((await op(standin, ["item", "list", "--vault", "Dev", "--categories", "pass word", "--format", "json"])).stdout)
        expect(pw.map((i: { id: string }) => i.id)).toEqual(["vwyt5in4gempt67i7d2mpao6c4", "dmm2ybtxxjlxtv23puevxw5ydy"])
        const tagged = JSON.parse((await op(standin, ["item", "list", "--tags", "ops", "--format", "json"])).stdout)
        expect(tagged.map((i: { title: string }) => i.title)).toEqual(["delete me", "api"])
        const none = await op(standin, ["item", "list", "--tags", "zzz", "--format", "json"])
        expect(none.stdout).toBe("[]\n")
        const withOld = JSON.parse((await op(standin, ["item", "list", "--vault", "Dev", "--include-archive", "--format", "json"])).stdout)
        expect(withOld).toHaveLength(5)
    })

    it("vault list and vault get", async () => {
        const list = JSON.parse((await op(standin, ["vault", "list", "--format", "json"])).stdout)
        expect(list).toEqual([
            { id: s.vaults[0]!.id, name: "Dev", content_version: 1 },
            { id: s.vaults[1]!.id, name: "Prod", content_version: 1 },
        ])
        const got = JSON.parse((await op(standin, ["vault", "get", "dev", "--format", "json"])).stdout)
        expect(got).toEqual({
            id: s.vaults[0]!.id, name: "Dev", content_version: 1, attribute_version: 1, items: 4, type: "USER_CREATED",
            created_at: "2024-01-02T03:04:05Z", updated_at: "2024-01-02T03:04:05Z",
        })
    })
})

describe.concurrent("op item create / edit / delete", () => {
    const env = { OP_STANDIN_NOW: NOW }

    it("create from a template on stdin; get returns the same item; stdin bytes logged, no value on argv", async () => {
        const { standin } = await standinWith(store())
        const template = { title: "svc", category: "LOGIN", fields: [{ id: "username", value: "u1" }, { id: "password", value: "tmpl-secret" }, { id: "x1", label: "token", type: "CONCEALED", value: "tok-9", section: { id: "s1", label: "extra" } }] }
        const r = await op(standin, ["item", "create", "-", "--vault", "Dev", "--format", "json"], { stdin: JSON.stringify(template), env })
        expect(r.stderr).toBe("")
        const created = JSON.parse(r.stdout)
        expect(created).toMatchObject({ title: "svc", category: "LOGIN", version: 1, created_at: "2025-03-04T05:06:07Z", updated_at: "2025-03-04T05:06:07Z", additional_information: "u1" })
        expect(created.id).toMatch(/^[a-z0-9]{26}$/)
        expect(created.sections).toEqual([{ id: "s1", label: "extra" }])
        expect(created.fields.map((f: { reference: string; value?: string }) => [f.reference, f.value])).toEqual([
            ["op://Dev/svc/username", "u1"],
            ["op://Dev/svc/password", "tmpl-secret"],
            ["op://Dev/svc/notesPlain", undefined],
            ["op://Dev/svc/extra/token", "tok-9"],
        ])
        const got = await op(standin, ["item", "get", created.id, "--format", "json"])
        expect(got.stdout).toBe(r.stdout)
        const stored = await standin.readStore()
        expect(stored.vaults[0]!.items.at(-1)!.id).toBe(created.id)
        const log = await standin.readLog()
        expect(log[0]!.stdinBytes).toBe(JSON.stringify(template).length)
        expect(await standin.argvMentions("tmpl-secret")).toBe(false)
    })

    it("create with assignments: escapes, [type], untyped custom → CONCEALED, --category ignores case and spaces, default title", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["item", "create", "--category", "api CREDENTIAL", "--vault", "Dev", "--tags", "a,b", "--url", "https://x.test", "my\\.sec.f\\=x[text]=v=1", "plain=pw", "--format", "json"], { env })
        const j = JSON.parse(r.stdout)
        expect(j.title).toBe("Untitled API Credential item")
        expect(j.category).toBe("API_CREDENTIAL")
        expect(j.tags).toEqual(["a", "b"])
        expect(j.urls).toEqual([{ label: "website", primary: true, href: "https://x.test" }])
        expect(j.sections).toEqual([{ id: expect.stringMatching(/^Section_[a-z0-9]{26}$/), label: "my.sec" }])
        const custom = j.fields.filter((f: { purpose?: string; id: string }) => !["username", "credential", "notesPlain"].includes(f.id))
        expect(custom.map((f: { label: string; type: string; value: string }) => [f.label, f.type, f.value])).toEqual([["f=x", "STRING", "v=1"], ["plain", "CONCEALED", "pw"]])
        expect(r.stdout).toContain('"tags": ["a", "b"],\n')
    })

    it("--generate-password fills the password with the recipe", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["item", "create", "--category=password", "--vault", "Dev", "--title", "gen", "--generate-password=digits,12", "--format", "json"])
        expect(JSON.parse(r.stdout).fields[0].value).toMatch(/^\d{12}$/)
    })

    it("piped non-JSON stdin fails with op's text and writes nothing", async () => {
        const { standin } = await standinWith(store())
        const before = await standin.readStore()
        for (const args of [["item", "create", "--category", "login", "--vault", "Dev"], ["item", "edit", "api", "--vault", "Dev", "x=y"]]) {
            const r = await op(standin, args, { stdin: "not json" })
            expect(r).toMatchObject({ code: 1, stdout: "" })
            expect(r.stderr).toMatch(errLine("unable to process line 1: invalid JSON in piped input"))
        }
        expect(await standin.readStore()).toEqual(before)
    })

    it("a PASSWORD template without a password fails with op's validation text", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["item", "create", "--vault", "Dev"], { stdin: JSON.stringify({ title: "p", category: "PASSWORD", fields: [] }) })
        expect(r.stderr).toMatch(errLine('unable to process line 1: Validation: (validateVaultItem failed to Validate), Couldn\'t validate the item: "[ItemValidator] has found 1 errors, 0 warnings: \\nErrors:{1. Password item requires ps value}"'))
    })

    it("--template FILE, and template + pipe together is refused", async () => {
        const { dir, standin } = await standinWith(store())
        const file = join(dir, "t.json")
        writeFileSync(file, JSON.stringify({ title: "from-file", category: "SECURE_NOTE", fields: [{ id: "notesPlain", value: "n" }] }))
        const ok = JSON.parse((await op(standin, ["item", "create", "--template", file, "--vault", "Dev", "--format", "json"])).stdout)
        expect(ok.fields).toEqual([{ id: "notesPlain", type: "STRING", purpose: "NOTES", label: "notesPlain", value: "n", reference: "op://Dev/from-file/notesPlain" }])
        const both = await op(standin, ["item", "create", "--template", file, "--vault", "Dev"], { stdin: "{}" })
        expect(both.stderr).toMatch(errLine("cannot use both piped input and the --template flag"))
    })

    it("edit: assignments, [delete] removes the emptied section, --tags \"\" clears, version+1, updated_at now", async () => {
        const { standin } = await standinWith(store())
        const r = await op(standin, ["item", "edit", "db", "--vault", "Dev", "password=new-pw", "conn.host[delete]", "--tags", "", "--title", "db2", "--format", "json"], { env })
        expect(r.stderr).toBe("")
        const j = JSON.parse(r.stdout)
        expect(j).toMatchObject({ title: "db2", version: 2, created_at: "2024-01-02T03:04:05Z" })
        expect(new Date(j.updated_at).toISOString()).toBe(NOW)
        expect(j).not.toHaveProperty("sections")
        expect(j).not.toHaveProperty("tags")
        expect(j.fields.map((f: { id: string; value?: string }) => [f.id, f.value])).toEqual([["username", "admin"], ["password", "new-pw"]])
        const again = JSON.parse((await op(standin, ["item", "edit", "db2", "--vault", "Dev", "--format", "json"], { env })).stdout)
        expect(again.version).toBe(3)
    })

    it("edit with a whole template on stdin replaces the fields and keeps id and created_at", async () => {
        const { standin } = await standinWith(store())
        const before = JSON.parse((await op(standin, ["item", "get", "api", "--format", "json"])).stdout)
        const t = { title: "api", category: "API_CREDENTIAL", fields: [{ id: "credential", type: "CONCEALED", value: "c-2" }] }
        const r = await op(standin, ["item", "edit", before.id, "--vault", "Dev", "--format", "json"], { stdin: JSON.stringify(t), env })
        const j = JSON.parse(r.stdout)
        expect(j.id).toBe(before.id)
        expect(j.version).toBe(2)
        expect(j.fields.map((f: { id: string; value: string }) => [f.id, f.value])).toEqual([["credential", "c-2"]])
        expect((await op(standin, ["read", "-n", "op://Dev/api/credential"])).stdout).toBe("c-2")
    })

    it("deleting a built-in field is refused and nothing changes", async () => {
        const { standin } = await standinWith(store())
        const before = await standin.readStore()
        const r = await op(standin, ["item", "edit", "db", "--vault", "Dev", "password[delete]"])
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(errLine('cannot delete the built-in field "password"; assign it an empty value instead'))
        expect(await standin.readStore()).toEqual(before)
    })

    it("delete prints nothing; --archive hides the item from get by title and list", async () => {
        const { standin } = await standinWith(store())
        expect(await op(standin, ["item", "delete", "api", "--vault", "Dev", "--format", "json"])).toEqual({ code: 0, signal: null, stdout: "", stderr: "" })
        expect((await op(standin, ["item", "get", "api"])).code).toBe(1)
        expect((await op(standin, ["item", "delete", "db", "--vault", "Prod", "--archive"])).code).toBe(0)
        const stored = await standin.readStore()
        expect(stored.vaults[1]!.items[0]!.archived).toBe(true)
        expect((await op(standin, ["item", "list", "--vault", "Prod", "--format", "json"])).stdout).toBe("[]\n")
    })

    it("store writes are atomic: no temp file is left next to the store", async () => {
        const { dir, standin } = await standinWith(store())
        await Promise.all([1, 2, 3, 4].map((n) => op(standin, ["item", "create", "--category", "login", "--vault", "Dev", "--title", `n${n}`])))
        expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([])
        const titles = (await standin.readStore()).vaults[0]!.items.map((i) => i.title)
        // Concurrent writers may overwrite each other (last rename wins), but the file is always whole JSON.
        expect(titles.filter((t) => /^n\d$/.test(t)).length).toBeGreaterThanOrEqual(1)
    })
})
