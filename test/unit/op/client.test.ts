import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { ExitCode } from "../../../src/errors.js"
import { OpError, conflictBackoffMs, createOpClient, opClientFromEnv } from "../../../src/integrations/op.js"
import type { OpExecutor, OpRun } from "../../../src/integrations/op.js"
import type { OpItemTemplate } from "../../../src/integrations/op-types.js"
import { caught } from "../../helpers/errors.js"

const TS = "[ERROR] 2023/03/10 21:14:03 "

interface Call {
    readonly bin: string
    readonly argv: readonly string[]
    readonly input?: string
    readonly timeoutMs: number
    readonly env: Readonly<Record<string, string>>
}

/** A fake executor answering from a queue (the last answer repeats) and recording each call. */
function fake(...answers: Partial<OpRun>[]): { exec: OpExecutor; calls: Call[] } {
    const calls: Call[] = []
    const exec: OpExecutor = async (bin, argv, opts) => {
        calls.push({ bin, argv, timeoutMs: opts.timeoutMs, env: opts.env, ...(opts.input !== undefined ? { input: opts.input } : {}) })
        const a = answers[Math.min(calls.length - 1, answers.length - 1)] ?? {}
        return { exitCode: 0, stdout: "", stderr: "", timedOut: false, notFound: false, ...a }
    }
    return { exec, calls }
}

const noSleep = { sleep: async (): Promise<void> => undefined }

const ITEM_JSON = {
    id: "nnotgv5xwrhjbdj6bt3rugrijy",
    title: "db",
    version: 2,
    vault: { id: "gshlsjsajnawtnjynzgwmiebge", name: "Prod" },
    category: "LOGIN",
    sections: [{ id: "Section_1", label: "creds" }],
    fields: [
        { id: "username", type: "STRING", purpose: "USERNAME", label: "username", value: "admin", reference: "op://Prod/db/username" },
        { id: "notesPlain", type: "STRING", purpose: "NOTES", label: "notesPlain", reference: "op://Prod/db/notesPlain" },
        { id: "abc", type: "CONCEALED", label: "token", value: "tok-1", section: { id: "Section_1", label: "creds" } },
    ],
}

const TEMPLATE: OpItemTemplate = {
    title: "db",
    category: "LOGIN",
    fields: [
        { id: "password", type: "CONCEALED", purpose: "PASSWORD", label: "password", value: "p@ss word\nline2" },
        { id: "username", type: "STRING", label: "username", value: "admin" },
    ],
}

