/**
 * `secrets metrics [--since] [--json] [--prometheus FILE]` (issue 16 §2): the audit
 * log summarized per command (count, errors, error rate, p50/p95 latency) and its
 * rotations. `--prometheus FILE` writes node_exporter's textfile-collector format
 * atomically (a temp file in the same directory, then rename), so a scrape never
 * sees half a file; the file is 0644, since the collector runs as its own user and
 * the numbers name no secret.
 *
 * Run inside a repository (a `.sops.yaml` found from here, or `--config`), it also
 * counts what is due there, as `status` finds it: data keys past `max_age`, values
 * expired, due or expiring, certificates expiring or expired. `--no-repo` leaves
 * that out (it walks the repository and its git history).
 */
import { Command, Option } from "commander"
import { auditLogTarget, logOption, sinceFlag, sinceOption } from "./audit.js"
import type { CommandContext } from "../context.js"

interface MetricsFlags {
    log?: string
    since?: string
    json?: boolean
    prometheus?: string
    repo?: boolean
    config?: string
}

/** What is due in the repository, as status counts it. */
interface DueCounts {
    readonly dataKeys: number
    readonly values: number
    readonly certificates: number
}

export function registerMetrics(program: Command, ctx: CommandContext): void {
    program
        .command("metrics")
        .description("summarize the audit log: counts, error rates and p50/p95 latency per command, rotations")
        .addOption(logOption())
        .addOption(sinceOption())
        .addOption(new Option("--json", "print the summary as JSON"))
        .addOption(new Option("--prometheus <file>", "also write node_exporter's textfile format to this file (atomically)"))
        .addOption(new Option("--no-repo", "do not count the data keys, values and certificates due in the repository found from here"))
        .action(async (_flags: MetricsFlags, cmd: Command) => {
            const flags = cmd.optsWithGlobals<MetricsFlags>()
            await ctx.dispatch("metrics", [], flags, async () => {
                const { auditEntries } = await import("../../files/audit-read.js")
                const { auditMetrics, prometheusText } = await import("../../core/audit-metrics.js")
                const since = await sinceFlag(ctx.io, flags.since)
                const m = auditMetrics(auditEntries(await auditLogTarget(ctx.io, flags), since !== undefined ? { since } : {}))
                const due = flags.repo === false ? undefined : await dueInRepository(ctx, flags.config)
                if (flags.prometheus !== undefined) {
                    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
                    const { resolve } = await import("node:path")
                    const gauges =
                        due === undefined
                            ? []
                            : [
                                  { name: "secrets_data_keys_due", help: "Files whose data key is older than secrets.rotation.max_age.", value: due.dataKeys },
                                  { name: "secrets_values_due", help: "Values expired, due by rotate_every or expiring within the window.", value: due.values },
                                  { name: "secrets_certificates_expiring", help: "Certificates stored as values that expire within the window or have expired.", value: due.certificates },
                              ]
                    await writeFileAtomic(resolve(ctx.io.cwd, flags.prometheus), new TextEncoder().encode(prometheusText(m, gauges)), { mode: 0o644 })
                }
                if (flags.json === true) {
                    ctx.io.stdout.write(JSON.stringify(due === undefined ? m : { ...m, due }, null, 2) + "\n")
                    return
                }
                if (flags.prometheus !== undefined) return
                const rows = m.commands.map((c) => `${c.command.padEnd(16)} ${String(c.count).padStart(6)} ${String(c.errors).padStart(6)} ${(c.errorRate * 100).toFixed(1).padStart(6)}% ${String(c.p50Ms).padStart(7)} ${String(c.p95Ms).padStart(7)}`)
                const dueLine = due === undefined ? [] : [`due: ${due.dataKeys} data key(s), ${due.values} value(s), ${due.certificates} certificate(s)`]
                ctx.io.stdout.write([`${"COMMAND".padEnd(16)} ${"COUNT".padStart(6)} ${"ERRORS".padStart(6)} ${"RATE".padStart(7)} ${"P50 MS".padStart(7)} ${"P95 MS".padStart(7)}`, ...rows, `rotations: ${m.rotations}`, ...dueLine].join("\n") + "\n")
            })
        })
}

/** What `status` finds due, counted; undefined outside a repository (no `.sops.yaml` found). */
async function dueInRepository(ctx: CommandContext, explicitConfig: string | undefined): Promise<DueCounts | undefined> {
    if (explicitConfig === undefined) {
        const { findConfig } = await import("../../config/find.js")
        const { existsSync } = await import("node:fs")
        if (findConfig({ cwd: ctx.io.cwd, exists: existsSync }) === undefined) return undefined
    }
    const { collectStatus, collectExpiry } = await import("./status.js")
    const collected = await collectStatus(ctx.io, explicitConfig)
    const expiry = await collectExpiry(ctx.io, collected, undefined)
    return {
        dataKeys: collected.report.files.filter((f) => f.due).length,
        values: (expiry.values ?? []).filter((v) => v.state !== "ok").length,
        certificates: (expiry.certificates?.certificates ?? []).filter((c) => c.state !== "ok").length,
    }
}
