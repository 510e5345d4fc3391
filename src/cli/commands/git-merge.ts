/**
 * `secrets git merge-driver %O %A %B %P` and `secrets git resolve FILE` (issue 15
 * point 3): merging encrypted files key by key, and finishing a merge that
 * stopped on a value changed on both sides.
 *
 * The driver's exit status is git's contract: 0 for a clean merge (%A holds it),
 * 1 for a conflict, 1 when this user cannot decrypt the file, 2 for a file that
 * must not be merged (a MAC that fails, a file that is not a sops file). Git
 * takes any status from 1 to 128 as "conflicted, %A as the result" and one above
 * 128 as a crash that aborts the whole merge, so sops' 128 (no identity) and the
 * like are never passed through; in every non-zero case %A is still ours.
 */
import { Command } from "commander"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { passIdentityEnvOption } from "../identity-env.js"

interface DriverOptions {
    inputType?: Format
}

interface ResolveOptions {
    inputType?: Format
    passIdentityEnv?: boolean
}

/** The driver's exit status for a file it could not merge (see the top of this file). */
export const DRIVER_CANNOT_DECRYPT = 1 as const
export const DRIVER_REFUSED = 2 as const

export function registerGitMerge(git: Command, ctx: CommandContext): void {
    git.command("merge-driver")
        .description("git's merge driver for encrypted files: a 3-way merge by key path into %A (exit 0 clean, 1 conflict or no key, 2 refused)")
        .argument("<base>", "%O: the common ancestor (a temporary file; empty when there is none)")
        .argument("<ours>", "%A: our version, overwritten with the merge when it is clean")
        .argument("<theirs>", "%B: their version")
        .argument("<path>", "%P: the path in the repository (the format and the creation rule come from it)")
        .addOption(o.inputType())
        .addOption(o.ageKeyOp())
        .action(async (base: string, ours: string, theirs: string, path: string, _opts: DriverOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<DriverOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("git merge-driver", [base, ours, theirs, path], opts, async () => {
                const { io } = o.withIdentityOptions(ctx, opts, path)
                await runDriver(ctx, io, { base, ours, theirs, path }, opts.inputType)
            })
        })
    git.command("resolve")
        .description("finish a merge that stopped on values changed on both sides: pick each value in the editor, then git add the file")
        .argument("<file>", "the conflicted encrypted file")
        .addOption(o.inputType())
        .addOption(o.ageKeyOp())
        .addOption(passIdentityEnvOption("the editor"))
        .action(async (file: string, _opts: ResolveOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ResolveOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("git resolve", [file], opts, () => runResolve(o.withIdentityOptions(ctx, opts, file).io, file, opts))
        })
}

async function runDriver(ctx: CommandContext, io: CommandContext["io"], files: { base: string; ours: string; theirs: string; path: string }, inputType?: Format): Promise<void> {
    const { runMergeDriver } = await import("../../files/merge-driver.js")
    const { NoIdentityError, SecretsError, quote } = await import("../../errors.js")
    const p = quote(files.path)
    let result
    try {
        result = await runMergeDriver(io, files, inputType !== undefined ? { inputType } : {})
    } catch (e) {
        // One line naming the file and the fix, with a status git reads as a conflict.
        const sides = `git keeps ours and marks it conflicted; pick a side with git checkout --ours/--theirs -- ${files.path}`
        if (e instanceof NoIdentityError) {
            throw new SecretsError(DRIVER_CANNOT_DECRYPT, `cannot merge ${p}: no identity here opens it (set SOPS_AGE_KEY_FILE to a key that can); ${sides}`)
        }
        if (e instanceof SecretsError) throw new SecretsError(DRIVER_REFUSED, `cannot merge ${p}: ${firstLine(e.message)}; ${sides}`)
        throw new SecretsError(DRIVER_REFUSED, `cannot merge ${p}: internal error (${e instanceof Error ? e.name : typeof e}); ${sides}`)
    }
    if (result.conflicts.length === 0) return
    const n = result.conflicts.length
    io.stderr.write(`secrets: ${p}: ${n} value${n === 1 ? "" : "s"} changed differently on both sides; the file is left as ours (encrypted):\n`)
    for (const c of result.conflicts) io.stderr.write(`secrets:   ${c}\n`)
    io.stderr.write(`secrets: hint: secrets git resolve ${files.path}  (then: git add ${files.path})\n`)
    ctx.state.exitCode = 1
}

async function runResolve(io: CommandContext["io"], file: string, opts: ResolveOptions): Promise<void> {
    const { resolveConflict } = await import("../../files/git-resolve.js")
    const { editUntilValid } = await import("../edit-loop.js")
    const { remainingMarkers } = await import("../../core/conflict-buffer.js")
    const { FormatError, quote } = await import("../../errors.js")
    const { info } = await import("../../files/diagnostics.js")
    const result = await resolveConflict(
        io,
        file,
        async ({ buffer, store, metadata, conflicts }) => {
            info(io, `${quote(file)}: ${conflicts.length} value${conflicts.length === 1 ? "" : "s"} to choose: ${conflicts.join(", ")}`)
            info(io, "keep one side of each <<<<<<< ours / ======= / >>>>>>> theirs block (or write a new value) and delete the marker lines")
            const edited = await editUntilValid(
                io,
                { branches: [], metadata },
                {
                    name: file,
                    store,
                    showMasterKeys: false,
                    passIdentityEnv: opts.passIdentityEnv === true,
                    text: new TextEncoder().encode(buffer.text),
                    checkText: (bytes) => {
                        const lines = remainingMarkers(new TextDecoder().decode(bytes), buffer.markerSize)
                        if (lines.length === 0) return
                        throw new FormatError(`conflict markers remain on line${lines.length === 1 ? "" : "s"} ${lines.join(", ")}`, [
                            "keep one side of each conflict (or write a new value) and delete the marker lines",
                        ])
                    },
                },
            )
            return edited.branches
        },
        opts.inputType !== undefined ? { inputType: opts.inputType } : {},
    )
    info(io, `${quote(file)} resolved${result.conflicts.length > 0 ? "" : " (merged without conflicts)"}; mark it so with: git add ${file}`)
}

function firstLine(s: string): string {
    return s.split("\n")[0] ?? s
}
