/**
 * `secrets get NAME [--profile P] [--file F]... [--order LIST] [--source] [--json]`
 * (issue 13 point 4): one value by name from the first of the environment, the
 * profile's files and its 1Password item that has it (src/run/get-value.ts).
 *
 * The value is printed as `decrypt --extract` prints a string: raw, with no
 * newline added, also at a terminal (`$(secrets get X)` and `decrypt --extract`
 * give the same bytes). `--source` and `--json` print where it came from and
 * never the value, so they can go into a log.
 */
import { Command, Option } from "commander"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface GetOptions {
    profile?: string
    file?: string[]
    order?: string
    source?: boolean
    json?: boolean
    ageKeyOp?: string[]
}

const repeatable = (v: string, prev: readonly string[] | undefined): string[] => [...(prev ?? []), v]

const EXAMPLES = `
Loaders, first hit wins (default order env,files,op; a profile's order: or --order
changes it, and a loader left out of the order is not asked):
  env    our environment, never for SOPS_AGE_KEY and other identity variables
  files  the profile's files then each --file, the later file winning; a top-level
         key, or a nested value's flat name (db__password)
  op     the field labelled NAME of the profile's 1Password item (op: {vault, item})

Examples:
  secrets get DB_PASSWORD --profile dev
  secrets get db__password --file secrets/app.yaml --source
  PGPASSWORD="$(secrets get DB_PASSWORD --profile prod --order files,op)" psql …
`

export function registerGet(program: Command, ctx: CommandContext): void {
    program
        .command("get")
        .description("print one value by name from the environment, a profile's files or 1Password")
        .argument("<name>", "the name: an environment variable, a key or flat key (db__password) of the files, a 1Password field label")
        .addOption(o.profile())
        .addOption(new Option("--file <file>", "an encrypted file to search, after the profile's (repeatable; a later file wins)").argParser(repeatable))
        .addOption(new Option("--order <loaders>", "which loaders to ask, in order: env,files,op (default: the profile's order:, else env,files,op)"))
        .addOption(new Option("--source", "print where the value comes from instead of the value"))
        .addOption(new Option("--json", 'print {"name","loader","source"} as JSON instead of the value (never the value)').conflicts("source"))
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        // More than one argument gets our own message: `secrets get FILE KEY` is a common guess.
        .allowExcessArguments(true)
        .action(async (name: string, _opts: GetOptions, cmd: Command) => {
            if (cmd.args.length > 1) {
                const { ExitCode, SecretsError } = await import("../../errors.js")
                throw new SecretsError(ExitCode.Generic, `get takes one name, got ${cmd.args.length} arguments`, [
                    `to search a file for a name: secrets get ${cmd.args[1] ?? "NAME"} --file ${name}`,
                    `to read one key path of a file: secrets decrypt --extract '["key"]' FILE`,
                ])
            }
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<GetOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("get", [name], opts, () => runGet(o.withIdentityOptions(ctx, opts), name, opts))
        })
}

export async function runGet(ctx: CommandContext, name: string, opts: GetOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { getValue, openFile } = await import("../../run/get-value.js")
    const { opClientFromEnv } = await import("../../integrations/op.js")
    const profile = o.profileFrom(opts, io.env)
    const hit = await getValue(io, {
        name,
        ...(profile !== undefined ? { profile } : {}),
        ...(opts.file !== undefined ? { files: opts.file } : {}),
        ...(opts.order !== undefined ? { order: opts.order } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        // Each file finds its identities as `decrypt FILE` would (its own config's age_key_op).
        open: (file) => openFile(o.withIdentityOptions(ctx, opts, file).io, file),
        opClient: () => opClientFromEnv(io.env),
    })
    if (opts.json === true) io.stdout.write(`${JSON.stringify({ name, loader: hit.loader, source: hit.source })}\n`)
    else if (opts.source === true) io.stdout.write(`${hit.source}\n`)
    else io.stdout.write(hit.value)
}
