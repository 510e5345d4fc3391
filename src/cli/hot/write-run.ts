/**
 * Running a {@link HotWritePlan}: what main() and the commander actions of
 * commands/encrypt.ts, updatekeys.ts and rotate.ts do for these command lines,
 * minus commander. The same run functions, fed the same options (the environment
 * defaults applied, and the identity options where the action applies them), and
 * errors reported by the same reportError, so output bytes, files written and exit
 * codes are the program's own.
 *
 * This module is the entry of dist/hot-write.bundle.cjs (scripts/bundle-hot-write.mjs),
 * a bundle of its own so that the read fast path (run.ts, dist/hot.bundle.cjs) stays
 * as small as the reads need. It must not hold commander, zod, the fleet, 1Password
 * or the prompts at load: the run functions import their heavy modules lazily, and
 * the bundle build fails if one of those gets in.
 */
import { ExitCode } from "../../errors.js"
import type { Io } from "../../files/io.js"
import { reportError } from "../report.js"
import { withAuditRecord } from "../audit-record.js"
import { runNow, type CommandContext } from "../context.js"
import { withEnvDefaults, withIdentityOptions } from "../options.js"
import { runEncrypt, type EncryptOptions } from "../commands/encrypt.js"
import { runUpdatekeys } from "../commands/updatekeys.js"
import { runRotate } from "../commands/rotate.js"
import type { HotRotateOptions, HotUpdatekeysOptions, HotWritePlan } from "./write-argv.js"

/** What withEnvDefaults may add from SOPS_AGE_RECIPIENTS, SOPS_DECRYPTION_ORDER and SOPS_CONFIG. */
type EnvOptions = { age?: string; decryptionOrder?: string; config?: string }

export { hotWritePlan, type HotWritePlan } from "./write-argv.js"

/** Run `plan` (made from `argv`) as the full program would run `argv`; the exit code. */
export async function runHotWrite(plan: HotWritePlan, io: Io, argv: readonly string[]): Promise<number> {
    // Recorded in the audit log as main.ts records the full program's commands (issue 16 §1).
    return withAuditRecord(io, plan.command, "files" in plan ? plan.files : [plan.file], plan.opts, (auditedIo) => runHotWriteUnaudited(plan, auditedIo, argv))
}

async function runHotWriteUnaudited(plan: HotWritePlan, io: Io, argv: readonly string[]): Promise<number> {
    const state = { exitCode: ExitCode.Ok as number }
    const ctx: CommandContext = { io, state, dispatch: runNow, argv }
    try {
        // As the actions: no root option reaches the fast path, so optsWithGlobals()
        // is the command's own options.
        switch (plan.command) {
            case "encrypt": {
                // encrypt's action attaches no identity options: only the "could you
                // decrypt it?" check looks for identities, without side effects.
                const opts = withEnvDefaults<EncryptOptions & EnvOptions>({ ...plan.opts }, io.env)
                await runEncrypt(ctx, plan.file, opts)
                break
            }
            case "updatekeys": {
                const opts = withEnvDefaults<HotUpdatekeysOptions & EnvOptions>({ ...plan.opts }, io.env)
                await runUpdatekeys(withIdentityOptions(ctx, opts, plan.files[0]), plan.files, opts)
                break
            }
            case "rotate": {
                const opts = withEnvDefaults<HotRotateOptions & EnvOptions>({ ...plan.opts }, io.env)
                await runRotate(withIdentityOptions(ctx, opts, plan.file), plan.file, opts)
                break
            }
        }
        return state.exitCode
    } catch (err) {
        // --verbose never reaches the fast path, so no stack frames.
        return reportError(io, err, false)
    }
}
