/**
 * createOpClient against the stand-in op (test/op-standin), through the real
 * executor: the same process boundary as with the real op.
 */
import { describe, expect, it } from "vitest"

import { OpError, createOpClient } from "../../src/integrations/op.js"
import type { OpClient, OpClientOptions } from "../../src/integrations/op-types.js"
import type { OpItemTemplate } from "../../src/integrations/op-types.js"
import { caught } from "../helpers/errors.js"
import { item, loginItem, makeOpStandin, seedStore, standinId, vault } from "../helpers/op-standin.js"
import type { OpStandin, StandinStore } from "../helpers/op-standin.js"
import { tempDir } from "../helpers/tmp.js"

const MULTILINE = "-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\n"
const PASSWORD = "s3cr3t-Pa55"
const SECTION_TOKEN = "tok-in-section"
const TOP_TOKEN = "tok-at-top"

function store(): StandinStore {
    return seedStore({
        vaults: [
            vault("Prod", [
                loginItem("db", "admin", PASSWORD, [
                    { label: "token", value: TOP_TOKEN },
                    { label: "token", value: SECTION_TOKEN, section: "api creds" },
                ]),
                item({ title: "tls key", category: "SECURE_NOTE", fields: [{ label: "notesPlain", value: MULTILINE }, { label: "empty one", value: "" }] }),
                item({ title: "twin", id: standinId("twin-1"), fields: [{ label: "x", value: "1" }] }),
                item({ title: "twin", id: standinId("twin-2"), fields: [{ label: "x", value: "2" }] }),
            ]),
            vault("My Vault", [item({ title: "api key", category: "API_CREDENTIAL", fields: [{ label: "credential", value: "cred with spaces " }] })]),
        ],
    })
}

async function setup(extraEnv: Record<string, string> = {}, opts: Partial<OpClientOptions> = {}, s = store()): Promise<{ op: OpStandin; client: OpClient }> {
    const op = await makeOpStandin(tempDir(), s)
    const client = createOpClient({ env: { ...op.env, HOME: "/nonexistent", ...extraEnv }, ...opts }, { sleep: async () => undefined })
    return { op, client }
}

/** Every value the tests handle: none may ever appear on op's argv. */
const VALUES = [MULTILINE.trim(), PASSWORD, SECTION_TOKEN, TOP_TOKEN, "cred with spaces", "new-Secret-1", "edited-Secret-2"]

async function expectNoValueOnArgv(op: OpStandin): Promise<void> {
    for (const v of VALUES) expect(await op.argvMentions(v)).toBe(false)
}

