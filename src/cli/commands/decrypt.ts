/**
 * `secrets decrypt [file]` and `secrets view [file]`: print (or write) the
 * plaintext. Like sops, decrypt never consults creation rules.
 */
import { Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import { getAt, parseTreePath } from "../../core/tree-path.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface DecryptOptions {
    inPlace?: boolean
    output?: string
    extract?: string
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
    filenameOverride?: string
    decryptionOrder?: string
}

export function registerDecrypt(program: Command, ctx: CommandContext): void {
    program
        .command("decrypt")
        .description("decrypt a file and print it (or write it with -i / --output)")
        .argument("[file]", "the encrypted file; stdin when absent")
        .addOption(o.inPlace())
        .addOption(o.output())
        .addOption(o.extract())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.ignoreMac())
        .addOption(o.filenameOverride())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .action(async (file: string | undefined, _opts: DecryptOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<DecryptOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("decrypt", [file], opts, () => runDecrypt(o.withIdentityOptions(ctx, opts, file), file, opts))
        })

    program
        .command("view")
        .description("decrypt a file to stdout (decrypt without -i / --output)")
        .argument("<file>", "the encrypted file")
        .addOption(o.extract())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .action(async (file: string, _opts: DecryptOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<DecryptOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("view", [file], opts, () => runDecrypt(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

export async function runDecrypt(ctx: CommandContext, file: string | undefined, opts: DecryptOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { checkTarget, writeOutput } = await import("../../files/write-output.js")
    const target = { ...(file !== undefined ? { file } : {}), inPlace: opts.inPlace === true, ...(opts.output !== undefined ? { output: opts.output } : {}) }
    checkTarget(target)
    const path = opts.extract === undefined ? undefined : parseTreePath(opts.extract)

    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, filenameOverride: opts.filenameOverride, inputType: opts.inputType, outputType: opts.outputType })
    const { loadStore } = await import("../../stores/index.js")
    const { readInput, openInput } = await import("../../files/open-file.js")
    const storeOpts = opts.indent === undefined ? {} : { indent: opts.indent }
    const inStore = await loadStore(formats.input, storeOpts)
    const outStore = formats.output === formats.input ? inStore : await loadStore(formats.output, storeOpts)

    const name = file ?? "stdin"
    // A binary file in the plain shape is opened as bytes, up to its own limit (files/binary-stream.ts).
    const binary = formats.input === "binary" && formats.output === "binary" && path === undefined
    const bytePath = binary ? await import("../../files/binary-stream.js") : undefined
    const input = await readInput(io, file, bytePath?.binaryEncryptedLimit(name))
    const openOpts = {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    }
    const plain = bytePath !== undefined ? await bytePath.openBinaryInput(io, name, input, inStore, openOpts) : null
    if (plain !== null) return writeOutput(io, target, plain, { plaintext: true })
    const opened = await openInput(io, name, input, inStore, openOpts)

    let out: Uint8Array
    if (path !== undefined) {
        const first = opened.branches[0]
        const node = first === undefined ? undefined : getAt(first, path)
        if (node === undefined) {
            throw new SecretsError(ExitCode.Generic, `${quote(name)} has no value at ${opts.extract ?? ""}`)
        }
        out = outStore.emitValue(node)
    } else {
        out = outStore.emitPlain(opened.branches)
    }
    await writeOutput(io, target, out, { plaintext: true })
}
