/**
 * `secrets rotate FILE`: a new data key, every value re-encrypted with it, and age
 * recipients added (`--add-age`, to group 0) or removed (`--rm-age`, from every
 * group) on the way (sops-format.md §3, §10). Like sops it prints the result unless
 * `-i` / `--output` is given, and it does not bump `version`. Files with pgp/kms/…
 * keys are refused: those keys would be left with the old data key.
 *
 * Like sops it starts from the recipients in the file, so a key someone added to
 * the file alone (`--add-age`) gets the new data key too. It says so: recipients the
 * file's creation rule does not name are warned about (kept, as sops keeps them),
 * and `--strict` rotates to the creation rule instead: its key groups, threshold and
 * encryption rule, dropping every key the rule does not name (src/fleet/rule-recipients.ts).
 */
import { Command, Option } from "commander"
import type { OpenedFile } from "../../engine/open.js"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface RotateOptions {
    inPlace?: boolean
    output?: string
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
    /** Comma-separated age recipients for group 0. */
    addAge?: string
    /** Comma-separated age recipients to remove from every group. */
    rmAge?: string
    /** Rotate to the creation rule's recipients and encryption rule. */
    strict?: boolean
}

/** `--add-age` / `--rm-age`, exported for the legacy root form (`secrets -r --add-age …`). */
export const addAgeOption = () => new Option("--add-age <recipients>", "comma-separated age recipients to add to the first key group")
export const rmAgeOption = () => new Option("--rm-age <recipients>", "comma-separated age recipients to remove from every key group")

export function registerRotate(program: Command, ctx: CommandContext): void {
    program
        .command("rotate")
        .description("generate a new data key and re-encrypt every value with it")
        // Optional only for --due (src/cli/commands/rotate-due.ts); checked in the action.
        .argument("[file]", "the encrypted file")
        .addOption(new Option("--due", "rotate every file under the config whose data key is older than the rotation policy allows"))
        .addOption(new Option("--dry-run", "with --due: print the files that are due and write nothing"))
        .addOption(addAgeOption())
        .addOption(rmAgeOption())
        .addOption(
            new Option("--strict", "take the recipients, key groups and encryption rule from the file's creation rule: keys it does not name lose access"),
        )
        .addOption(o.inPlace())
        .addOption(o.output())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .action(async (file: string | undefined, _opts: RotateOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RotateOptions & o.GlobalOpts & { due?: boolean; dryRun?: boolean }>(), ctx.io.env)
            if (opts.due === true) {
                if (file !== undefined) cmd.error("error: --due rotates the files the policy says are due: give no file with it", { code: "commander.invalidArgument" })
                await ctx.dispatch("rotate --due", [], opts, async () => {
                    const { runRotateDue } = await import("./rotate-due.js")
                    await runRotateDue(o.withIdentityOptions(ctx, opts), opts)
                })
                return
            }
            if (file === undefined) cmd.error("error: missing required argument 'file'", { code: "commander.missingArgument" })
            if (opts.dryRun === true) cmd.error("error: --dry-run goes with --due", { code: "commander.invalidArgument" })
            await ctx.dispatch("rotate", [file], opts, () => runRotate(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

export async function runRotate(ctx: CommandContext, file: string, opts: RotateOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { checkTarget, writeOutput } = await import("../../files/write-output.js")
    const target = { file, inPlace: opts.inPlace === true, ...(opts.output !== undefined ? { output: opts.output } : {}) }
    checkTarget(target)
    const { recipientsFromFlag } = await import("../../files/encryption-plan.js")
    const add = recipientsFromFlag(opts.addAge)
    const remove = recipientsFromFlag(opts.rmAge)
    if (add.length + remove.length > 0) {
        const { existsSync } = await import("node:fs")
        const { resolve } = await import("node:path")
        if (!existsSync(resolve(io.cwd, file))) {
            throw new SecretsError(ExitCode.CannotChangeKeysFromNonExistentFile, `${quote(file)} does not exist: there are no keys to change`, [
                "encrypt the file first with `secrets encrypt`",
            ])
        }
    }
    const { parseRecipient, identityGivenAsRecipient } = await import("../../keys/recipient.js")
    for (const r of add) parseRecipient(r)
    // --rm-age takes any text (a malformed recipient may be what is to go), but a
    // secret key must not be echoed by the "no such recipient" warning (issue 10 §8).
    const { looksLikeIdentity } = await import("../../core/identity-text.js")
    if (remove.some(looksLikeIdentity)) throw identityGivenAsRecipient()
    const strict = opts.strict === true
    if (strict && add.length + remove.length > 0) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--strict takes the recipients from the creation rule: it cannot be combined with --add-age or --rm-age", [
            "change the rule in .sops.yaml, then rotate with --strict",
        ])
    }
    const { creationRuleOf, applyCreationRule, warnAgainstCreationRule } = await import("../rule-checks.js")
    const creation = creationRuleOf(io, file, opts.config, strict)

    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, ...(opts.inputType ? { inputType: opts.inputType } : {}), ...(opts.outputType ? { outputType: opts.outputType } : {}) })
    const { loadStore } = await import("../../stores/index.js")
    const storeOpts = opts.indent === undefined ? {} : { indent: opts.indent }
    const outStore = await loadStore(formats.output, storeOpts)
    const { rotateDataKey, ageRecipients } = await import("../../engine/rekey.js")
    const { info, warn } = await import("../report.js")

    const change = async (opened: OpenedFile): Promise<Uint8Array> => {
        const present = new Set(opened.metadata.keyGroups.flatMap((g) => ageRecipients(g)))
        for (const r of remove) if (!present.has(r)) warn(io, `${quote(file)} has no recipient ${r} to remove`)
        const binary = outStore.format === "binary"
        let offRule: ReadonlySet<string> = new Set()
        let rotated
        try {
            if (strict && creation !== undefined) {
                const applied = applyCreationRule(io, file, opened, creation, binary)
                offRule = applied.offRule
                rotated = await rotateDataKey(applied.opened, outStore, io.now(), applied.change)
            } else {
                rotated = await rotateDataKey(opened, outStore, io.now(), { add, remove })
            }
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
        for (const d of rotated.diff) {
            for (const r of d.added) info(io, `${quote(file)}: added ${r} to key group ${d.group}`)
            for (const r of d.removed) info(io, `${quote(file)}: removed ${r} from key group ${d.group}${offRule.has(r) ? ": not in its creation rule" : ""}`)
        }
        if (!strict && creation !== undefined) warnAgainstCreationRule(io, file, opened, rotated.metadata, creation, binary)
        return rotated.output
    }

    const openOpts = {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
    }
    if (opts.inPlace === true) {
        const { modifyEncryptedFile } = await import("../../files/modify-file.js")
        await modifyEncryptedFile(io, file, { inputType: formats.input, ...openOpts, ...storeOpts }, change)
        return
    }
    const { readInput, openInput } = await import("../../files/open-file.js")
    const inStore = formats.input === formats.output ? outStore : await loadStore(formats.input, storeOpts)
    const input = await readInput(io, file)
    const opened = await openInput(io, file, input, inStore, {
        ignoreMac: openOpts.ignoreMac,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    })
    await writeOutput(io, target, await change(opened))
}
