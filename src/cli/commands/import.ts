/**
 * `secrets import SRC --into FILE`: upsert a plaintext .env, YAML or JSON file into
 * an encrypted file (issue 13 point 6; src/transfer/import-file.ts does the work).
 * Prints which key paths were added, updated, unchanged and deleted, never a value.
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Branch } from "../../core/tree.js"
import type { OpenedFile } from "../../engine/open.js"
import type { Format, Store } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { info } from "../report.js"

export interface ImportOptions {
    into?: string
    at?: string
    dryRun?: boolean
    deleteMissing?: boolean
    inputType?: "dotenv" | "yaml" | "json"
    fileType?: Format
    json?: boolean
    ignoreMac?: boolean
    decryptionOrder?: string
    age?: string
    /** Write a value in clear that the file's creation rule would encrypt (see src/cli/rule-checks.ts). */
    allowClear?: boolean
}

const EXAMPLES = `
The source is plaintext: delete it once imported. Its type comes from its name
(.env, x.env, .env.local; .yaml, .yml; .json) or --input-type; - reads stdin.

Examples:
  secrets import .env --into secrets/app.env
  secrets import prod.json --into secrets/app.yaml --at '["prod"]' --dry-run
  secrets import .env --into secrets/app.env --delete-missing

As with set, a value that would land in clear only because the file's encryption
rule differs from its creation rule in .sops.yaml is refused (nothing is written)
unless --allow-clear.
`

export function registerImport(program: Command, ctx: CommandContext): void {
    program
        .command("import")
        .description("add or update values in an encrypted file from a plaintext .env, YAML or JSON file")
        .argument("<source>", "the plaintext file; - for stdin")
        .requiredOption("--into <file>", "the encrypted file to update (created with its creation rule if missing)")
        .option("--at <path>", `import under this key path, e.g. '["app"]' (default: the top level)`)
        .option("--dry-run", "print what would change; write nothing")
        .option("--delete-missing", "also delete the values under --at that the source does not have (mirror it)")
        .option("--allow-clear", "write values even if they land in clear where the file's creation rule would encrypt them")
        .addOption(new Option("--input-type <type>", "the source's type, when its name does not say it").choices(["dotenv", "yaml", "json"]))
        .addOption(new Option("--file-type <format>", "the encrypted file's format, when its name does not say it").choices(["yaml", "json", "dotenv", "ini"]))
        .addOption(new Option("--json", "print the summary as JSON"))
        .addOption(o.age())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (source: string, _opts: ImportOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ImportOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("import", [source], opts, () => runImport(o.withIdentityOptions(ctx, opts, opts.into), source, opts))
        })
}

export async function runImport(ctx: CommandContext, source: string, opts: ImportOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const into = opts.into ?? ""
    const { resolve } = await import("node:path")
    if (source !== "-" && resolve(io.cwd, source) === resolve(io.cwd, into)) {
        throw new SecretsError(ExitCode.ConflictingParameters, `the source ${quote(source)} is the file to import into`, ["--into names the encrypted file; the source is a plaintext file"])
    }
    const { sourceTypeFor, parseImportSource } = await import("../../transfer/import-source.js")
    const type = opts.inputType ?? (source === "-" ? undefined : sourceTypeFor(source))
    if (type === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, `cannot tell the type of ${source === "-" ? "stdin" : quote(source)} from its name`, [
            "give --input-type dotenv, yaml or json",
        ])
    }
    const { parseTreePath } = await import("../../core/tree-path.js")
    const at = opts.at === undefined ? [] : parseTreePath(opts.at)
    const { readInput } = await import("../../files/open-file.js")
    const name = source === "-" ? "stdin" : source
    const imported = await parseImportSource(await readInput(io, source), type, name)

    const { importInto } = await import("../../transfer/import-file.js")
    const { recipientsFromFlag } = await import("../../files/encryption-plan.js")
    // set's checks (src/cli/rule-checks.ts): the file's own encryption rule, which the
    // MAC does not cover, decides what is encrypted, so a drifted rule is warned about
    // and a value it would leave in clear against the creation rule is refused unless
    // --allow-clear. A new file is made with its creation rule: nothing to compare.
    const { creationRuleOf, warnRuleDrift, checkClearValues } = await import("../rule-checks.js")
    const check = (opened: OpenedFile, store: Store, before: readonly Branch[], after: readonly Branch[]) => {
        const creation = creationRuleOf(io, into, opts.config)
        if (creation === undefined) return
        const drift = warnRuleDrift(io, into, opened.metadata, creation, store.format === "binary")
        checkClearValues(io, "import", into, before, after, drift, opts.allowClear === true)
    }
    const outcome = await importInto(io, into, imported, {
        at,
        deleteMissing: opts.deleteMissing === true,
        dryRun: opts.dryRun === true,
        ...(opts.fileType !== undefined ? { fileType: opts.fileType } : {}),
        modify: {
            ignoreMac: opts.ignoreMac === true,
            ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
            ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
        },
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        overrides: { recipients: recipientsFromFlag(opts.age) },
        check,
    })
    const s = outcome.summary
    if (opts.json === true) {
        const out = { file: into, created: outcome.created, written: outcome.written, dryRun: opts.dryRun === true, ...s }
        io.stdout.write(JSON.stringify(out, null, 2) + "\n")
    } else {
        const verb = opts.dryRun === true ? "would " : ""
        const what = outcome.created ? `${verb}create ${quote(into)}` : `${quote(into)}`
        const counts = [`${s.added.length} added`, `${s.updated.length} updated`, `${s.unchanged.length} unchanged`]
        if (opts.deleteMissing === true) counts.push(`${s.deleted.length} deleted`)
        io.stdout.write(`${opts.dryRun === true ? "dry run: " : ""}${what}: ${counts.join(", ")}\n`)
        const rows: [string, string[]][] = [["added", s.added], ["updated", s.updated], ["deleted", s.deleted]]
        for (const [label, paths] of rows) for (const p of paths) io.stdout.write(`  ${label.padEnd(8)}${p}\n`)
        if (!outcome.written && !outcome.created && opts.dryRun !== true) info(io, `${quote(into)} already has these values: not written`)
    }
    if (outcome.written && outcome.plan !== undefined) {
        const { warnIfCallerCannotOpen } = await import("../../files/caller-can-open.js")
        await warnIfCallerCannotOpen(io, into, outcome.plan.groups, outcome.plan.shamirThreshold, {
            file: into,
            ...(opts.config !== undefined ? { config: opts.config } : {}),
        })
    }
}
