/**
 * `secrets ls [FILE…|--profile P]`: every key path of encrypted files with its value masked
 * (issue 13 point 5; the mask rule is src/core/masked-listing.ts). With no FILE,
 * every encrypted file under the config's directory, found as `status` and the
 * fleet commands find them, or the files of a profile. When the config declares
 * profiles, each file's profile is its category (a PROFILE column, `profile` in JSON). A file that cannot be opened is reported in one line
 * and the others are still listed; the exit code is then non-zero.
 *
 * `--reveal` prints values. It is refused unless stdout is a terminal and the user
 * confirms at the prompt, or `--yes` is given: a bare `--reveal` in a script or a CI
 * log must not put every secret of the repository into a file or a job log.
 */
import { Command, Option } from "commander"
import type { Leaf, MaskedValue } from "../../core/masked-listing.js"
import type { GoRegex } from "../../core/go-regex.js"
import type { PathStep } from "../../core/tree-path.js"
import type { LoadedFleetConfig } from "../../fleet/rekey-repo.js"
import type { ExitCode } from "../../errors.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface LsFlags {
    reveal?: boolean
    yes?: boolean
    json?: boolean
    grep?: string
    ageKeyOp?: string[]
    profile?: string
}

/** One `--json` row. */
interface LsRow {
    readonly file: string
    /** The profile the file belongs to, null when none does. */
    readonly profile: string | null
    /** The `category:` of the value policy for this key path, null when none; only when the config gives categories. */
    readonly category?: string | null
    readonly path: string
    readonly value: MaskedValue | string | number | boolean | null
}

const EXAMPLES = `
Values are masked: type and length, and the last 2 characters of strings of 8 or
more (str(24) …x9, str(5), int, bool, null). --grep matches key paths, never values.

Examples:
  secrets ls
  secrets ls secrets/app.yaml --grep password
  secrets ls --profile prod
  secrets ls --json | jq -r '.keys[].path'
`

export function registerLs(program: Command, ctx: CommandContext): void {
    program
        .command("ls")
        .description("list the key paths of encrypted files with masked values")
        .argument("[files...]", "encrypted files (default: every encrypted file under the config's directory)")
        .addOption(new Option("--grep <pattern>", "only key paths matching this Go regular expression (RE2)"))
        .addOption(new Option("--json", "print the listing as JSON"))
        .addOption(new Option("--reveal", "show the values (asks first; refused when stdout is not a terminal, unless --yes)"))
        .addOption(new Option("-y, --yes", "with --reveal: show the values without asking"))
        .addOption(o.profile())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (files: string[], _opts: LsFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<LsFlags & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("ls", files, opts, () => runLs(ctx, files, opts))
        })
}

export async function runLs(ctx: CommandContext, files: string[], opts: LsFlags & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { SecretsError, quote } = await import("../../errors.js")
    const { compileGoRegex } = await import("../../core/go-regex.js")
    // Checked before anything is decrypted, so a bad pattern or a refused reveal costs nothing.
    const grep: GoRegex | undefined = opts.grep === undefined ? undefined : compileGoRegex(opts.grep, "--grep")
    if (opts.reveal === true) await confirmReveal(ctx, opts.yes === true)

    // FILE arguments beat SECRETS_PROFILE from the environment; only the flag conflicts with them.
    if (opts.profile !== undefined && files.length > 0) {
        throw new SecretsError(8, "give files or --profile, not both", ["secrets ls --profile prod, or secrets ls FILE…"])
    }
    const profileName = files.length > 0 ? undefined : o.profileFrom(opts, io.env)
    const { profilesByFile, selectProfile, someFiles } = await import("../../fleet/profile-files.js")
    const { resolve } = await import("node:path")
    let targets: readonly string[]
    let categories: Map<string, string>
    let loaded: LoadedFleetConfig | undefined
    if (profileName !== undefined) {
        targets = someFiles(await selectProfile(io, profileName, opts.config))
        categories = new Map(targets.map((f) => [resolve(io.cwd, f), profileName]))
    } else if (files.length > 0) {
        targets = files
        categories = await profilesByFile(io, opts.config)
    } else {
        const repo = await repoFiles(ctx, opts.config)
        targets = repo.files
        loaded = repo.loaded
        categories = await profilesByFile(io, opts.config, repo.loaded)
    }
    const categoryOf = await valueCategoryLookup(ctx, opts.config, loaded)
    const { leavesOf, keyPathText, maskText, maskValue, revealJson, revealText } = await import("../../core/masked-listing.js")
    const { loadStore, formatForPath } = await import("../../stores/index.js")
    const { readInput, openInput } = await import("../../files/open-file.js")
    const { reportError, warn } = await import("../report.js")
    const rows: LsRow[] = []
    const text: string[][] = []
    const failed: { file: string; code: ExitCode }[] = []
    for (const file of targets) {
        let leaves: Leaf[]
        try {
            const fileIo = o.withIdentityOptions(ctx, opts, file).io
            const store = await loadStore(formatForPath(file))
            const opened = await openInput(fileIo, file, await readInput(fileIo, file), store, {})
            // Key paths address the first document only (as set and --extract do).
            if (opened.branches.length > 1) warn(io, `${quote(file)}: only its first document is listed`)
            leaves = leavesOf(opened.branches[0] ?? { kind: "map", items: [] })
        } catch (e) {
            const err = e instanceof SecretsError ? e.about(quote(file)) : e
            failed.push({ file, code: reportError(io, err) as ExitCode })
            continue
        }
        for (const leaf of leaves) {
            const path = keyPathText(leaf.path)
            if (grep !== undefined && !grep.test(path)) continue
            const reveal = opts.reveal === true
            const profile = categories.get(resolve(io.cwd, file)) ?? null
            const category = categoryOf === undefined ? undefined : (categoryOf(file, leaf.path) ?? null)
            rows.push({ file, profile, ...(category !== undefined ? { category } : {}), path, value: reveal ? revealJson(leaf.value) : maskValue(leaf.value) })
            text.push([
                file,
                ...(categories.size > 0 ? [profile ?? "-"] : []),
                ...(categoryOf !== undefined ? [category ?? "-"] : []),
                path,
                reveal ? revealText(leaf.value) : maskText(leaf.value),
            ])
        }
    }
    if (opts.json === true) io.stdout.write(`${JSON.stringify({ revealed: opts.reveal === true, keys: rows }, null, 2)}\n`)
    else io.stdout.write(table(["FILE", ...(categories.size > 0 ? ["PROFILE"] : []), ...(categoryOf !== undefined ? ["CATEGORY"] : []), "KEY", "VALUE"], text))
    if (failed.length > 0) {
        throw new SecretsError(failed[0]?.code ?? 1, `${failed.length} of ${targets.length} file${targets.length === 1 ? "" : "s"} could not be opened`, [
            "the other files are listed above",
        ])
    }
}

