/**
 * `secrets updatekeys FILE...`: give each file the recipients of its creation rule
 * (sops-format.md §8). The same data key is re-wrapped, so values, `mac` and
 * `lastmodified` stay as they are and recipients that stay keep their `enc` block:
 * the file's diff is only the age blocks that come and go. All files are planned
 * first and shown in one table, then one question (or `-y`) applies them; a file
 * that fails is reported and the others still go through.
 *
 * This file is the adapter from the flags to files/rekey-file.ts (planning and
 * re-wrapping one file, shared with `groups` and the fleet commands); what stays
 * here is the command's conversation: the table, the question, the report.
 */
import { Command, Option } from "commander"
import type { Format } from "../../stores/store.js"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import type { FileRekeyPlan } from "../../files/rekey-file.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface UpdatekeysOptions {
    yes?: boolean
    dryRun?: boolean
    inputType?: Format
    shamirSecretSharingThreshold?: number
    decryptionOrder?: string
}

export function registerUpdatekeys(program: Command, ctx: CommandContext): void {
    program
        .command("updatekeys")
        .description("give files the recipients of their creation rule in .sops.yaml (same data key)")
        .argument("<files...>", "the encrypted files")
        .addOption(new Option("-y, --yes", "apply the changes without asking"))
        .addOption(new Option("--dry-run", "print the changes and write nothing"))
        .addOption(o.inputType())
        .addOption(o.shamirThreshold())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .action(async (files: string[], _opts: UpdatekeysOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<UpdatekeysOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("updatekeys", [files], opts, () => runUpdatekeys(o.withIdentityOptions(ctx, opts, files[0]), files, opts))
        })
}

export async function runUpdatekeys(ctx: CommandContext, files: readonly string[], opts: UpdatekeysOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { info, reportError, warn } = await import("../report.js")
    const { hasChanges } = await import("../../engine/rekey.js")
    const { applyFileRekey, planFileRekey, renderRekeyTable } = await import("../../files/rekey-file.js")
    const failures: ExitCode[] = []
    const fail = (file: string, e: unknown) => {
        const shown = e instanceof SecretsError ? e.about(quote(file)) : e
        reportError(io, shown)
        failures.push(e instanceof SecretsError ? e.code : ExitCode.Generic)
    }

    const planned: FileRekeyPlan[] = []
    for (const file of files) {
        try {
            const p = await planFileRekey(io, file, opts)
            if (hasChanges(p.diff)) planned.push(p)
            else info(io, `${quote(file)}: up to date`)
        } catch (e) {
            fail(file, e)
        }
    }

    if (planned.length > 0) {
        io.stdout.write(renderRekeyTable(planned))
        if (opts.dryRun === true) {
            info(io, `dry run: ${planned.length} file${planned.length === 1 ? "" : "s"} would change, nothing written`)
        } else if (await confirmed(io, opts.yes === true)) {
            for (const p of planned) {
                try {
                    await applyFileRekey(io, p, opts)
                    info(io, `${quote(p.file)}: updated`)
                } catch (e) {
                    fail(p.file, e)
                }
            }
        } else if (io.stdin.isTTY === true) {
            info(io, "nothing written")
        } else {
            warn(io, "nothing written")
            throw new SecretsError(ExitCode.Generic, "not applying key changes without confirmation", [
                "pass -y (--yes) to apply them without a terminal, or --dry-run to only print them",
            ])
        }
    }
    if (failures.length > 0) {
        throw new SecretsError(failures[0] ?? ExitCode.Generic, `${failures.length} of ${files.length} file${files.length === 1 ? "" : "s"} could not be updated`)
    }
}

async function confirmed(io: Io, yes: boolean): Promise<boolean> {
    if (yes) return true
    if (io.stdin.isTTY !== true) return false
    const { confirm } = await import("@inquirer/prompts")
    try {
        return await confirm(
            { message: "apply these changes?", default: false },
            { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream },
        )
    } catch {
        // Ctrl-C at the prompt (ExitPromptError) means no.
        return false
    }
}
