/**
 * `secrets unset FILE INDEX`: remove one value (or a whole mapping or list element)
 * from the first document of an encrypted file, in place (sops-format.md §10,
 * cmd/sops/unset.go). Like `set`, it keeps the data key and the ciphertext of
 * every other value, and leaves the metadata `version` alone.
 */
import type { Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { info } from "../report.js"
import { assertFileExists, firstDocument, modifyOptions, outputStore, sealAgain } from "./set.js"

export interface UnsetOptions {
    idempotent?: boolean
    ignoreMac?: boolean
    inputType?: Format
    /** As for set: sops' unset takes --output-type too. */
    outputType?: Format
    decryptionOrder?: string
}

const EXAMPLES = `
Examples:
  secrets unset secrets.yaml '["db"]["password"]'
  secrets unset --idempotent secrets.yaml '["old_token"]'   # fine if already gone
`

export function registerUnset(program: Command, ctx: CommandContext): void {
    program
        .command("unset")
        .description("remove one value from an encrypted file (other values keep their ciphertext)")
        .argument("[file]", "the encrypted file")
        .argument("[index]", `what to remove, e.g. '["db"]["password"]' or '["hosts"][0]'`)
        .option("--idempotent", "succeed without writing when there is nothing at INDEX")
        .addOption(o.ignoreMac())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        // sops counts the arguments itself and exits 100 on a wrong count.
        .allowExcessArguments()
        .addHelpText("after", EXAMPLES)
        .action(async (_file: unknown, _index: unknown, _opts: UnsetOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<UnsetOptions & o.GlobalOpts>(), ctx.io.env)
            const args = [...cmd.args]
            await ctx.dispatch("unset", args, opts, async () => {
                if (args.length !== 2) {
                    throw new SecretsError(ExitCode.NoFileSpecified, `unset takes exactly 2 arguments, FILE and INDEX (got ${args.length})`, [
                        "usage: secrets unset [--idempotent] FILE INDEX; see secrets unset --help",
                    ])
                }
                await runUnset(o.withIdentityOptions(ctx, opts, args[0]), args[0] ?? "", args[1] ?? "", opts)
            })
        })
}

/**
 * Remove what is at `index` in the first document of `file`. Nothing there exits 1
 * naming the path (sops: ErrorGeneric), or succeeds without writing with
 * `idempotent`. A malformed index exits 91, a missing file 100.
 */
export async function runUnset(ctx: CommandContext, file: string, index: string, opts: UnsetOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { parseTreePath, unsetAt, describePath } = await import("../../core/tree-path.js")
    const path = parseTreePath(index)
    await assertFileExists(io, file)

    const { modifyEncryptedFile } = await import("../../files/modify-file.js")
    const written = await modifyEncryptedFile(io, file, modifyOptions(opts), async (opened, store) => {
        const updated = unsetAt(firstDocument(opened, file), path)
        if (updated === undefined) {
            if (opts.idempotent === true) return undefined
            throw new SecretsError(ExitCode.Generic, `${quote(file)} has nothing at ${describePath(path)}`, [
                "check the path with secrets decrypt, or pass --idempotent to accept a value that is already gone",
            ])
        }
        const { resolveFormats } = await import("../formats.js")
        const out = await outputStore(store, resolveFormats({ file, inputType: opts.inputType, outputType: opts.outputType }).output, opts)
        return sealAgain([updated, ...opened.branches.slice(1)], out, opened, io, file)
    })
    if (!written) info(io, `${quote(file)} has nothing at ${describePath(path)}: not written`)
}
