/**
 * `secrets render TEMPLATE [-o OUT]`: a template's placeholders replaced by decrypted
 * values (src/delivery/template.ts, issue 12 point 3), the same engine that
 * `secrets deploy` uses for its template entries. Every placeholder is resolved
 * before anything is written: one that fails leaves OUT as it was (op inject does
 * not write -o on failure either). OUT is plaintext: created 0600, written
 * atomically, and an existing OUT keeps at most its owner's bits.
 */
import { Command, Option } from "commander"
import { resolve } from "node:path"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface RenderOptions {
    output?: string
}

export function registerRender(program: Command, ctx: CommandContext): void {
    program
        .command("render")
        .description("fill a template's {{ FILE#[\"key\"] }} and {{ op://… }} placeholders with their values")
        .argument("<template>", "the template file; - for stdin")
        .addOption(new Option("-o, --output <file>", "write the result to this file (0600, atomically) instead of stdout"))
        .addOption(o.ageKeyOp())
        .addHelpText(
            "after",
            [
                "",
                "File paths in placeholders are relative to the current directory and must stay inside it.",
                "",
                "Example:",
                "  secrets render deploy/templates/app.conf.tmpl -o /etc/app/app.conf",
            ].join("\n"),
        )
        .action(async (template: string, _opts: RenderOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RenderOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("render", [template], opts, () => runRender(o.withIdentityOptions(ctx, opts), template, opts))
        })
}

export async function runRender(ctx: CommandContext, template: string, opts: RenderOptions): Promise<void> {
    const { io } = ctx
    if (opts.output !== undefined && template !== "-" && resolve(io.cwd, opts.output) === resolve(io.cwd, template)) {
        throw new SecretsError(ExitCode.ConflictingParameters, `--output ${quote(opts.output)} is the template itself`, [
            "the rendered file holds secrets in clear: write it somewhere else, outside the repository",
        ])
    }
    const { readInput } = await import("../../files/open-file.js")
    const { parseTemplate, templateText } = await import("../../delivery/template.js")
    const { resolveReferences } = await import("../../delivery/template-values.js")
    const { writeOutput } = await import("../../files/write-output.js")

    const source = template === "-" ? "stdin" : template
    const bytes = await readInput(io, template)
    const parsed = parseTemplate(templateText(bytes, source), source)
    const values = await resolveReferences(io, parsed.references, { baseDir: io.cwd })
    const out = new TextEncoder().encode(parsed.render(values))
    await writeOutput(io, opts.output !== undefined ? { output: opts.output } : {}, out, { plaintext: true })
}
