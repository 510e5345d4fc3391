/**
 * `secrets export FILE --format env|json|yaml|docker|k8s-secret`: the decrypted
 * first document in a format other tools read (issue 13 point 6;
 * src/transfer/export-text.ts). The output is plaintext: like decrypt, it goes to
 * stdout, or with -o to a file created 0600 and written atomically, and nothing is
 * written when any value cannot be represented (the error names its key).
 */
import { Command, Option } from "commander"
import { resolve } from "node:path"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { warn } from "../report.js"

export interface ExportOptions {
    format: "env" | "json" | "yaml" | "docker" | "k8s-secret"
    name?: string
    namespace?: string
    output?: string
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
}

const EXAMPLES = `
env writes NAME='value' lines for a shell (set -a; . ./app.env); docker writes
docker's --env-file format (no quoting, so no line breaks in values); k8s-secret
writes a v1 Secret with stringData. Nested keys become names joined with __.

Examples:
  secrets export secrets/app.yaml --format env -o .env.local
  secrets export secrets/app.yaml --format docker -o app.env && docker run --env-file app.env app
  secrets export secrets/app.yaml --format k8s-secret --name app --namespace prod | kubectl apply -f -
`

export function registerExport(program: Command, ctx: CommandContext): void {
    program
        .command("export")
        .description("write the decrypted values as an env file, JSON, YAML, a docker env-file or a Kubernetes Secret")
        .argument("<file>", "the encrypted file")
        .addOption(new Option("--format <format>", "the output format").choices(["env", "json", "yaml", "docker", "k8s-secret"]).makeOptionMandatory())
        .option("--name <name>", "k8s-secret: the Secret's name (default: from the file's name)")
        .option("--namespace <namespace>", "k8s-secret: the Secret's namespace")
        .addOption(new Option("-o, --output <file>", "write to this file (0600, atomically) instead of stdout"))
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, _opts: ExportOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ExportOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("export", [file], opts, () => runExport(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

export async function runExport(ctx: CommandContext, file: string, opts: ExportOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    if (opts.output !== undefined && resolve(io.cwd, opts.output) === resolve(io.cwd, file)) {
        throw new SecretsError(ExitCode.ConflictingParameters, `--output ${quote(opts.output)} is the encrypted file itself`, [
            "the export holds secrets in clear: write it somewhere else",
        ])
    }
    if (opts.format !== "k8s-secret" && (opts.name !== undefined || opts.namespace !== undefined)) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--name and --namespace are for --format k8s-secret")
    }
    const { secretNameFor } = await import("../../transfer/export-formats.js")
    const name = opts.format === "k8s-secret" ? (opts.name ?? secretNameFor(file)) : undefined
    if (opts.format === "k8s-secret" && name === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, `no Secret name can be made from ${quote(file)}`, ["give one with --name"])
    }
    const { loadStore, formatForPath } = await import("../../stores/index.js")
    const { readInput, openInput } = await import("../../files/open-file.js")
    const store = await loadStore(opts.inputType ?? formatForPath(file))
    const opened = await openInput(io, file, await readInput(io, file), store, {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    })
    const { exportText } = await import("../../transfer/export-text.js")
    let result
    try {
        result = await exportText(opened.branches[0] ?? { kind: "map", items: [] }, {
            format: opts.format,
            ...(name !== undefined ? { name } : {}),
            ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
            ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
        })
    } catch (e) {
        throw e instanceof SecretsError && e.code !== ExitCode.ConflictingParameters ? e.about(quote(file)) : e
    }
    for (const path of result.skipped) warn(io, `${quote(file)}: ${path} has no value (null or empty) and is left out of the ${opts.format} output`)
    const { writeOutput } = await import("../../files/write-output.js")
    await writeOutput(io, opts.output !== undefined ? { output: opts.output } : {}, result.bytes, { plaintext: true })
}
