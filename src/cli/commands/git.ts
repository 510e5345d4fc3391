/**
 * `secrets git …`: the commands git itself runs for encrypted files (issue 15).
 * `diff-text FILE` is the textconv of the `secrets` diff driver: git calls it with
 * one temporary file path and diffs what it prints (src/files/diff-text.ts).
 */
import { Command } from "commander"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { registerGitSetup } from "./git-setup.js"
import { registerGitMerge } from "./git-merge.js"
import { registerGitPreCommit } from "./git-pre-commit.js"

interface DiffTextOptions {
    inputType?: Format
}

export function registerGit(program: Command, ctx: CommandContext): void {
    const git = program.command("git").description("git integration: readable diffs, merges by key path, conflict resolution, setup and the pre-commit hook")
    registerGitSetup(git, ctx)
    git.command("diff-text")
        .description("print a file as a diff should show it (git's textconv): recipients, a data key id, the plaintext; the file unchanged for whoever cannot decrypt")
        .argument("<file>", "the file git hands over (a temporary copy of the blob)")
        .addOption(o.inputType())
        .addOption(o.ageKeyOp())
        .action(async (file: string, _opts: DiffTextOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<DiffTextOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("git diff-text", [file], opts, async () => {
                const { diffText, configSearchFrom } = await import("../../files/diff-text.js")
                // The identity lookup's config (secrets.age_key_op) is found as the names are.
                const { io } = o.withIdentityOptions(ctx, opts, configSearchFrom(ctx.io, file).file)
                await diffText(io, file, opts.inputType !== undefined ? { inputType: opts.inputType } : {})
            })
        })
    registerGitMerge(git, ctx)
    registerGitPreCommit(git, ctx)
}
