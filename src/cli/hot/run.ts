/**
 * Running a {@link HotPlan}: what main() and the commander actions of
 * commands/decrypt.ts, filestatus.ts and exec-env.ts do for these command lines,
 * minus commander. The same run functions, fed the same options (the environment
 * defaults and identity options applied as the actions apply them), and errors
 * reported by the same reportError, so output bytes and exit codes are the
 * program's own.
 *
 * This module is the entry of dist/hot.bundle.cjs (scripts/bundle.mjs), which
 * must not hold commander, zod, the fleet, 1Password or the prompts: the run
 * functions import their heavy modules lazily, and the bundle build fails if one
 * of those packages gets in.
 */
import { ExitCode } from "../../errors.js"
import type { Io } from "../../files/io.js"
import { reportError } from "../report.js"
import { withAuditRecord } from "../audit-record.js"
import { runNow, type CommandContext } from "../context.js"
import { withEnvDefaults, withIdentityOptions } from "../options.js"
import { runDecrypt } from "../commands/decrypt.js"
import { runFilestatus } from "../commands/filestatus.js"
import { runExecEnv } from "../commands/exec-env.js"
import type { HotDecryptOptions, HotExecEnvOptions, HotPlan } from "./argv.js"

/** What withEnvDefaults may add from SOPS_AGE_RECIPIENTS, SOPS_DECRYPTION_ORDER and SOPS_CONFIG. */
type EnvOptions = { age?: string; decryptionOrder?: string; config?: string }

export { hotPlan, isHotCommand, type HotPlan } from "./argv.js"

/** Run `plan` (made from `argv`) as the full program would run `argv`; the exit code. */
export async function runHot(plan: HotPlan, io: Io, argv: readonly string[]): Promise<number> {
    // Recorded in the audit log as main.ts records the full program's commands (issue 16 §1).
    return withAuditRecord(io, plan.command, [plan.file], plan.opts, (auditedIo) => runHotUnaudited(plan, auditedIo, argv))
}

async function runHotUnaudited(plan: HotPlan, io: Io, argv: readonly string[]): Promise<number> {
    const state = { exitCode: ExitCode.Ok as number }
    const ctx: CommandContext = { io, state, dispatch: runNow, argv }
    try {
        switch (plan.command) {
            case "decrypt":
            case "view": {
                // As the actions: the global options are all absent here, so
                // optsWithGlobals() is the command's own options.
                const opts = withEnvDefaults<HotDecryptOptions & EnvOptions>({ ...plan.opts }, io.env)
                await runDecrypt(withIdentityOptions(ctx, opts, plan.file), plan.file, opts)
                break
            }
            case "filestatus":
                await runFilestatus(ctx, plan.file, { ...plan.opts })
                break
            case "exec-env": {
                const opts = withEnvDefaults<HotExecEnvOptions & EnvOptions>({ ...plan.opts }, io.env)
                await runExecEnv(withIdentityOptions(ctx, opts, plan.file), plan.file, plan.shellCommand, opts)
                break
            }
        }
        return state.exitCode
    } catch (err) {
        // --verbose never reaches the fast path, so no stack frames.
        return reportError(io, err, false)
    }
}
