/**
 * `secrets exec-file FILE 'CMD'`: decrypt FILE into a FIFO (or, with `--no-fifo`,
 * a 0600 file) in a private directory, replace `{}` in CMD with its path, run
 * `/bin/sh -c CMD`, exit with its status, and remove the directory on every way
 * out (sops-format.md §10). The command inherits our environment without the
 * identity variables (identity-env.ts).
 */
import { open } from "node:fs/promises"
import { join } from "node:path"
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { passIdentityEnvOption } from "../identity-env.js"
import type { Io } from "../../files/io.js"

/** sops' exec.FallbackFilename. */
export const DEFAULT_FILENAME = "tmp-file"

export interface ExecFileOptions {
    fifo?: boolean
    filename?: string
    user?: string
    background?: boolean
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
    passIdentityEnv?: boolean
}

export function registerExecFile(program: Command, ctx: CommandContext): void {
    program
        .command("exec-file")
        .description("run a command with the decrypted file at the path {} stands for")
        .argument("<file>", "the encrypted file")
        .argument("<command>", "the command, run by /bin/sh -c; {} is replaced with the plaintext's path")
        .addOption(new Option("--no-fifo", "use a regular 0600 file instead of a FIFO"))
        .addOption(new Option("--filename <name>", `name of the FIFO or file, a plain name (default ${DEFAULT_FILENAME})`))
        .addOption(new Option("--user <user>", "run the command as this user (not supported: see docs/commands/exec.md)"))
        .addOption(new Option("--background", "not supported: the file would be removed before the command reads it"))
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addOption(passIdentityEnvOption("the command"))
        .action(async (file: string, command: string, _opts: ExecFileOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ExecFileOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("exec-file", [file, command], opts, () => runExecFile(o.withIdentityOptions(ctx, opts, file), file, command, opts))
        })
}

/**
 * `--filename` must be a plain name: sops only accepts a local relative path
 * there, and a name with a directory part would either leave the private
 * directory (`../x`) or need directories we would then have to clean up.
 */
export function checkFilename(name: string): string {
    if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
        throw new SecretsError(ExitCode.Generic, `--filename must be a plain file name, not ${quote(name)}`, [
            `give a name without "/" such as ${DEFAULT_FILENAME} or config.yaml; the directory is always a private temporary one`,
        ])
    }
    return name
}

export async function runExecFile(ctx: CommandContext, file: string, command: string, opts: ExecFileOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { userNotSupported } = await import("./exec-env.js")
    if (opts.user !== undefined) throw userNotSupported("exec-file")
    if (opts.background === true) {
        // sops starts the command and then removes the file at once, racing it.
        throw new SecretsError(ExitCode.Generic, "exec-file --background is not supported: the file would be removed before the command could read it", [
            "run the command in the background yourself: secrets exec-file FILE 'CMD' &",
        ])
    }
    const name = checkFilename(opts.filename ?? DEFAULT_FILENAME)

    const { resolveFormats } = await import("../formats.js")
    const { loadStore } = await import("../../stores/index.js")
    const { readInput, openInput } = await import("../../files/open-file.js")
    const formats = resolveFormats({ file, inputType: opts.inputType, outputType: opts.outputType })
    const storeOpts = opts.indent === undefined ? {} : { indent: opts.indent }
    const inStore = await loadStore(formats.input, storeOpts)
    const outStore = formats.output === formats.input ? inStore : await loadStore(formats.output, storeOpts)
    const input = await readInput(io, file)
    const opened = await openInput(io, file, input, inStore, {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    })
    const plaintext = outStore.emitPlain(opened.branches)
    const { withPrivateDir } = await import("../../files/private-temp.js")
    const { childBaseEnvironment } = await import("../identity-env.js")
    const env = childBaseEnvironment(io.env, opts.passIdentityEnv === true)
    ctx.state.exitCode = await withPrivateDir((dir, setRunning) => runWithPlaintext(io, dir, name, plaintext, command, env, opts.fifo !== false, setRunning), {
        prefix: "secrets-exec-",
    })
}

async function runWithPlaintext(
    io: Io,
    dir: string,
    name: string,
    plaintext: Uint8Array,
    command: string,
    env: Readonly<Record<string, string>>,
    fifo: boolean,
    setRunning: (running: boolean) => void,
): Promise<number> {
    const { makeFifo, runShell, writeFifo } = await import("../../integrations/exec.js")
    const path = join(dir, name)
    let writer: ReturnType<typeof writeFifo> | undefined
    if (fifo) {
        await makeFifo(path)
        // Written asynchronously: opening a FIFO for writing waits for the reader.
        writer = writeFifo(path, plaintext)
    } else {
        const fh = await open(path, "wx", 0o600)
        try {
            await fh.writeFile(plaintext)
        } finally {
            await fh.close()
        }
    }
    try {
        // Every {}, as sops' strings.Replace(cmd, "{}", path, -1); the path is not quoted, as in sops.
        const result = await runShell(command.replaceAll("{}", path), { env, cwd: io.cwd, onRunning: setRunning })
        return result.exitCode
    } finally {
        if (writer !== undefined) {
            // The command has ended: a reader that never came will not come now.
            writer.stop()
            const outcome = await writer.done
            if (outcome.kind === "failed") {
                const { warn } = await import("../report.js")
                warn(io, `could not write the plaintext into the FIFO (${outcome.code})`)
            }
        }
    }
}