describe("createOpClient.read", () => {
    it("runs op read --no-newline with null stdin and returns stdout exactly", async () => {
        const f = fake({ stdout: "two\nlines\n" })
        const client = createOpClient({ env: { PATH: "/bin", UNSET: undefined }, timeoutMs: 1234 }, { exec: f.exec })
        expect(await client.read("op://Prod/db/notes")).toBe("two\nlines\n")
        expect(f.calls).toEqual([{ bin: "op", argv: ["read", "--no-newline", "op://Prod/db/notes"], timeoutMs: 1234, env: { PATH: "/bin" } }])
    })

    it("caches per reference: a second read makes no second call", async () => {
        const f = fake({ stdout: "v1" }, { stdout: "v2" })
        const client = createOpClient({ env: {} }, { exec: f.exec })
        expect(await client.read("op://Prod/db/password")).toBe("v1")
        expect(await client.read("op://Prod/db/password")).toBe("v1")
        expect(await Promise.all([client.read("op://Prod/db/user"), client.read("op://Prod/db/user")])).toEqual(["v2", "v2"])
        expect(f.calls.map((c) => c.argv[2])).toEqual(["op://Prod/db/password", "op://Prod/db/user"])
        // A new client (a new run) asks again.
        const again = createOpClient({ env: {} }, { exec: f.exec })
        await again.read("op://Prod/db/password")
        expect(f.calls).toHaveLength(3)
    })

    it("does not cache a failure", async () => {
        const f = fake({ exitCode: 1, stderr: `${TS}You are not currently signed in. Please run \`op signin --help\` for instructions\n` }, { stdout: "ok" })
        const client = createOpClient({ env: {} }, { exec: f.exec })
        expect((await caught(client.read("op://V/i/f")) as OpError).kind).toBe("signed-out")
        expect(await client.read("op://V/i/f")).toBe("ok")
    })

    it("refuses a bad reference without running op, and rejects rather than throws", async () => {
        const f = fake({ stdout: "x" })
        const client = createOpClient({ env: {} }, { exec: f.exec })
        const p = client.read("op://a/b")
        expect(p).toBeInstanceOf(Promise)
        const e = (await caught(p)) as OpError
        expect(e.kind).toBe("bad-reference")
        expect(e.message).toBe("invalid secret reference 'op://a/b': too few '/': secret references should have at least vault, item and field specified")
        expect(f.calls).toHaveLength(0)
    })

    it("exit status 0 with stderr is a failure (and the value on stdout is not returned)", async () => {
        const f = fake({ exitCode: 0, stdout: "leaked", stderr: `${TS}odd\n` })
        const e = (await caught(createOpClient({ env: {} }, { exec: f.exec }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe("failed")
        expect(e.message).toBe('op read printed an error although it exited with status 0 (needed for "op://V/i/f")')
        expect(JSON.stringify(e)).not.toContain("leaked")
    })

    it.each([
        [2, "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n", "crashed", 'op read crashed (exit status 2) (needed for "op://V/i/f")'],
        [4, `${TS}(400) Bad Request: The structure of request was invalid.\n`, "failed", 'op read failed (exit status 4) (needed for "op://V/i/f")'],
    ])("exit status %i is a failure", async (exitCode, stderr, kind, message) => {
        const f = fake({ exitCode, stderr })
        const e = (await caught(createOpClient({ env: {} }, { exec: f.exec }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe(kind)
        expect(e.message).toBe(message)
        expect(e.code).toBe(ExitCode.Generic)
    })
})

describe("createOpClient: items", () => {
    it("getItem parses the item JSON", async () => {
        const f = fake({ stdout: `${JSON.stringify(ITEM_JSON, null, 2)}\n` })
        const item = await createOpClient({ env: {} }, { exec: f.exec }).getItem("Prod", "db")
        expect(item).toEqual(ITEM_JSON)
        expect(f.calls[0]?.argv).toEqual(["item", "get", "db", "--vault", "Prod", "--format", "json", "--reveal"])
        expect(f.calls[0]?.input).toBeUndefined()
    })

    it("listItems passes filters and checks every summary", async () => {
        const summary = { id: "a", title: "t", version: 1, vault: { id: "v", name: "Prod" }, category: "LOGIN" }
        const f = fake({ stdout: JSON.stringify([summary]) }, { stdout: "[]\n" })
        const client = createOpClient({ env: {} }, { exec: f.exec })
        expect(await client.listItems("Prod", { tags: ["app"] })).toEqual([summary])
        expect(await client.listItems("Prod")).toEqual([])
        expect(f.calls.map((c) => c.argv)).toEqual([
            ["item", "list", "--vault", "Prod", "--tags", "app", "--format", "json"],
            ["item", "list", "--vault", "Prod", "--format", "json"],
        ])
    })

    it.each([
        ["not JSON", "password: hunter2 {"],
        ["the wrong shape", JSON.stringify({ id: "x", fields: [{ value: "hunter2" }] })],
        ["a field value that is not a string", JSON.stringify({ ...ITEM_JSON, fields: [{ id: "a", type: "STRING", value: 42 }] })],
    ])("output that is %s is an error that never echoes stdout", async (_name, stdout) => {
        const f = fake({ stdout })
        const e = (await caught(createOpClient({ env: {} }, { exec: f.exec }).getItem("Prod", "db"))) as OpError
        expect(e.kind).toBe("failed")
        expect(e.message).toBe('op item get printed output that is not the JSON secrets expects (needed for item "db" in vault "Prod")')
        expect(e.hints).toEqual(["secrets needs op 2.23 or later: check `op --version`"])
        expect(JSON.stringify([e.message, e.hints])).not.toContain("hunter2")
    })

    it("createItem and editItem send the template on stdin, never on argv", async () => {
        const f = fake({ stdout: JSON.stringify(ITEM_JSON) })
        const client = createOpClient({ env: {} }, { exec: f.exec })
        await client.createItem("Prod", TEMPLATE)
        await client.editItem("Prod", "nnotgv5xwrhjbdj6bt3rugrijy", TEMPLATE)
        expect(f.calls.map((c) => c.argv)).toEqual([
            ["item", "create", "-", "--vault", "Prod", "--format", "json"],
            ["item", "edit", "nnotgv5xwrhjbdj6bt3rugrijy", "--vault", "Prod", "--format", "json"],
        ])
        for (const c of f.calls) expect(c.input).toBe(`${JSON.stringify(TEMPLATE)}\n`)
    })

    it("no template value ever appears on argv, only on stdin (property)", async () => {
        const value = fc.string({ minLength: 1, maxLength: 30 })
        await fc.assert(
            fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 4 }), fc.constantFrom("Prod", "My Vault"), fc.constantFrom("db", "api key"), async (values, vault, title) => {
                fc.pre(values.every((v) => ![vault, title, "item", "create", "edit", "-", "--vault", "--format", "json"].some((w) => w.includes(v))))
                const f = fake({ stdout: JSON.stringify(ITEM_JSON) })
                const client = createOpClient({ env: {} }, { exec: f.exec })
                const template: OpItemTemplate = { title, category: "LOGIN", fields: values.map((v, i) => ({ id: `f${i}`, type: "CONCEALED", label: `f${i}`, value: v })) }
                await client.createItem(vault, template)
                await client.editItem(vault, title, template)
                for (const c of f.calls) {
                    for (const word of c.argv) for (const v of values) expect(word.includes(v)).toBe(false)
                    expect(JSON.parse(c.input ?? "null")).toEqual(template)
                }
            }),
            { numRuns: 50 },
        )
    })

    it("a failure on create is not quoted when op's text holds a template value", async () => {
        const f = fake({ exitCode: 1, stderr: `${TS}bad value p@ss word\n` })
        const e = (await caught(createOpClient({ env: {} }, { exec: f.exec }).createItem("Prod", TEMPLATE))) as OpError
        expect(e.message).toBe('op item create failed (needed for new item "db" in vault "Prod")')
        expect(e.hints).toEqual([])
    })
})

describe("createOpClient: conflicts and rate limits", () => {
    const conflict = { exitCode: 1, stderr: `${TS}(409) Conflict: The item was modified by another request.\n` }

    it("retries a 409 with the Terraform backoff, then succeeds", async () => {
        const f = fake(conflict, conflict, { stdout: JSON.stringify(ITEM_JSON) })
        const waits: number[] = []
        const client = createOpClient({ env: {} }, { exec: f.exec, sleep: async (ms) => void waits.push(ms), random: () => 0.5 })
        expect(await client.editItem("Prod", "db", TEMPLATE)).toEqual(ITEM_JSON)
        expect(f.calls).toHaveLength(3)
        // jitter = 0.5 + 0.5/2 = 0.75: 100 + 500·1·0.75, 100 + 500·2·0.75
        expect(waits).toEqual([475, 850])
    })

    it("gives up after conflictRetries extra tries", async () => {
        const f = fake(conflict)
        const waits: number[] = []
        const client = createOpClient({ env: {}, conflictRetries: 2 }, { exec: f.exec, sleep: async (ms) => void waits.push(ms), random: () => 0 })
        const e = (await caught(client.createItem("Prod", TEMPLATE))) as OpError
        expect(e.kind).toBe("conflict")
        expect(f.calls).toHaveLength(3)
        expect(waits).toEqual([350, 600])
        expect(e.hints.at(-1)).toBe("secrets tried 3 times")
    })

    it("does not retry a 429", async () => {
        const f = fake({ exitCode: 1, stderr: `${TS}(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests.\n` })
        const e = (await caught(createOpClient({ env: {} }, { exec: f.exec, ...noSleep }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe("rate-limited")
        expect(e.hints[0]).toBe("the hourly request limit is used up; retry in 58 minutes")
        expect(f.calls).toHaveLength(1)
    })

    it("backoff formula: 100 ms + 500 ms·2^attempt·jitter", () => {
        expect(conflictBackoffMs(0, 0.5)).toBe(350)
        expect(conflictBackoffMs(1, 0.5)).toBe(600)
        expect(conflictBackoffMs(2, 0.999)).toBe(2098)
    })
})

describe("opClientFromEnv", () => {
    it("takes bin and timeout from the environment and hands op the rest without SOPS_* and SECRETS_*", async () => {
        const f = fake({ stdout: "v" })
        const client = opClientFromEnv(
            { PATH: "/bin", HOME: "/h", OP_SERVICE_ACCOUNT_TOKEN: "ops_x", SECRETS_OP_BIN: "/opt/op", SECRETS_OP_TIMEOUT: "2500", SOPS_AGE_KEY: "AGE-SECRET-KEY-1X", SECRETS_AGE_KEY: "AGE-SECRET-KEY-1Y" },
            { exec: f.exec },
        )
        await client.read("op://V/i/f")
        expect(f.calls[0]?.bin).toBe("/opt/op")
        expect(f.calls[0]?.timeoutMs).toBe(2500)
        expect(f.calls[0]?.env).toEqual({ PATH: "/bin", HOME: "/h", OP_SERVICE_ACCOUNT_TOKEN: "ops_x" })
    })

    it("defaults to op and 30 s", async () => {
        const f = fake({ stdout: "v" })
        await opClientFromEnv({ SECRETS_OP_BIN: "", SECRETS_OP_TIMEOUT: "" }, { exec: f.exec }).read("op://V/i/f")
        expect(f.calls[0]?.bin).toBe("op")
        expect(f.calls[0]?.timeoutMs).toBe(30_000)
    })

    it.each(["0", "-5", "1.5", "soon"])("refuses SECRETS_OP_TIMEOUT=%s", (raw) => {
        expect(() => opClientFromEnv({ SECRETS_OP_TIMEOUT: raw })).toThrow("SECRETS_OP_TIMEOUT must be a positive whole number of milliseconds")
    })
})
