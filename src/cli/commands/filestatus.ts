/**
 * `secrets filestatus FILE`: `{"encrypted":true}` when the file carries sops
 * metadata with a version and a MAC, as sops decides it; no key is needed.
 */
import { Command } from "commander"
import { InputLimitError } from "../../core/input-limits.js"
import { quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export function registerFilestatus(program: Command, ctx: CommandContext): void {
    program
        .command("filestatus")
        .description(`print {"encrypted":true|false} for a file, without decrypting it`)
        .argument("<file>", "the file to check")
        .addOption(o.inputType())
        .action(async (file: string, opts: { inputType?: Format }) => ctx.dispatch("filestatus", [file], opts, () => runFilestatus(ctx, file, opts)))
}

export async function runFilestatus(ctx: CommandContext, file: string, opts: { inputType?: Format }): Promise<void> {
    // read-input.js, not open-file.js: that one brings the engine, the keys and node:crypto.
    const { readInput } = await import("../../files/read-input.js")
    const { loadStore, formatForPath } = await import("../../stores/index.js")
    const { metadataFromTree } = await import("../../stores/metadata.js")
    const input = await readInput(ctx.io, file)
    const store = await loadStore(opts.inputType ?? formatForPath(file))
    let encrypted = false
    try {
        const md = metadataFromTree(store.parseEncrypted(input).metadata)
        encrypted = md.version !== "" && md.mac !== ""
    } catch (e) {
        // A file that breaks an input bound is reported, as sops reports a file it
        // cannot load; anything else unreadable is simply not encrypted.
        if (e instanceof InputLimitError) throw e.about(quote(file))
        encrypted = false
    }
    ctx.io.stdout.write(`${JSON.stringify({ encrypted })}\n`)
}
