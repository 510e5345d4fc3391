/**
 * `secrets rotate-value --due`: every value under the config that its policy says
 * is due (`rotate_every` passed since it last changed) or expired, found as
 * `status` finds files (fleet/inventory.ts) and judged by fleet/value-due.ts, each
 * rotated as `rotate-value FILE KEYPATH` rotates one. Every hook is shown and
 * confirmed once, before anything runs. A value that fails is reported and the
 * others go on; the exit code is then the first failure's.
 */
import { readFile } from "node:fs/promises"
import { relative } from "node:path"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { CommandContext } from "../context.js"
import type * as o from "../options.js"
import { confirmHooks, printResults, rotateOneValue, type RotateValueOptions, type RotationResult, type RotationTarget } from "./rotate-value.js"

export async function runRotateValueDue(ctx: CommandContext, opts: RotateValueOptions & o.GlobalOpts): Promise<RotationResult[]> {
    const { io } = ctx
    const { fleetConfigPath } = await import("./status.js")
    const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const { takeInventory } = await import("../../fleet/inventory.js")
    const { valuePolicies } = await import("../../fleet/value-policy.js")
    const { valuesDue, dueReason, needsRotation } = await import("../../fleet/value-due.js")
    const { withIdentities } = await import("../../files/node-identities.js")
    const { NO_IDENTITY_ADVICE } = await import("../../files/open-file.js")
    const { info, reportError } = await import("../report.js")

    const configPath = await fleetConfigPath(io, opts.config)
    const loaded = await loadFleetConfig(io, configPath)
    const shown = relative(io.cwd, configPath) || configPath
    const policies = valuePolicies(loaded.config.secrets, shown)
    if (policies.length === 0) throw new ConfigError(`${shown} has no secrets.values policies: no value can be due`, ["add policies with rotate_every or expires (see secrets rotate-value --help)"])
    const entries = await takeInventory(io, loaded)
    const now = io.now()
    // Every identity (retired ones too) so that history can tell a changed value from a re-encrypted one.
    const found = await withIdentities(io, [], NO_IDENTITY_ADVICE, async (identities) => {
        const out: { file: string; rel: string; keyPath: string; why: string; policyIndex: number }[] = []
        for (const e of entries) {
            if (e.metadata === undefined) continue
            const bytes = await readFile(e.abs)
            for (const v of await valuesDue({ abs: e.abs, path: e.path, bytes, policies, now, windowDays: 0, identities, env: io.env })) {
                if (needsRotation(v)) out.push({ file: relative(io.cwd, e.abs) || e.abs, rel: e.path, keyPath: v.keyPath, why: dueReason(v), policyIndex: v.policyIndex })
            }
        }
        return out
    })
    if (found.length === 0) {
        info(io, "no value is due or expired under secrets.values")
        if (opts.json === true) io.stdout.write("[]\n")
        return []
    }
    const failed: ExitCode[] = []
    const targets: RotationTarget[] = []
    for (const f of found) {
        const policy = policies[f.policyIndex - 1]
        if (policy?.generate === undefined) {
            reportError(io, new ConfigError(`${shown}: ${f.keyPath} in ${f.rel} is due (${f.why}) but secrets.values[${f.policyIndex}] has no generate:`, ["add generate: to the policy, or rotate the value by hand with secrets set"]))
            failed.push(ExitCode.Generic)
            continue
        }
        targets.push({ file: f.file, rel: f.rel, keyPath: f.keyPath, policy: { ...policy, generate: policy.generate }, configDir: loaded.dir })
        if (opts.dryRun === true && opts.json !== true) info(io, `${f.keyPath} in ${f.rel}: ${f.why}`)
    }
    if (opts.dryRun !== true) await confirmHooks(io, opts.yes === true, targets)
    const results: RotationResult[] = []
    for (const t of targets) {
        try {
            const r = await rotateOneValue(ctx, t, opts)
            results.push(r)
            if (opts.json !== true) printResults(io, [r], { ...opts, dryRun: false })
        } catch (e) {
            reportError(io, e instanceof SecretsError ? e.about(`${quote(t.file)} ${t.keyPath}`) : e)
            failed.push(e instanceof SecretsError ? e.code : ExitCode.Generic)
        }
    }
    if (opts.json === true) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
    const n = (k: number) => `${k} value${k === 1 ? "" : "s"}`
    if (opts.dryRun === true) info(io, `dry run: ${n(results.length)} would be rotated; nothing generated, run or written`)
    else info(io, `rotated ${n(results.length)} of ${n(found.length)} due`)
    if (failed.length > 0) {
        throw new SecretsError(failed[0] ?? ExitCode.Generic, `${n(failed.length)} could not be rotated`, ["the others were rotated; fix the cause and run `secrets rotate-value --due` again"])
    }
    return results
}
