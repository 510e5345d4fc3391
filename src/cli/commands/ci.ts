/**
 * `secrets ci mask FILE…` (issue 13 point 2): print a GitHub Actions
 * `::add-mask::` line for every value of the files, and nothing else, so a job
 * can register its secrets with the runner before any step could print them:
 *
 *     - run: secrets ci mask secrets/prod.yaml
 *
 * Every scalar counts, nested ones too (a value does not need to be an
 * environment variable to end up in a log). The format and the short-value rule
 * are src/run/github-mask.ts's. Printed whatever GITHUB_ACTIONS says: the user
 * asked for the lines.
 */
import { Command } from "commander"
import { quote } from "../../errors.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export function registerCi(program: Command, ctx: CommandContext): void {
    const ci = program.command("ci").description("helpers for CI jobs")
    ci.command("mask")
        .description("print a GitHub Actions ::add-mask:: line for every value of the files")
        .argument("<files...>", "the encrypted files")
        .addOption(o.ageKeyOp())
        .action(async (files: string[], _opts: object, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("ci mask", files, opts, () => runCiMask(o.withIdentityOptions(ctx, opts), files))
        })
}

export async function runCiMask(ctx: CommandContext, files: readonly string[]): Promise<void> {
    const { io } = ctx
    const { warn } = await import("../report.js")
    const { openInput, readInput } = await import("../../files/open-file.js")
    const { formatForPath, loadStore } = await import("../../stores/index.js")
    const { fileVariables } = await import("../../run/file-variables.js")
    const { addMaskLines } = await import("../../run/github-mask.js")
    const { writeAddMasks } = await import("./run.js")
    const { SecretsError } = await import("../../errors.js")

    const values: { name: string; value: string }[] = []
    for (const file of files) {
        try {
            const opened = await openInput(io, file, await readInput(io, file), await loadStore(formatForPath(file)), {})
            // Flattened, with no name refused: every value is masked, whatever its key.
            const vars = fileVariables(opened, { flatten: true, dangerous: () => undefined, onSkip: () => undefined })
            for (const v of vars) values.push({ name: `${file}: ${v.name}`, value: v.value })
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
    }
    writeAddMasks(io, values, addMaskLines, warn)
}
