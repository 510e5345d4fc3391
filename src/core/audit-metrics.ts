/**
 * `secrets metrics` (issue 16 §2), pure: the audit records summarized per command
 * (count, errors, error rate, p50 and p95 latency) and the rotations, and the same
 * as node_exporter's textfile-collector format.
 *
 * The text format (run-ci-git-anchors.md §4): HELP and TYPE once per family, before
 * its samples, each family's samples together; label values escaped (`\\`, `\"`,
 * `\n`); no timestamps (the collector drops them with a warning); the last line
 * ends in "\n". Latencies in seconds, the base unit.
 */
import type { AuditEntry } from "./audit-entry.js"

export interface CommandMetrics {
    readonly command: string
    readonly count: number
    readonly errors: number
    readonly errorRate: number
    readonly p50Ms: number
    readonly p95Ms: number
}

export interface AuditMetrics {
    readonly commands: readonly CommandMetrics[]
    readonly rotations: number
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
    return sorted[rank - 1]!
}

export function auditMetrics(entries: readonly AuditEntry[]): AuditMetrics {
    const by = new Map<string, AuditEntry[]>()
    for (const e of entries) {
        const list = by.get(e.command)
        if (list === undefined) by.set(e.command, [e])
        else list.push(e)
    }
    const commands = [...by.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([command, list]) => {
            const ms = list.map((e) => e.durationMs).sort((a, b) => a - b)
            const errors = list.filter((e) => e.result === "error").length
            return { command, count: list.length, errors, errorRate: errors / list.length, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95) }
        })
    return { commands, rotations: entries.filter((e) => e.event === "rotation").length }
}

/** A label value as the text format wants it. */
export function escapeLabel(value: string): string {
    return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

/** A number as a Go float would print for the collector: NaN and infinities by name. */
function sample(v: number): string {
    if (Number.isNaN(v)) return "NaN"
    if (v === Infinity) return "+Inf"
    if (v === -Infinity) return "-Inf"
    return String(v)
}

/**
 * The metrics as a textfile for node_exporter. `extra` gauges (keys and values due,
 * which come from the repository rather than the log) are added as given.
 */
export function prometheusText(m: AuditMetrics, extra: readonly { name: string; help: string; value: number }[] = []): string {
    const lines: string[] = []
    const family = (name: string, type: "counter" | "gauge", help: string, samples: readonly [string, number][]) => {
        lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`)
        for (const [labels, v] of samples) lines.push(`${name}${labels} ${sample(v)}`)
    }
    const per = (f: (c: CommandMetrics) => number): [string, number][] => m.commands.map((c) => [`{command="${escapeLabel(c.command)}"}`, f(c)])
    family("secrets_commands_total", "counter", "Commands recorded in the audit log.", per((c) => c.count))
    family("secrets_command_errors_total", "counter", "Commands that ended in an error.", per((c) => c.errors))
    family("secrets_command_duration_p50_seconds", "gauge", "Median command duration.", per((c) => c.p50Ms / 1000))
    family("secrets_command_duration_p95_seconds", "gauge", "95th percentile command duration.", per((c) => c.p95Ms / 1000))
    family("secrets_rotations_total", "counter", "Data key and value rotations recorded in the audit log.", [["", m.rotations]])
    for (const g of extra) family(g.name, "gauge", g.help, [["", g.value]])
    return lines.join("\n") + "\n"
}
