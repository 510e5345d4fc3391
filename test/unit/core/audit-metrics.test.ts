/**
 * `secrets metrics`' pure part (src/core/audit-metrics.ts, audit-entry.ts): records
 * read defensively from an editable log, per-command counts, error rates and
 * nearest-rank percentiles, and node_exporter's textfile format, checked by
 * Prometheus's own `promtool check metrics` where Debian's prometheus is installed.
 */
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { entriesOf, type AuditEntry } from "../../../src/core/audit-entry.js"
import { auditMetrics, escapeLabel, percentile, prometheusText } from "../../../src/core/audit-metrics.js"

function entry(command: string, durationMs: number, result: "ok" | "error" = "ok", event?: string): AuditEntry {
    return { time: "2026-12-06T10:00:00.000Z", user: "alice", host: "laptop", command, files: ["secrets/app.yaml"], keyPaths: [], result, exitCode: result === "ok" ? 0 : 128, durationMs, ...(event ? { event } : {}) }
}

describe("entriesOf", () => {
    it("keeps well-formed records and leaves out anything else a log may hold", () => {
        const good = entry("decrypt", 12)
        const log = [JSON.stringify({ seq: 1, prev: "x", ...good }), "not json", JSON.stringify({ ...good, durationMs: -1 }), JSON.stringify({ ...good, files: "a" }), JSON.stringify({ ...good, time: "yesterday" }), ""].join("\n")
        expect(entriesOf(log)).toEqual([good])
    })
})

describe("auditMetrics", () => {
    it("counts per command, with error rates, nearest-rank p50/p95 and rotations", () => {
        const list = [
            ...Array.from({ length: 20 }, (_, i) => entry("decrypt", i + 1)),
            entry("set", 30),
            entry("set", 50, "error"),
            entry("rotate", 80, "ok", "rotation"),
        ]
        const m = auditMetrics(list)
        expect(m.rotations).toBe(1)
        expect(m.commands).toEqual([
            { command: "decrypt", count: 20, errors: 0, errorRate: 0, p50Ms: 10, p95Ms: 19 },
            { command: "rotate", count: 1, errors: 0, errorRate: 0, p50Ms: 80, p95Ms: 80 },
            { command: "set", count: 2, errors: 1, errorRate: 0.5, p50Ms: 30, p95Ms: 50 },
        ])
        expect(percentile([], 50)).toBe(0)
    })
})

describe("prometheusText", () => {
    const text = prometheusText(auditMetrics([entry("decrypt", 5), entry('we"ird\\cmd\nx', 7, "error")]), [{ name: "secrets_values_due", help: "Values due for rotation.", value: 2 }])

    it("writes each family once, HELP and TYPE first, escaped labels, no timestamps, a final newline", () => {
        expect(text.endsWith("\n")).toBe(true)
        expect(text).toContain('secrets_commands_total{command="we\\"ird\\\\cmd\\nx"} 1\n')
        expect(text).toContain("secrets_command_duration_p50_seconds{command=\"decrypt\"} 0.005\n")
        expect(text).toContain("secrets_values_due 2\n")
        const types = text.split("\n").filter((l) => l.startsWith("# TYPE "))
        expect(new Set(types).size).toBe(types.length)
        expect(escapeLabel('a"b')).toBe('a\\"b')
        // No sample line carries a third field (a timestamp).
        for (const l of text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) expect(l.replace(/\{.*\}/, "").split(" ")).toHaveLength(2)
    })

    const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" })
    it.skipIf(promtool.error !== undefined)("passes promtool check metrics (Debian prometheus; skipped where it is not installed)", () => {
        const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
        expect(r.stderr + r.stdout).toBe("")
        expect(r.status).toBe(0)
    })
})
