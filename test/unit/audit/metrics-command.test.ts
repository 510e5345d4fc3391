/**
 * `secrets metrics` (src/cli/commands/metrics.ts) over a log written by the real
 * appender: the per-command summary as JSON and as a table, and the Prometheus
 * textfile written atomically, readable by node_exporter's user (0644), and
 * accepted by Prometheus's own promtool where Debian's prometheus is installed.
 */
import { spawnSync } from "node:child_process"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { appendAudit, auditTargetAt } from "../../../src/files/audit-log.js"
import { runInProcess } from "../../helpers/in-process.js"

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

async function logOf() {
    const dir = mkdtempSync(join(tmpdir(), "metrics-"))
    dirs.push(dir)
    const target = auditTargetAt(join(dir, "audit.jsonl"))
    const base = { time: "2026-12-05T10:00:00.000Z", user: "alice", host: "laptop", files: ["secrets/app.yaml"], keyPaths: [] }
    for (let i = 1; i <= 10; i++) await appendAudit(target, { ...base, command: "decrypt", result: "ok", exitCode: 0, durationMs: i * 10 })
    await appendAudit(target, { ...base, command: "set", result: "error", exitCode: 128, durationMs: 5 })
    await appendAudit(target, { ...base, command: "rotate", result: "ok", exitCode: 0, durationMs: 40, event: "rotation" })
    return { dir, target }
}

const hasPromtool = spawnSync("promtool", ["--version"]).error === undefined

describe("metrics", () => {
    it("summarizes per command as JSON and as a table", async () => {
        const { dir, target } = await logOf()
        const json = await runInProcess(["metrics", "--log", target.log, "--json"], { cwd: dir })
        expect(json.code).toBe(0)
        expect(JSON.parse(json.stdout)).toEqual({
            commands: [
                { command: "decrypt", count: 10, errors: 0, errorRate: 0, p50Ms: 50, p95Ms: 100 },
                { command: "rotate", count: 1, errors: 0, errorRate: 0, p50Ms: 40, p95Ms: 40 },
                { command: "set", count: 1, errors: 1, errorRate: 1, p50Ms: 5, p95Ms: 5 },
            ],
            rotations: 1,
        })
        const table = await runInProcess(["metrics", "--log", target.log], { cwd: dir })
        expect(table.stdout.split("\n")[1]).toMatch(/^decrypt\s+10\s+0\s+0\.0%\s+50\s+100$/)
        expect(table.stdout).toContain("rotations: 1\n")
    })

    it("writes the textfile atomically, 0644, and leaves no temp file", async () => {
        const { dir, target } = await logOf()
        const prom = join(dir, "secrets.prom")
        const r = await runInProcess(["metrics", "--log", target.log, "--prometheus", prom], { cwd: dir })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe("")
        const text = readFileSync(prom, "utf8")
        expect(text).toContain('secrets_command_errors_total{command="set"} 1\n')
        expect(statSync(prom).mode & 0o777).toBe(0o644)
        expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([])
        if (hasPromtool) {
            const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
            expect(check.stdout + check.stderr).toBe("")
            expect(check.status).toBe(0)
        }
    })

    it("inside a repository also counts the data keys and values due there, as status finds them", { timeout: 120_000 }, async () => {
        const { dir, target } = await logOf()
        execFileSync("age-keygen", ["-o", join(dir, "key.txt")], { stdio: "ignore" })
        const recipient = execFileSync("age-keygen", ["-y", join(dir, "key.txt")], { encoding: "utf8" }).trim()
        writeFileSync(
            join(dir, ".sops.yaml"),
            `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${recipient}\nsecrets:\n  rotation:\n    max_age: 30d\n  values:\n    - path: '["db"]["password"]'\n      expires: 2026-01-01\n`,
        )
        writeFileSync(join(dir, "app.yaml"), "db:\n    password: hunter2\n    user: app\n")
        const env = { SOPS_AGE_KEY_FILE: join(dir, "key.txt"), SECRETS_NOW: "2026-12-06T00:00:00Z" }
        expect((await runInProcess(["encrypt", "-i", "app.yaml"], { cwd: dir, env: { ...env, SECRETS_NOW: "2026-06-01T00:00:00Z" } })).code).toBe(0)
        const json = await runInProcess(["metrics", "--log", target.log, "--json"], { cwd: dir, env })
        expect(json.code, json.stderr).toBe(0)
        // The data key is 188 days old (max_age 30d); the password expired on 2026-01-01.
        expect(JSON.parse(json.stdout).due).toEqual({ dataKeys: 1, values: 1, certificates: 0 })
        const prom = join(dir, "secrets.prom")
        expect((await runInProcess(["metrics", "--log", target.log, "--prometheus", prom], { cwd: dir, env })).code).toBe(0)
        const text = readFileSync(prom, "utf8")
        expect(text).toContain("secrets_data_keys_due 1\n")
        expect(text).toContain("secrets_values_due 1\n")
        if (hasPromtool) expect(spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" }).status).toBe(0)
        const none = await runInProcess(["metrics", "--log", target.log, "--json", "--no-repo"], { cwd: dir, env })
        expect(JSON.parse(none.stdout).due).toBeUndefined()
    })
})
