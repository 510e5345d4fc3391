import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { item, loginItem, seedStore, vault, type OpStandin } from "../../helpers/op-standin.js"
import { errLine, op, standinWith } from "./run-op.js"

const KEY_PKCS8 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHk=\n-----END PRIVATE KEY-----\n"
const KEY_OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n"

function store() {
    return seedStore({
        vaults: [
            vault("Dev", [
                loginItem("db", "admin", "s3cr3t-top", [
                    { label: "password", value: "in-section", section: "test section" },
                    { label: "api key", value: "k-123", section: "test section" },
                    { label: "otp", type: "OTP", value: "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
                ]),
                item({ title: "notes", category: "SECURE_NOTE", fields: [{ label: "notesPlain", value: "line 1\nline 2\n" }] }),
                item({ title: "empty", category: "SECURE_NOTE", fields: [{ label: "notesPlain", value: "" }] }),
                item({
                    title: "ssh",
                    category: "SSH_KEY",
                    fields: [{ id: "private_key", label: "private key", type: "SSHKEY", value: KEY_PKCS8 }],
                }),
                item({ title: "web", urls: [{ label: "website", primary: true, href: "https://example.com/login" }], fields: [] }),
                item({ title: "with file", category: "DOCUMENT", files: [{ name: "key.pem", content: "PEM\nDATA" }] }),
            ]),
        ],
    })
}

describe.concurrent("op read", () => {
    let standin: OpStandin
    let dir: string
    let ids: { vault: string; db: string }
    beforeAll(async () => {
        const s = store()
        const sshField = s.vaults[0]!.items[3]!.fields![0]!
        sshField.ssh_formats = { openssh: { value: KEY_OPENSSH } }
        ;({ dir, standin } = await standinWith(s))
        ids = { vault: s.vaults[0]!.id, db: s.vaults[0]!.items[0]!.id }
    })

    it("prints the value and one newline; -n and --no-newline print it bare; success leaves stderr empty", async () => {
        expect(await op(standin, ["read", "op://Dev/db/password"])).toEqual({ code: 0, signal: null, stdout: "s3cr3t-top\n", stderr: "" })
        expect((await op(standin, ["read", "-n", "op://Dev/db/password"])).stdout).toBe("s3cr3t-top")
        expect((await op(standin, ["read", "op://Dev/db/password", "--no-newline"])).stdout).toBe("s3cr3t-top")
    })

    it("prints multi-line values as stored, plus the newline", async () => {
        expect((await op(standin, ["read", "op://Dev/notes/notesPlain"])).stdout).toBe("line 1\nline 2\n\n")
    })

    it("prints an empty field as an empty line", async () => {
        expect(await op(standin, ["read", "op://Dev/empty/notesPlain"])).toMatchObject({ code: 0, stdout: "\n", stderr: "" })
    })

    it("prefers the top-level field without a section and finds the section's with one; names are case-insensitive", async () => {
        expect((await op(standin, ["read", "-n", "op://dev/DB/Password"])).stdout).toBe("s3cr3t-top")
        expect((await op(standin, ["read", "-n", "op://Dev/db/test section/password"])).stdout).toBe("in-section")
        expect((await op(standin, ["read", "-n", "op://Dev/db/api key"])).stdout).toBe("k-123")
    })

    it("accepts IDs for vault and item", async () => {
        expect((await op(standin, ["read", "-n", `op://${ids.vault}/${ids.db}/username`])).stdout).toBe("admin")
    })

    it("serves attributes, the primary URL as website, files by name, and ?ssh-format=openssh", async () => {
        const read = async (ref: string) => (await op(standin, ["read", "-n", ref])).stdout
        expect(await read("op://Dev/db/password?attribute=type")).toBe("concealed")
        expect(await read("op://Dev/db/username?attr=purpose")).toBe("username")
        expect(await read("op://Dev/db/password?attribute=id")).toBe("password")
        expect(await read("op://Dev/db/otp?attribute=otp")).toMatch(/^\d{6}$/)
        expect(await read("op://Dev/web/website")).toBe("https://example.com/login")
        expect(await read("op://Dev/with file/key.pem")).toBe("PEM\nDATA")
        expect(await read("op://Dev/with file/key.pem?attribute=size")).toBe("8")
        expect(await read("op://Dev/ssh/private key")).toBe(KEY_PKCS8)
        expect(await read("op://Dev/ssh/private key?ssh-format=openssh")).toBe(KEY_OPENSSH)
    })

    it("computes RFC 6238 codes (the RFC's SHA-1 test vector at T=59)", async () => {
        // RFC 6238 appendix B: secret "12345678901234567890" (base32 below), T=59 → 94287082 (8 digits) → 287082.
        const r = await op(standin, ["read", "-n", "op://Dev/db/otp?attribute=otp"], { env: { OP_STANDIN_NOW: "1970-01-01T00:00:59Z" } })
        expect(r.stdout).toBe("287082")
    })

    it.each([
        ["op://Dev/db/nope", "could not read secret 'op://Dev/db/nope': item 'Dev/db' does not have a field 'nope'"],
        ["op://Dev/db/other/password", "could not read secret 'op://Dev/db/other/password': item 'Dev/db' does not have a field 'other/password'"],
        [
            "op://Dev/nope/password",
            `could not read secret 'op://Dev/nope/password': could not get item Dev/nope: "nope" isn't an item in the "Dev" vault. Specify the item with its UUID, name, or domain.`,
        ],
        [
            "op://Nope/db/password",
            `could not read secret 'op://Nope/db/password': could not get item Nope/db: "Nope" isn't a vault in this account. Specify the vault with its ID or name.`,
        ],
        ["op://", "invalid secret reference 'op://': too few '/': secret references should have at least vault, item and field specified"],
        ["op://Dev/db", "invalid secret reference 'op://Dev/db': too few '/': secret references should have at least vault, item and field specified"],
        ["op://a/b/c/d/e", "invalid secret reference 'op://a/b/c/d/e': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>"],
    ])("%s fails with op's text, empty stdout, exit 1", async (ref, msg) => {
        const r = await op(standin, ["read", ref])
        expect(r.code).toBe(1)
        expect(r.stdout).toBe("")
        expect(r.stderr).toMatch(errLine(msg))
    })

    it("-o writes the value with --file-mode, prints the absolute path, refuses to overwrite without -f", async () => {
        const sub = join(dir, "out-a")
        const r = await op(standin, ["read", "op://Dev/db/password", "-o", "out-a", "--file-mode", "0640"], { cwd: dir })
        expect(r).toMatchObject({ code: 0, stdout: `${sub}\n`, stderr: "" })
        expect(readFileSync(sub, "utf8")).toBe("s3cr3t-top")
        expect(statSync(sub).mode & 0o777).toBe(0o640)
        const again = await op(standin, ["read", "op://Dev/db/username", `--out-file=${sub}`])
        expect(again.code).toBe(1)
        expect(again.stderr).toMatch(errLine(`the file ${sub} already exists; use --force to overwrite it`))
        expect(readFileSync(sub, "utf8")).toBe("s3cr3t-top")
        expect((await op(standin, ["read", "op://Dev/db/username", "-f", "-o", sub])).code).toBe(0)
        expect(readFileSync(sub, "utf8")).toBe("admin")
    })

    it("-o defaults to mode 0600", async () => {
        const file = join(dir, "out-b")
        await op(standin, ["read", "op://Dev/db/username", "-o", file])
        expect(statSync(file).mode & 0o777).toBe(0o600)
    })

    it("logs argv, the OP_* env with tokens hidden, and stdin bytes", async () => {
        const { standin: own } = await standinWith(store())
        await op(own, ["read", "op://Dev/db/username"], { env: { OP_SESSION_my: "tok-secret", OP_FORMAT: "json", OTHER: "x" } })
        await op(own, ["item", "get", "db"], { stdin: "abc" })
        const log = await own.readLog()
        expect(log).toHaveLength(2)
        expect(log[0]).toEqual({
            argv: ["read", "op://Dev/db/username"],
            env: { OP_STANDIN_STORE: own.storePath, OP_STANDIN_LOG: own.logPath, OP_STANDIN_NODE: process.execPath, OP_SESSION_my: "<set>", OP_FORMAT: "json" },
            stdinBytes: 0,
        })
        expect(log[1]!.stdinBytes).toBe(3)
        expect(await own.argvMentions("tok-secret")).toBe(false)
        expect(readFileSync(own.logPath, "utf8")).not.toContain("tok-secret")
    })

    it("does not write the store on reads", async () => {
        const { standin: own } = await standinWith(store())
        const before = readFileSync(own.storePath, "utf8")
        await op(own, ["read", "op://Dev/db/username"])
        expect(readFileSync(own.storePath, "utf8")).toBe(before)
    })
})
