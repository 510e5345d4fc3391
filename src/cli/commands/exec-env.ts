/**
 * `secrets exec-env FILE 'CMD'`: decrypt FILE, put its top-level keys into the
 * environment of `/bin/sh -c CMD`, run it, and exit with its status
 * (sops-format.md §10). The plaintext reaches the child through its environment
 * only: never argv, never a file. The child inherits our environment without the
 * identity variables (identity-env.ts), and a value that was not encrypted never
 * sets PATH, LD_PRELOAD and the like (env-denylist.ts).
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { passIdentityEnvOption } from "../identity-env.js"

export interface ExecEnvOptions {
    pristine?: boolean
    user?: string
    sameProcess?: boolean
    background?: boolean
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
    passIdentityEnv?: boolean
}

export function registerExecEnv(program: Command, ctx: CommandContext): void {
    program
        .command("exec-env")
        .description("run a command with the file's top-level values as environment variables")
        .argument("<file>", "the encrypted file")
        .argument("<command>", "the command, run by /bin/sh -c; quote it as one argument")
        .addOption(new Option("--pristine", "give the command only the file's variables, none of ours (not even PATH)"))
        .addOption(new Option("--user <user>", "run the command as this user (not supported: see docs/commands/exec.md)"))
        .addOption(new Option("--same-process", "accepted for sops scripts; the command still runs as a child (Node cannot exec)"))
        .addOption(new Option("--background", "start the command and do not wait for it (deprecated in sops)"))
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addOption(passIdentityEnvOption("the command"))
        .action(async (file: string, command: string, _opts: ExecEnvOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ExecEnvOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("exec-env", [file, command], opts, () => runExecEnv(o.withIdentityOptions(ctx, opts, file), file, command, opts))
        })
}

/** `--user`: sops switches uid/gid and groups in its own process, which Node cannot do safely. */
export function userNotSupported(command: string): SecretsError {
    return new SecretsError(ExitCode.Generic, `${command} --user is not supported: secrets cannot drop privileges for the command`, [
        "run the command through sudo -u USER or runuser -u USER inside CMD, or run secrets as that user",
    ])
}

export async function runExecEnv(ctx: CommandContext, file: string, command: string, opts: ExecEnvOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    if (opts.user !== undefined) throw userNotSupported("exec-env")
    if (opts.background === true && opts.sameProcess === true) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--same-process cannot be used with --background")
    }
    const { warn, info } = await import("../report.js")
    if (opts.background === true) warn(io, "exec-env's --background option is deprecated, as in sops")
    if (opts.sameProcess === true && opts.verbose === true) {
        // Node has no execve: the closest we get is a child with our stdio and signals forwarded.
        info(io, "--same-process: running the command as a child process with signals forwarded (Node cannot replace itself)")
    }

    const { resolveFormats } = await import("../formats.js")
    const { loadStore } = await import("../../stores/index.js")
    const { readInput, openInput } = await import("../../files/open-file.js")
    const { envFromBranch, childEnvironment } = await import("../../files/env-from-tree.js")
    const { childBaseEnvironment } = await import("../identity-env.js")
    const { aadFor } = await import("../../core/walk.js")
    const { runShell } = await import("../../integrations/exec.js")

    const formats = resolveFormats({ file, inputType: opts.inputType })
    const store = await loadStore(formats.input)
    const input = await readInput(io, file)
    const opened = await openInput(io, file, input, store, {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    })
    // Only the first document counts, as in sops (sops-format.md §11.8).
    const first = opened.branches[0]
    let vars: ReturnType<typeof envFromBranch> = []
    try {
        vars = first === undefined ? [] : envFromBranch(first, {
            // The IV stash holds exactly the values that passed AES-GCM under their
            // own key path while the file was opened (decryptValue remembers a value
            // only after its tag verified). A value left in clear is not there, nor
            // is an empty one: sops stores "" unencrypted and the MAC hashes nothing
            // for it, so anyone can add `PATH: ""` to any file.
            wasDecrypted: (key, value) => opened.stash.lookup(aadFor([key]), value) !== undefined,
            onSkip: (key, reason) =>
                warn(
                    io,
                    reason.kind === "null"
                        ? `${quote(file)}: ${quote(key)} is null and was left out of the environment`
                        : `${quote(file)}: ${quote(key)} was left out of the environment: it changes ${reason.what}, and its value is not encrypted, so nothing shows who wrote it; encrypt the value to pass it`,
                ),
        })
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
    const env = childEnvironment(childBaseEnvironment(io.env, opts.passIdentityEnv === true), vars, opts.pristine === true)
    // GitHub Actions: register the values with the runner before the command can print them (issue 13 point 2).
    const { underGithubActions, addMaskLines } = await import("../../run/github-mask.js")
    if (underGithubActions(io.env)) {
        const { writeAddMasks } = await import("./run.js")
        writeAddMasks(io, vars.map(([name, value]) => ({ name, value })), addMaskLines, warn)
    }
    const result = await runShell(command, { env, cwd: io.cwd, background: opts.background === true })
    ctx.state.exitCode = result.exitCode
}
