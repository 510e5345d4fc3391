/**
 * `secrets encrypt [file]`: encrypt a plaintext file with the recipients of its
 * creation rule (or `--age`), printing the result or writing it with -i / --output.
 */
import { Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface EncryptOptions {
    inPlace?: boolean
    output?: string
    inputType?: Format
    outputType?: Format
    age?: string
    filenameOverride?: string
    shamirSecretSharingThreshold?: number
    [rule: string]: unknown
}

export function registerEncrypt(program: Command, ctx: CommandContext): void {
    const cmd = program
        .command("encrypt")
        .description("encrypt a plaintext file for the recipients of its creation rule")
        .argument("[file]", "the plaintext file; stdin when absent (then --filename-override is required)")
        .addOption(o.inPlace())
        .addOption(o.output())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.age())
        .addOption(o.filenameOverride())
        .addOption(o.shamirThreshold())
    for (const opt of o.ruleOptions()) cmd.addOption(opt)
    cmd.action(async (file: string | undefined, _opts: EncryptOptions, c: Command) => {
        const opts = o.withEnvDefaults(c.optsWithGlobals<EncryptOptions & o.GlobalOpts>(), ctx.io.env)
        await ctx.dispatch("encrypt", [file], opts, () => runEncrypt(ctx, file, opts))
    })
}

export async function runEncrypt(ctx: CommandContext, file: string | undefined, opts: EncryptOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const stdin = file === undefined || file === "-"
    if (stdin && opts.filenameOverride === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "encrypting stdin needs --filename-override to choose the format and creation rule")
    }
    const { checkTarget, writeOutput } = await import("../../files/write-output.js")
    const target = { ...(file !== undefined ? { file } : {}), inPlace: opts.inPlace === true, ...(opts.output !== undefined ? { output: opts.output } : {}) }
    checkTarget(target)

    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, filenameOverride: opts.filenameOverride, inputType: opts.inputType, outputType: opts.outputType })
    const { loadStore } = await import("../../stores/index.js")
    const { readInput } = await import("../../files/open-file.js")
    const { planFor, recipientsFromFlag } = await import("../../files/encryption-plan.js")
    const { encryptNew } = await import("../../engine/seal.js")

    const name = stdin ? "stdin" : file
    // A binary file is read and sealed as bytes, up to its own limit (files/binary-stream.ts).
    const binary = formats.input === "binary" && formats.output === "binary"
    const bytePath = binary ? await import("../../files/binary-stream.js") : undefined
    const input = await readInput(io, file, bytePath?.binaryPlainLimit(name ?? "stdin"))
    const inStore = await loadStore(formats.input, opts.indent === undefined ? {} : { indent: opts.indent })
    const outStore = formats.output === formats.input ? inStore : await loadStore(formats.output, opts.indent === undefined ? {} : { indent: opts.indent })
    let branches
    try {
        branches = inStore.parsePlain(input)
    } catch (e) {
        // sops exits 2 when the plaintext cannot be parsed.
        if (e instanceof SecretsError) {
            throw new SecretsError(e.code === ExitCode.Generic ? ExitCode.CouldNotReadInputFile : e.code, e.detail, e.hints).about(quote(name))
        }
        throw e
    }
    if (branches.length === 0) {
        throw new SecretsError(ExitCode.NeedAtLeastOneDocument, `${quote(name)} is empty: there is nothing to encrypt`)
    }
    const rulePath = opts.filenameOverride ?? file
    const plan = planFor(io, rulePath, opts.config, {
        recipients: recipientsFromFlag(opts.age),
        rule: o.ruleFromFlags(opts),
        ...(opts.shamirSecretSharingThreshold !== undefined ? { shamirThreshold: opts.shamirSecretSharingThreshold } : {}),
        ...(opts.macOnlyEncrypted ? { macOnlyEncrypted: true } : {}),
    })
    let out: Uint8Array | Uint8Array[]
    try {
        out = bytePath !== undefined ? await (await import("../../engine/binary-file.js")).encryptBinary(input, outStore, plan, io.now()) : await encryptNew(branches, outStore, plan, io.now())
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(name)) : e
    }
    await writeOutput(io, target, out)
    const { warnIfCallerCannotOpen } = await import("../../files/caller-can-open.js")
    await warnIfCallerCannotOpen(io, name ?? "stdin", plan.groups, plan.shamirThreshold, {
        ...(rulePath !== undefined ? { file: rulePath } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
    })
}
