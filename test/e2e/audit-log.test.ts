/**
 * The audit log through the built binary (issue 16 §1): the fast paths (decrypt,
 * encrypt) and the full program (set, a failing command) each append one record
 * with the files and key paths they touched and never a value; 50 processes at
 * once append 50 whole, chained lines; a log that cannot be written costs a
 * warning, never the command's result; SECRETS_AUDIT_LOG=off writes nothing.
 */
import { createSocket } from "node:dgram"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { verifyChain } from "../../src/core/audit-chain.js"
import { entriesOf } from "../../src/core/audit-entry.js"
import { readAudit, auditTargetAt } from "../../src/files/audit-log.js"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "correct-horse-battery-staple-4711"

function setup() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "app.yaml"), `db:\n    password: ${SECRET}\n    user: app\n`)
    const log = join(dir, "state", "audit.jsonl")
    const env = { SOPS_AGE_KEY_FILE: key.file, SOPS_AGE_RECIPIENTS: key.recipient, SECRETS_AUDIT_LOG: log }
    return { dir, key, log, env }
}

describe("the audit log", () => {
    it("records the fast paths and the full program, files and key paths, never a value", { timeout: 120_000 }, async () => {
        const { dir, log, env, key } = setup()
        expect((await runCli(["encrypt", "-i", "app.yaml"], { cwd: dir, env })).code).toBe(0)
        expect((await runCli(["decrypt", "--extract", '["db"]["password"]', "app.yaml"], { cwd: dir, env })).stdout).toBe(SECRET)
        expect((await runCli(["rotate", "-i", "app.yaml"], { cwd: dir, env })).code).toBe(0)
        expect((await runCli(["set", "app.yaml", '["db"]["user"]', '"admin-7788"'], { cwd: dir, env })).code).toBe(0)
        expect((await runCli(["decrypt", "missing.yaml"], { cwd: dir, env })).code).toBe(100)
        expect((await runCli(["filestatus", "app.yaml"], { cwd: dir, env })).code).toBe(0)

        const { log: text, anchor } = readAudit(auditTargetAt(log))
        expect(verifyChain(text, anchor).problems).toEqual([])
        expect(text).not.toContain(SECRET)
        expect(text).not.toContain("admin-7788")
        const entries = entriesOf(text)
        // filestatus reads no secret: not recorded.
        expect(entries.map((e) => [e.command, e.result, e.exitCode])).toEqual([
            ["encrypt", "ok", 0],
            ["decrypt", "ok", 0],
            ["rotate", "ok", 0],
            ["set", "ok", 0],
            ["decrypt", "error", 100],
        ])
        expect(entries[1]!.files).toEqual([join(dir, "app.yaml")])
        expect(entries[1]!.keyPaths).toEqual(['["db"]["password"]'])
        // Who: the recipient whose key entry the caller's identity opened (public, exact).
        expect(entries[1]!.recipients).toEqual([key.recipient])
        expect(entries[0]!.recipients).toBeUndefined()
        expect(entries[2]!.event).toBe("rotation")
        expect(entries[3]!.keyPaths).toEqual(['["db"]["user"]'])
        expect(entries[3]!.recipients).toEqual([key.recipient])
        expect(entries[4]!.files).toEqual([join(dir, "missing.yaml")])
        for (const e of entries) {
            expect(e.durationMs).toBeGreaterThanOrEqual(0)
            expect(e.user).not.toBe("")
        }
    })

    it("takes 50 concurrent commands as 50 whole, chained lines", { timeout: 300_000 }, async () => {
        const { dir, log, env } = setup()
        expect((await runCli(["encrypt", "-i", "app.yaml"], { cwd: dir, env })).code).toBe(0)
        const runs = await Promise.all(Array.from({ length: 50 }, () => runCli(["decrypt", "app.yaml"], { cwd: dir, env })))
        expect(runs.map((r) => r.code)).toEqual(Array(50).fill(0))
        const { log: text, anchor } = readAudit(auditTargetAt(log))
        expect(verifyChain(text, anchor)).toEqual({ lines: 51, problems: [], unanchored: 0 })
    })

    it("warns and keeps the command's result when the log cannot be written; off writes nothing", { timeout: 120_000 }, async () => {
        const { dir, env } = setup()
        expect((await runCli(["encrypt", "-i", "app.yaml"], { cwd: dir, env })).code).toBe(0)
        // A log path whose parent is a file: no directory can be made there (also as root).
        writeFileSync(join(dir, "not-a-dir"), "")
        const broken = await runCli(["decrypt", "app.yaml"], { cwd: dir, env: { ...env, SECRETS_AUDIT_LOG: join(dir, "not-a-dir", "audit.jsonl") } })
        expect(broken.code).toBe(0)
        expect(broken.stdout).toContain(SECRET)
        expect(broken.stderr).toMatch(/^secrets: warning: not recorded in the audit log: /m)

        const relative = await runCli(["decrypt", "app.yaml"], { cwd: dir, env: { ...env, SECRETS_AUDIT_LOG: "audit.jsonl" } })
        expect(relative.code).toBe(0)
        expect(relative.stderr).toContain("SECRETS_AUDIT_LOG must be an absolute path, or off")

        mkdirSync(join(dir, "home"))
        chmodSync(join(dir, "home"), 0o700)
        const off = await runCli(["decrypt", "app.yaml"], { cwd: dir, home: join(dir, "home"), env: { ...env, SECRETS_AUDIT_LOG: "off" } })
        expect(off.code).toBe(0)
        expect(existsSync(join(dir, "home", ".local"))).toBe(false)
        expect(readFileSync(join(dir, "app.yaml"), "utf8")).toContain("ENC[")
    })

    it("forwards each record to a syslog collector through logger when asked (udp://), never a value", { timeout: 120_000 }, async () => {
        const { dir, env } = setup()
        expect((await runCli(["encrypt", "-i", "app.yaml"], { cwd: dir, env })).code).toBe(0)
        const server = createSocket("udp4")
        const received: string[] = []
        const got = new Promise<void>((done) => server.on("message", (m) => (received.push(m.toString()), done())))
        await new Promise<void>((done) => server.bind(0, "127.0.0.1", done))
        try {
            const port = server.address().port
            const r = await runCli(["decrypt", "app.yaml"], { cwd: dir, env: { ...env, SECRETS_AUDIT_SYSLOG: `udp://127.0.0.1:${port}` } })
            expect(r.code).toBe(0)
            expect(r.stderr).toBe("")
            await got
            // RFC 5424 from util-linux logger: <PRI>1 TIME HOST secrets PID - ... then our JSON line.
            // authpriv (10) * 8 + info (6) = 86.
            expect(received[0]).toMatch(/^<86>1 \S+ \S+ secrets /)
            expect(received[0]).toContain('"command":"decrypt"')
            expect(received[0]).not.toContain(SECRET)
        } finally {
            server.close()
        }
        const bad = await runCli(["decrypt", "app.yaml"], { cwd: dir, env: { ...env, SECRETS_AUDIT_SYSLOG: "tcp://x" } })
        expect(bad.code).toBe(0)
        expect(bad.stderr).toContain("secrets: warning: not forwarded to syslog: SECRETS_AUDIT_SYSLOG must be 1 (the local syslog) or udp://HOST:PORT")
    })
})
