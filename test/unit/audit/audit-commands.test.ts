/**
 * `secrets audit verify|show` (src/cli/commands/audit.ts) on logs written by the
 * real appender (src/files/audit-log.ts): an intact log verifies, each kind of
 * tampering fails with the integrity exit code and names the line, and show
 * filters records.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { anchorFor, chainLine } from "../../../src/core/audit-chain.js"
import { appendAudit, auditTargetAt } from "../../../src/files/audit-log.js"
import { runInProcess } from "../../helpers/in-process.js"

// The demo fleet's public key for alice: a real recipient for .sops.yaml to name.
const ALICE = execFileSync("age-keygen", ["-y", join(import.meta.dirname, "../../../examples/keys/alice.txt")], { encoding: "utf8" }).trim()

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function record(command: string, time: string) {
    return { time, user: "alice", host: "laptop", command, files: ["secrets/app.yaml"], keyPaths: ['["db"]["password"]'], recipients: [ALICE], result: "ok", exitCode: 0, durationMs: 12 }
}

async function logOf(n: number) {
    const dir = mkdtempSync(join(tmpdir(), "audit-cli-"))
    dirs.push(dir)
    const target = auditTargetAt(join(dir, "audit.jsonl"))
    for (let i = 0; i < n; i++) await appendAudit(target, record(i % 3 === 0 ? "set" : "decrypt", new Date(Date.UTC(2026, 11, 1 + (i % 5))).toISOString()))
    return { dir, target }
}

describe("audit verify", () => {
    it("passes an intact log and fails an edited, shortened or deleted one with exit 51, naming the line", async () => {
        const { dir, target } = await logOf(10)
        const ok = await runInProcess(["audit", "verify", "--log", target.log], { cwd: dir })
        expect(ok.code).toBe(0)
        expect(ok.stdout).toContain("10 line(s), chain intact")
        const lines = readFileSync(target.log, "utf8").split("\n")

        writeFileSync(target.log, lines.map((l, i) => (i === 4 ? l.replace('"decrypt"', '"decrypx"') : l)).join("\n"))
        const edited = await runInProcess(["audit", "verify", "--log", target.log], { cwd: dir })
        expect(edited.code).toBe(51)
        expect(edited.stderr).toContain("line 6 does not follow line 5")

        writeFileSync(target.log, lines.slice(0, 8).join("\n") + "\n")
        const cut = await runInProcess(["audit", "verify", "--log", target.log, "--json"], { cwd: dir })
        expect(cut.code).toBe(51)
        expect(JSON.parse(cut.stdout)).toMatchObject({ ok: false, lines: 8, kinds: ["truncated"] })

        rmSync(target.log)
        const gone = await runInProcess(["audit", "verify", "--log", target.log], { cwd: dir })
        expect(gone.code).toBe(51)
        expect(gone.stderr).toContain("the log was deleted")
    })

    it("says nothing was recorded yet when neither the log nor its anchor exists", async () => {
        const dir = mkdtempSync(join(tmpdir(), "audit-cli-"))
        dirs.push(dir)
        const r = await runInProcess(["audit", "verify"], { cwd: dir, env: { SECRETS_AUDIT_LOG: join(dir, "none.jsonl") } })
        expect(r.code).toBe(0)
        expect(r.stdout).toContain("0 line(s)")
    })
})

describe("audit verify on a 10,000-line log (the issue's test)", () => {
    it("passes it whole, then finds an edit, a deletion, a reordering and a truncation, each at its line", { timeout: 120_000 }, async () => {
        const dir = mkdtempSync(join(tmpdir(), "audit-10k-"))
        dirs.push(dir)
        const target = auditTargetAt(join(dir, "audit.jsonl"))
        const lines: string[] = []
        for (let i = 0; i < 10_000; i++) {
            const prev = lines.length === 0 ? undefined : { text: lines[lines.length - 1]!, seq: lines.length }
            lines.push(chainLine(prev, record(i % 7 === 0 ? "set" : "decrypt", new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString())).slice(0, -1))
        }
        const write = (ls: readonly string[]) => writeFileSync(target.log, ls.map((l) => l + "\n").join(""))
        writeFileSync(target.anchor, JSON.stringify(anchorFor(lines[9_999]!, 10_000)) + "\n")
        const verify = async () => {
            const r = await runInProcess(["audit", "verify", "--log", target.log, "--json"], { cwd: dir })
            return { code: r.code, report: JSON.parse(r.stdout) as { ok: boolean; lines: number; problems: string[] } }
        }
        write(lines)
        expect(await verify()).toEqual({ code: 0, report: expect.objectContaining({ ok: true, lines: 10_000, problems: [] }) })

        write(lines.map((l, i) => (i === 4_999 ? l.replace('"user":"alice"', '"user":"mallory"') : l)))
        expect((await verify()).report.problems).toEqual(["line 5001 does not follow line 5000: the line before it was edited, removed or moved"])

        write(lines.filter((_, i) => i !== 1_234))
        const deleted = await verify()
        expect(deleted.code).toBe(51)
        expect(deleted.report.problems[0]).toBe("line 1235 carries seq 1236, expected 1235: lines were removed, added or moved before it")

        write([...lines.slice(0, 7_000), lines[7_001]!, lines[7_000]!, ...lines.slice(7_002)])
        expect((await verify()).report.problems.slice(0, 2)).toEqual([
            "line 7001 carries seq 7002, expected 7001: lines were removed, added or moved before it",
            "line 7001 does not follow line 7000: the line before it was edited, removed or moved",
        ])

        write(lines.slice(0, 9_990))
        expect((await verify()).report.problems).toEqual(["the anchor records 10000 lines but the log has 9990: lines were removed from its end"])
    })
})

describe("audit show", () => {
    it("filters by --since, --command and --file, as lines or --json", async () => {
        const { dir, target } = await logOf(10)
        const all = await runInProcess(["audit", "show", "--log", target.log, "--json"], { cwd: dir })
        expect(JSON.parse(all.stdout)).toHaveLength(10)
        const sets = await runInProcess(["audit", "show", "--log", target.log, "--command", "set", "--json"], { cwd: dir })
        expect((JSON.parse(sets.stdout) as { command: string }[]).map((e) => e.command)).toEqual(["set", "set", "set", "set"])
        const recent = await runInProcess(["audit", "show", "--log", target.log, "--since", "2026-12-04"], { cwd: dir })
        expect(recent.stdout.trimEnd().split("\n")).toHaveLength(4)
        // No .sops.yaml here: the recipient as a short key.
        expect(recent.stdout).toContain(`decrypt secrets/app.yaml ["db"]["password"]  alice@laptop as ${ALICE.slice(0, 9)}…${ALICE.slice(-5)}  12 ms`)
        // The log keeps the key; show names it from the .sops.yaml found from where it runs.
        writeFileSync(join(dir, ".sops.yaml"), `keys:\n  - &user_alice ${ALICE}\ncreation_rules:\n  - age: *user_alice\n`)
        const named = await runInProcess(["audit", "show", "--log", target.log, "--since", "2026-12-05"], { cwd: dir })
        expect(named.stdout).toContain(`alice@laptop as user alice (${ALICE.slice(0, 9)}…${ALICE.slice(-5)})  12 ms`)
        const other = await runInProcess(["audit", "show", "--log", target.log, "--file", "other.yaml"], { cwd: dir })
        expect(other.stdout).toBe("")
        const bad = await runInProcess(["audit", "show", "--log", target.log, "--since", "3 months"], { cwd: dir })
        expect(bad.code).toBe(1)
        expect(bad.stderr).toMatch(/^secrets: error: --since "3 months" is neither a span/)
    })
})
