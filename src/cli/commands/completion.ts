/**
 * `secrets completion bash|zsh|fish` prints the shell's completion script, and the
 * hidden `secrets __complete SHELL -- WORD...` answers it (issue 6). Both read the
 * program they are registered on, so nothing lists commands by hand.
 *
 * bin/secrets.cjs answers `__complete` without this file when it can (the model in
 * dist/completion-model.json, made at build time from the same program); this
 * command is the path when that file is missing or stale, and gives the same answer.
 */
import { Argument, type Command } from "commander"
import type { CommandContext } from "../context.js"
import { SHELLS, type Shell } from "../completion/callback.js"

const EXAMPLES = `
Examples:
  source <(secrets completion bash)                     # in ~/.bashrc
  secrets completion zsh > ~/.zfunc/_secrets            # with fpath=(~/.zfunc $fpath) before compinit
  secrets completion fish > ~/.config/fish/completions/secrets.fish
`

export function registerCompletion(program: Command, ctx: CommandContext): void {
    program
        .command("completion")
        .description("print the shell completion script for bash, zsh or fish")
        .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
        .addHelpText("after", EXAMPLES)
        .action(async (shell: Shell) => {
            await ctx.dispatch("completion", [shell], {}, () => runCompletion(ctx, program.name(), shell))
        })

    program
        .command("__complete", { hidden: true })
        .description("answer the completion scripts: candidates for the last word")
        .argument("[words...]")
        .helpOption(false)
        .allowUnknownOption()
        .action(async () => {
            // The raw argv rather than commander's operands: commander drops the first
            // `--`, and a user's own `--` must reach the walk as typed.
            const words = ctx.argv.slice(ctx.argv.indexOf("__complete") + 1)
            await ctx.dispatch("__complete", words, {}, () => runComplete(ctx, program, words))
        })
}

export async function runCompletion(ctx: CommandContext, name: string, shell: Shell): Promise<void> {
    const { scriptFor } = await import("../completion/scripts.js")
    ctx.io.stdout.write(scriptFor(shell, name))
}

/** `words` is what follows `__complete`: the shell, `--`, then the command line. */
export async function runComplete(ctx: CommandContext, program: Command, words: readonly string[]): Promise<void> {
    const { buildModel } = await import("../completion/model.js")
    const { answer } = await import("../completion/callback.js")
    const { fileSources } = await import("../completion/sources.js")
    ctx.io.stdout.write(await answer(buildModel(program), words, fileSources(ctx.io.cwd, ctx.io.env)))
}
