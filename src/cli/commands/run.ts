/**
 * `secrets run [--file F]... [--env-file T]... -- CMD ARGS…` (issue 13 point 1):
 * CMD started directly (no shell: a value holding `$(…)` stays text) with values
 * from encrypted files, env templates and placeholders in our own environment
 * (src/run/environment.ts), and its stdout and stderr masked
 * (src/run/masker.ts) unless --no-masking. Under GitHub Actions the
 * `::add-mask::` lines come first, before any value can reach the log.
 *
 * As with exec-env: identity variables are not passed (identity-env.ts), a
 * dangerous name (PATH, LD_PRELOAD, …) is set from a file only when its value
 * was encrypted, and the exit status (128 + N for signal N) is ours.
 */
import { Command, Option } from "commander"
import { Writable } from "node:stream"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { passIdentityEnvOption } from "../identity-env.js"

export interface RunOptions {
    file?: string[]
    envFile?: string[]
    profile?: string
    flatten?: boolean
    masking?: boolean
    passIdentityEnv?: boolean
}

const repeatable = (v: string, prev: readonly string[] | undefined): string[] => [...(prev ?? []), v]

export function registerRun(program: Command, ctx: CommandContext): void {
    program
        .command("run")
        .description("run a command with decrypted values in its environment, masked in its output")
        .argument("<command...>", "the command and its arguments, after --; run directly, without a shell")
        .addOption(new Option("--file <file>", "an encrypted file whose values become variables (repeatable; after the profile's files)").argParser(repeatable))
        .addOption(o.profile())
        .addOption(new Option("--env-file <template>", 'an env template: NAME=VALUE lines with {{ FILE#["key"] }} or {{ op://… }} placeholders (repeatable; the last wins)').argParser(repeatable))
        .addOption(new Option("--flatten", "pass nested values of --file as NAME__KEY variables"))
        .addOption(new Option("--no-masking", "do not conceal the values in the command's output (it then writes to our terminal directly)"))
        .addOption(o.ageKeyOp())
        .addOption(passIdentityEnvOption("the command"))
        .addHelpText(
            "after",
            [
                "",
                "Values from files, env templates and placeholder variables are replaced by",
                "<concealed by secrets> in the command's stdout and stderr. Under GitHub Actions",
                "(GITHUB_ACTIONS=true) ::add-mask:: lines for them are printed first.",
                "",
                "Example:",
                "  secrets run --file secrets/app.env -- node server.js",
                "  secrets run --profile dev -- npm start",
            ].join("\n"),
        )
        .action(async (command: string[], _opts: RunOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RunOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("run", command, opts, () => runRun(o.withIdentityOptions(ctx, opts), command, opts))
        })
}

export async function runRun(ctx: CommandContext, command: readonly string[], opts: RunOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { warn } = await import("../report.js")
    const { childBaseEnvironment } = await import("../identity-env.js")
    const { dangerousFamily } = await import("../../files/env-denylist.js")
    const { runEnvironment } = await import("../../run/environment.js")
    const { addMaskLines, underGithubActions } = await import("../../run/github-mask.js")
    const { runProgram } = await import("../../integrations/run-program.js")

    const [program, ...args] = command
    if (program === undefined) throw new SecretsError(ExitCode.Generic, "no command to run", ["write it after --: secrets run --file F -- CMD ARGS"])
    // A profile's files come first, so that a --file given beside it wins (the last file wins).
    const profileName = o.profileFrom(opts, io.env)
    let profileFiles: readonly string[] = []
    let profileFlatten = false
    if (profileName !== undefined) {
        const { selectProfile, someFiles } = await import("../../fleet/profile-files.js")
        const selected = await selectProfile(io, profileName, opts.config)
        profileFiles = someFiles(selected)
        profileFlatten = selected.profile.flatten
    }
    const { env, secrets } = await runEnvironment(io, {
        files: [...profileFiles, ...(opts.file ?? [])],
        envFiles: opts.envFile ?? [],
        flatten: opts.flatten === true || profileFlatten,
        base: childBaseEnvironment(io.env, opts.passIdentityEnv === true),
        dangerous: (name) => dangerousFamily(name)?.what,
        onSkip: (file, name, why) => warn(io, `${quote(file)}: ${quote(name)} was left out of the environment: ${why}`),
    })
    if (underGithubActions(io.env)) writeAddMasks(io, secrets, addMaskLines, warn)

    const masking = opts.masking !== false && secrets.length > 0
    let filter: Parameters<typeof runProgram>[2]["filter"]
    if (masking) {
        const { buildMatcher, Masker } = await import("../../run/masker.js")
        const { maskNeedles } = await import("../../run/needles.js")
        const matcher = buildMatcher(maskNeedles(secrets.map((s) => s.value)))
        filter = { make: () => new Masker(matcher), stdout: writableOf(io.stdout), stderr: writableOf(io.stderr) }
    }
    const result = await runProgram(program, args, { env, cwd: io.cwd, ...(filter !== undefined ? { filter } : {}) })
    ctx.state.exitCode = result.exitCode
}

/** Print the `::add-mask::` lines for `secrets` on stdout; warn (by name) about values too short to mask. */
export function writeAddMasks(
    io: CommandContext["io"],
    secrets: readonly { name: string; value: string }[],
    addMaskLines: typeof import("../../run/github-mask.js").addMaskLines,
    warn: (io: CommandContext["io"], message: string) => void,
): void {
    const { lines, tooShort } = addMaskLines(secrets)
    if (lines.length > 0) io.stdout.write(lines.join(""))
    for (const name of tooShort) {
        warn(io, `the value of ${quote(name)} is shorter than 4 characters and is not masked in the GitHub Actions log (masking it would hide those characters everywhere)`)
    }
}

/** Our stdout/stderr as a Writable with backpressure (the real ones already are). */
function writableOf(target: CommandContext["io"]["stdout"]): Writable {
    if (target instanceof Writable) return target
    return new Writable({
        write(chunk: Buffer, _enc, done) {
            target.write(chunk)
            done()
        },
    })
}
