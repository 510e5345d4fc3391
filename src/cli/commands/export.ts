/**
 * `secrets export FILE|--profile P --format env|json|yaml|docker|k8s-secret`: the decrypted
 * first document in a format other tools read (issue 13 point 6;
 * src/transfer/export-text.ts). A profile's files are merged in order, a later
 * file's value winning at the same key path (core/merge-trees.ts). The output is plaintext: like decrypt, it goes to
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
    profile?: string
}

const EXAMPLES = `
env writes NAME='value' lines for a shell (set -a; . ./app.env); docker writes
docker's --env-file format (no quoting, so no line breaks in values); k8s-secret
writes a v1 Secret with stringData. Nested keys become names joined with __.

Examples:
  secrets export secrets/app.yaml --format env -o .env.local
  secrets export --profile prod --format k8s-secret --name app
  secrets export secrets/app.yaml --format docker -o app.env && docker run --env-file app.env app
  secrets export secrets/app.yaml --format k8s-secret --name app --namespace prod | kubectl apply -f -
`

export function registerExport(program: Command, ctx: CommandContext): void {
    program
        .command("export")
        .description("write the decrypted values as an env file, JSON, YAML, a docker env-file or a Kubernetes Secret")
        .argument("[file]", "the encrypted file (or --profile)")
        .addOption(o.profile())
        .addOption(new Option("--format <format>", "the output format").choices(["env", "json", "yaml", "docker", "k8s-secret"]).makeOptionMandatory())
        .option("--name <name>", "k8s-secret: the Secret's name (default: from the file's name)")
        .option("--namespace <namespace>", "k8s-secret: the Secret's namespace")
        .addOption(new Option("-o, --output <file>", "write to this file (0600, atomically) instead of stdout"))
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string | undefined, _opts: ExportOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ExportOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("export", file === undefined ? [] : [file], opts, () => runExport(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

export async function runExport(ctx: CommandContext, fileArg: string | undefined, opts: ExportOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const profileName = o.profileFrom(opts, io.env)
    // With a FILE, SECRETS_PROFILE from the environment does not apply; the flag and a FILE conflict.
    if (fileArg !== undefined && opts.profile !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "give a FILE or --profile, not both", ["secrets export --profile prod --format env"])
    }
    let files: readonly string[]
    if (fileArg !== undefined) files = [fileArg]
    else if (profileName !== undefined) {
        const { selectProfile, someFiles } = await import("../../fleet/profile-files.js")
        files = someFiles(await selectProfile(io, profileName, opts.config))
    } else {
        throw new SecretsError(ExitCode.NoFileSpecified, "no file to export", ["give the encrypted FILE, or --profile NAME"])
    }
    // Named for messages and the default Secret name: the file, or the profile.
    const file = fileArg ?? profileName ?? ""
    if (opts.output !== undefined && files.some((f) => resolve(io.cwd, opts.output ?? "") === resolve(io.cwd, f))) {
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
    const docs = []
    for (const f of files) {
        const store = await loadStore(opts.inputType ?? formatForPath(f))
        const opened = await openInput(io, f, await readInput(io, f), store, {
            ignoreMac: opts.ignoreMac === true,
            ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
        })
        docs.push(opened.branches[0] ?? { kind: "map" as const, items: [] })
    }
    const { mergeTrees } = await import("../../core/merge-trees.js")
    const { exportText } = await import("../../transfer/export-text.js")
    let result
    try {
        result = await exportText(docs.length === 1 && docs[0] !== undefined ? docs[0] : mergeTrees(docs), {
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
