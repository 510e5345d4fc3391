/**
 * `secrets rotate --due [--dry-run]`: a new data key for every file `secrets status`
 * says is due under the rotation policy (issue 4 §6). Each file goes through the
 * very path of `secrets rotate -i FILE` (runRotate: the file's lock, the same
 * identities, an atomic write), recipients unchanged. A file that fails is reported
 * and the others still go through; the exit code is then the first failure's.
 */
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { CommandContext } from "../context.js"
import type * as o from "../options.js"

export interface RotateDueOptions {
    readonly dryRun?: boolean
    readonly decryptionOrder?: string
}

/** Rotate every due file; returns the paths (relative to the config) rotated, or that would be on a dry run. */
export async function runRotateDue(ctx: CommandContext, opts: RotateDueOptions & o.GlobalOpts): Promise<string[]> {
    const { io } = ctx
    const { relative } = await import("node:path")
    const { runRotate } = await import("./rotate.js")
    const { info, reportError } = await import("../report.js")

    const { collectStatusWithProgress } = await import("./status.js")
    // At a terminal, a large repository shows how far the walk and the history are (as status does).
    const collected = await collectStatusWithProgress(io, opts.config)
    const { entries, policy, report } = collected
    if (policy === undefined) {
        throw new ConfigError("no rotation policy: nothing can be due", ["set secrets.rotation.max_age (e.g. 90d) in .sops.yaml"])
    }
    const due = report.files.filter((f) => f.due)
    if (due.length === 0) {
        info(io, `no data key is older than max_age ${policy.maxAge}`)
        return []
    }
    const done: string[] = []
    const failed: ExitCode[] = []
    const byPath = new Map(entries.map((e) => [e.path, e]))
    for (const f of due) {
        const entry = byPath.get(f.path)
        if (entry === undefined) continue
        const shown = relative(io.cwd, entry.abs) || entry.abs
        const why = `data key ${f.keyAgeDays ?? "?"}d old (${f.keySource ?? "unknown"}), max_age ${policy.maxAge}`
        if (opts.dryRun === true) {
            io.stdout.write(`would rotate ${f.path}: ${why}\n`)
            done.push(f.path)
            continue
        }
        try {
            await runRotate(ctx, shown, {
                inPlace: true,
                ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
                ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
            })
            io.stdout.write(`rotated ${f.path}: ${why}\n`)
            done.push(f.path)
        } catch (e) {
            reportError(io, e instanceof SecretsError ? e.about(quote(shown)) : e)
            failed.push(e instanceof SecretsError ? e.code : ExitCode.Generic)
        }
    }
    const n = (k: number) => `${k} file${k === 1 ? "" : "s"}`
    if (opts.dryRun === true) info(io, `dry run: ${n(done.length)} would be rotated, nothing written`)
    else info(io, `rotated ${n(done.length)} of ${n(due.length)} due`)
    if (failed.length > 0) {
        throw new SecretsError(failed[0] ?? ExitCode.Generic, `${n(failed.length)} could not be rotated`, [
            "the others were rotated; fix the cause and run `secrets rotate --due` again",
        ])
    }
    return done
}