/**
 * Values go to stdout only when a person is looking at it and says yes, or when
 * --yes says it on purpose. The refusal exits 1 (sops's ErrorGeneric, which sops
 * uses for usage errors of its own), as the other confirmations do without a terminal.
 */
async function confirmReveal(ctx: CommandContext, yes: boolean): Promise<void> {
    if (yes) return
    const { io } = ctx
    const { ExitCode, SecretsError } = await import("../../errors.js")
    if (io.stdout.isTTY !== true || io.stdin.isTTY !== true) {
        const why = io.stdout.isTTY !== true ? "stdout is not a terminal" : "no terminal on stdin to confirm at"
        throw new SecretsError(ExitCode.Generic, `not revealing values: ${why}`, [
            "pass --yes with --reveal to print values anyway (they will be in whatever stdout goes to)",
        ])
    }
    const { confirm } = await import("@inquirer/prompts")
    let ok = false
    try {
        ok = await confirm({ message: "show the secret values on this terminal?", default: false }, { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream })
    } catch {
        // Ctrl-C at the prompt (ExitPromptError) means no.
        ok = false
    }
    if (!ok) throw new SecretsError(ExitCode.Generic, "values not revealed", [])
}

/** Every encrypted file under the config's directory, as shown relative to the working directory. */
async function repoFiles(ctx: CommandContext, config: string | undefined) {
    const { fleetConfigPath } = await import("./status.js")
    const { findEncryptedFiles, loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const loaded = await loadFleetConfig(ctx.io, await fleetConfigPath(ctx.io, config))
    return { loaded, files: (await findEncryptedFiles(ctx.io, loaded.dir)).map((f) => f.shown) }
}

/**
 * The category of a value (issue 16 §5: the `category:` of the first value policy
 * matching the file and key path), or undefined when the config gives no
 * categories, so that a listing without them keeps its columns. Files given on the
 * command line with no `.sops.yaml` above them have none.
 */
async function valueCategoryLookup(
    ctx: CommandContext,
    config: string | undefined,
    known: LoadedFleetConfig | undefined,
): Promise<((file: string, keyPath: readonly PathStep[]) => string | undefined) | undefined> {
    const { io } = ctx
    const { relative, resolve, sep } = await import("node:path")
    const { ConfigError } = await import("../../errors.js")
    let loaded = known
    if (loaded === undefined) {
        const { fleetConfigPath } = await import("./status.js")
        const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
        try {
            loaded = await loadFleetConfig(io, await fleetConfigPath(io, config))
        } catch (e) {
            if (e instanceof ConfigError && config === undefined) return undefined
            throw e
        }
    }
    const { valuePolicies } = await import("../../fleet/value-policy.js")
    const { categoryOf, hasCategories } = await import("../../fleet/value-categories.js")
    const policies = valuePolicies(loaded.config.secrets, relative(io.cwd, loaded.path) || loaded.path)
    if (!hasCategories(policies)) return undefined
    const dir = loaded.dir
    return (file, keyPath) => categoryOf(policies, relative(dir, resolve(io.cwd, file)).split(sep).join("/"), keyPath)
}

/** FILE  [PROFILE]  [CATEGORY]  KEY  VALUE, columns aligned (the last one is not padded). */
function table(header: readonly string[], rows: readonly string[][]): string {
    if (rows.length === 0) return ""
    const all = [header, ...rows]
    const last = header.length - 1
    const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)))
    return all.map((r) => r.map((cell, c) => (c === last ? cell : cell.padEnd(widths[c] ?? 0))).join("  ")).join("\n") + "\n"
}