describe("OpClient against the stand-in op", () => {
    it("read: without and with a section, names with spaces, IDs, empty and multi-line values exact", async () => {
        const { op, client } = await setup()
        expect(await client.read("op://Prod/db/password")).toBe(PASSWORD)
        expect(await client.read("op://Prod/db/token")).toBe(TOP_TOKEN)
        expect(await client.read("op://Prod/db/api creds/token")).toBe(SECTION_TOKEN)
        expect(await client.read("op://My Vault/api key/credential")).toBe("cred with spaces ")
        expect(await client.read(`op://${standinId("vault:Prod")}/${standinId("item:db")}/password`)).toBe(PASSWORD)
        expect(await client.read("op://Prod/tls key/notesPlain")).toBe(MULTILINE)
        expect(await client.read("op://Prod/tls key/empty one")).toBe("")
        // Cached: reading again runs no op.
        expect(await client.read("op://Prod/db/password")).toBe(PASSWORD)
        const log = await op.readLog()
        expect(log).toHaveLength(7)
        expect(log[0]?.argv).toEqual(["read", "--no-newline", "op://Prod/db/password"])
        for (const call of log) expect(call.stdinBytes).toBe(0)
        await expectNoValueOnArgv(op)
    })

    it("getItem, listItems, createItem → getItem round trip, editItem bumps the version", async () => {
        const { op, client } = await setup()
        const db = await client.getItem("Prod", "db")
        expect(db.title).toBe("db")
        expect(db.vault).toEqual({ id: standinId("vault:Prod"), name: "Prod" })
        expect(db.fields?.find((f) => f.id === "password")?.value).toBe(PASSWORD)
        expect(db.fields?.filter((f) => f.label === "token").map((f) => [f.section?.label, f.value])).toEqual([
            [undefined, TOP_TOKEN],
            ["api creds", SECTION_TOKEN],
        ])

        const list = await client.listItems("Prod")
        expect(list.map((i) => i.title).sort()).toEqual(["db", "tls key", "twin", "twin"])

        const template: OpItemTemplate = {
            title: "new app",
            category: "LOGIN",
            tags: ["secrets"],
            fields: [
                { id: "username", type: "STRING", purpose: "USERNAME", label: "username", value: "svc" },
                { id: "password", type: "CONCEALED", purpose: "PASSWORD", label: "password", value: "new-Secret-1" },
            ],
        }
        const created = await client.createItem("Prod", template)
        expect(created.version).toBe(1)
        const fetched = await client.getItem("Prod", created.id)
        expect(fetched.fields?.find((f) => f.id === "password")?.value).toBe("new-Secret-1")
        expect(fetched.fields?.find((f) => f.id === "username")?.value).toBe("svc")
        expect((await client.listItems("Prod", { tags: ["secrets"] })).map((i) => i.id)).toEqual([created.id])

        const edited = await client.editItem("Prod", created.id, {
            ...template,
            fields: template.fields.map((f) => (f.id === "password" ? { ...f, value: "edited-Secret-2" } : f)),
        })
        expect(edited.version).toBe(2)
        expect((await client.getItem("Prod", created.id)).fields?.find((f) => f.id === "password")?.value).toBe("edited-Secret-2")

        const log = await op.readLog()
        for (const call of log) {
            const sub = call.argv.slice(0, 2).join(" ")
            if (sub === "item create" || sub === "item edit") expect(call.stdinBytes).toBeGreaterThan(0)
            else expect(call.stdinBytes).toBe(0)
        }
        expect(log.filter((c) => c.stdinBytes > 0)).toHaveLength(2)
        await expectNoValueOnArgv(op)
    })

    it.each([
        ["op://Prod/nope/password", "item-not-found", '1Password item "nope" not found in vault "Prod" (needed for "op://Prod/nope/password")'],
        ["op://Nowhere/db/password", "vault-not-found", '1Password vault "Nowhere" not found (needed for "op://Nowhere/db/password")'],
        ["op://Prod/db/nope", "field-not-found", '1Password item "Prod/db" has no field "nope" (needed for "op://Prod/db/nope")'],
    ])("%s → %s", async (ref, kind, message) => {
        const { client } = await setup()
        const e = (await caught(client.read(ref))) as OpError
        expect(e.kind).toBe(kind)
        expect(e.message).toBe(message)
    })

    it("two items with one title: the IDs are the hint", async () => {
        const { client } = await setup()
        const e = (await caught(client.getItem("Prod", "twin"))) as OpError
        expect(e.kind).toBe("ambiguous")
        expect(e.message).toBe('more than one 1Password item is titled "twin" (needed for item "twin" in vault "Prod")')
        expect(e.hints).toEqual([`use the item ID: ${[standinId("twin-1"), standinId("twin-2")].join(", ")}`])
    })

    it("signed out", async () => {
        const { client } = await setup({}, {}, { ...store(), auth: { ...store().auth, mode: "none" } })
        const e = (await caught(client.read("op://Prod/db/password"))) as OpError
        expect(e.kind).toBe("signed-out")
        expect(e.message).toBe('the 1Password CLI is not signed in (needed for "op://Prod/db/password")')
    })

    it("409 twice, then success: retried", async () => {
        const { op, client } = await setup({ OP_STANDIN_FAIL: "conflict@item edit", OP_STANDIN_FAIL_TIMES: "2" })
        const db = await client.getItem("Prod", "db")
        const edited = await client.editItem("Prod", db.id, { title: "db", category: "LOGIN", fields: db.fields ?? [] })
        expect(edited.version).toBe(2)
        expect((await op.readLog()).filter((c) => c.argv[1] === "edit")).toHaveLength(3)
        await expectNoValueOnArgv(op)
    })

    it("429: one call, no retry", async () => {
        const { op, client } = await setup({ OP_STANDIN_FAIL: "ratelimit" })
        const e = (await caught(client.read("op://Prod/db/password"))) as OpError
        expect(e.kind).toBe("rate-limited")
        expect(await op.readLog()).toHaveLength(1)
    })

    it("a hung op is killed at the timeout", async () => {
        const { client } = await setup({ OP_STANDIN_FAIL: "timeout" }, { timeoutMs: 1000 })
        // The stand-in sleeps for an hour: returning at all within the test's limit is the kill.
        const e = (await caught(client.getItem("Prod", "db"))) as OpError
        expect(e.kind).toBe("timeout")
        expect(e.message).toBe('op item get timed out after 1 s (needed for item "db" in vault "Prod")')
    })

    it.each([
        ["panic", "crashed", 'op read crashed (exit status 2) (needed for "op://Prod/db/password")'],
        ["badrequest", "failed", 'op read failed (exit status 4) (needed for "op://Prod/db/password")'],
        ["signedout", "signed-out", 'the 1Password CLI is not signed in (needed for "op://Prod/db/password")'],
    ])("fault %s", async (fault, kind, message) => {
        const { client } = await setup({ OP_STANDIN_FAIL: fault })
        const e = (await caught(client.read("op://Prod/db/password"))) as OpError
        expect(e.kind).toBe(kind)
        expect(e.message).toBe(message)
        expect(JSON.stringify([e.message, e.hints])).not.toContain(PASSWORD)
    })
})
