/**
 * `secrets edit <file>`: decrypt into a private temp file, open the editor, and
 * encrypt what was saved back into the file (sops-format.md §10.2). The file keeps
 * its data key and every unchanged value keeps its ciphertext, so the diff shows
 * the edited lines plus `mac` and `lastmodified`. A file that does not exist yet
 * starts from the format's example document and the creation rule (or `--age`).
 *
 * An existing file is compared with its creation rule (src/cli/rule-checks.ts): a
 * drifted encryption rule is warned about before the editor opens, and a new or
 * changed value that would be saved in clear only because of that drift sends the
 * user back to the editor (or, without a terminal, fails) unless `--allow-clear`.
 */
import { Command, Option } from "commander"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { passIdentityEnvOption } from "../identity-env.js"

export interface EditOptions {
    age?: string
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
    showMasterKeys?: boolean
    shamirSecretSharingThreshold?: number
    passIdentityEnv?: boolean
    allowClear?: boolean
    [rule: string]: unknown
}

export function registerEdit(program: Command, ctx: CommandContext): void {
    const cmd = program
        .command("edit")
        .description("edit an encrypted file in $EDITOR (a new file starts from an example)")
        .argument("<file>", "the encrypted file; created when it does not exist")
        .addOption(new Option("-s, --show-master-keys", "also show the sops metadata block in the editor"))
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addOption(o.age())
        .addOption(o.shamirThreshold())
        .addOption(passIdentityEnvOption("the editor"))
        .addOption(new Option("--allow-clear", "save new values in clear where the file's rule says so even if its creation rule would encrypt them"))
    for (const opt of o.ruleOptions()) cmd.addOption(opt)
    cmd.action(async (file: string, _opts: EditOptions, c: Command) => {
        const opts = o.withEnvDefaults(c.optsWithGlobals<EditOptions & o.GlobalOpts>(), ctx.io.env)
        await ctx.dispatch("edit", [file], opts, () => runEdit(o.withIdentityOptions(ctx, opts, file), file, opts))
    })
}

/**
 * Edit `file` (also the legacy root form `secrets FILE`). Exit codes as sops: 200
 * when nothing changed (the file is not rewritten), 201 when the editor is missing
 * or fails, 202 when the file's version cannot be compared, 128/51 when the file
 * cannot be opened.
 */
export async function runEdit(ctx: CommandContext, file: string, opts: EditOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { resolve } = await import("node:path")
    const { existsSync } = await import("node:fs")
    const { editExisting, editNew } = await import("../edit-file.js")
    if (existsSync(resolve(io.cwd, file))) {
        const { creationRuleOf, driftOf, warnRuleDrift, checkClearValues } = await import("../rule-checks.js")
        const creation = creationRuleOf(io, file, opts.config)
        await editExisting(io, file, {
            ...(creation !== undefined
                ? {
                      beforeEdit: (opened, store) => {
                          warnRuleDrift(io, file, opened.metadata, creation, store.format === "binary")
                          // With -s the metadata (and so the file's rule) is edited too: judge what was saved.
                          return (edited) =>
                              checkClearValues(io, "edit", file, opened.branches, edited.branches, driftOf(edited.metadata, creation, store.format === "binary"), opts.allowClear === true)
                      },
                  }
                : {}),
            showMasterKeys: opts.showMasterKeys === true,
            passIdentityEnv: opts.passIdentityEnv === true,
            ...(opts.inputType !== undefined ? { inputType: opts.inputType } : {}),
            ...(opts.ignoreMac === true ? { ignoreMac: true } : {}),
            ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
            ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
        })
        return
    }
    const { recipientsFromFlag } = await import("../../files/encryption-plan.js")
    await editNew(io, file, {
        showMasterKeys: opts.showMasterKeys === true,
        passIdentityEnv: opts.passIdentityEnv === true,
        ...(opts.inputType !== undefined ? { inputType: opts.inputType } : {}),
        ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        plan: {
            recipients: recipientsFromFlag(opts.age),
            rule: o.ruleFromFlags(opts),
            ...(opts.shamirSecretSharingThreshold !== undefined ? { shamirThreshold: opts.shamirSecretSharingThreshold } : {}),
            ...(opts.macOnlyEncrypted === true ? { macOnlyEncrypted: true } : {}),
        },
    })
}
