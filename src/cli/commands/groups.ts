/**
 * `secrets groups add|delete`: add a key group of age recipients, or delete one by
 * its 0-based index, as sops does (sops-format.md §3, §10). The data key stays the
 * same, but with several groups it is Shamir-split again, so every group's `enc`
 * blocks change; values, `mac` and `lastmodified` do not. Files with pgp/kms/… keys
 * are refused, since those keys could not be given the new shares.
 */
import { Command, InvalidArgumentError, Option } from "commander"
import type { Metadata } from "../../core/metadata.js"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface GroupsOptions {
    file: string
    inPlace?: boolean
    inputType?: Format
    shamirSecretSharingThreshold?: number
    decryptionOrder?: string
}

export interface GroupsAddOptions extends GroupsOptions {
    age?: string[]
}

const fileOption = () => new Option("-f, --file <file>", "the encrypted file").makeOptionMandatory()

export function registerGroups(program: Command, ctx: CommandContext): void {
    const groups = program.command("groups").description("add or delete key groups (Shamir secret sharing)")
    groups
        .command("add")
        .description("add a key group with the given age recipients")
        .addOption(fileOption())
        .addOption(new Option("--age <recipient>", "an age recipient of the new group (repeatable, or comma-separated)").argParser(collect))
        .addOption(o.shamirThreshold())
        .addOption(o.inPlace())
        .addOption(o.inputType())
        .addOption(o.decryptionOrder())
        .action(async (_opts: GroupsAddOptions, cmd: Command) => {
            const opts = withDecryptionOrder(cmd.optsWithGlobals<GroupsAddOptions & o.GlobalOpts>(), ctx)
            await ctx.dispatch("groups add", [], opts, () => runGroupsAdd(ctx, opts))
        })
    groups
        .command("delete")
        .description("delete the key group at INDEX (0-based)")
        .argument("<index>", "the 0-based index of the group to delete", groupIndex)
        .addOption(fileOption())
        .addOption(o.shamirThreshold())
        .addOption(o.inPlace())
        .addOption(o.inputType())
        .addOption(o.decryptionOrder())
        .action(async (index: number, _opts: GroupsOptions, cmd: Command) => {
            const opts = withDecryptionOrder(cmd.optsWithGlobals<GroupsOptions & o.GlobalOpts>(), ctx)
            await ctx.dispatch("groups delete", [index], opts, () => runGroupsDelete(ctx, index, opts))
        })
}

function collect(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value]
}

function groupIndex(v: string): number {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError("must be a group index (0, 1, …)")
    return Number.parseInt(v, 10)
}

/** Only SOPS_DECRYPTION_ORDER applies here: SOPS_AGE_RECIPIENTS is not a group's recipients. */
function withDecryptionOrder<T extends GroupsOptions>(opts: T, ctx: CommandContext): T {
    const env = ctx.io.env.SOPS_DECRYPTION_ORDER
    return opts.decryptionOrder === undefined && env !== undefined && env !== "" ? { ...opts, decryptionOrder: env } : opts
}

export async function runGroupsAdd(ctx: CommandContext, opts: GroupsAddOptions & o.GlobalOpts): Promise<void> {
    const { recipientsFromFlag } = await import("../../files/encryption-plan.js")
    const recipients = (opts.age ?? []).flatMap((a) => recipientsFromFlag(a))
    if (recipients.length === 0) {
        throw new SecretsError(ExitCode.Generic, "groups add needs the recipients of the new group", ["pass --age RECIPIENT (repeatable)"])
    }
    const { ageRecipients } = await import("../../engine/rekey.js")
    await changeGroups(ctx, opts, (md) => ({
        groups: [...md.keyGroups.map((g) => ageRecipients(g)), recipients],
        threshold: opts.shamirSecretSharingThreshold ?? md.shamirThreshold,
    }))
}

export async function runGroupsDelete(ctx: CommandContext, index: number, opts: GroupsOptions & o.GlobalOpts): Promise<void> {
    const { ageRecipients } = await import("../../engine/rekey.js")
    await changeGroups(ctx, opts, (md) => {
        const n = md.keyGroups.length
        if (index >= n) {
            throw new SecretsError(ExitCode.Generic, `there is no key group ${index}: the file has ${n} (0 to ${n - 1})`)
        }
        const threshold = opts.shamirSecretSharingThreshold ?? md.shamirThreshold
        if (threshold > n - 1) {
            throw new SecretsError(
                ExitCode.Generic,
                `deleting key group ${index} would leave ${n - 1} group${n === 2 ? "" : "s"}, fewer than the Shamir threshold ${threshold}`,
                ["lower the threshold with --shamir-secret-sharing-threshold"],
            )
        }
        return { groups: md.keyGroups.filter((_, i) => i !== index).map((g) => ageRecipients(g)), threshold }
    })
}

/** Read, re-wrap for the computed groups, and print the file or write it back under its lock. */
async function changeGroups(
    ctx: CommandContext,
    opts: GroupsOptions & o.GlobalOpts,
    compute: (md: Metadata) => { groups: string[][]; threshold: number },
): Promise<void> {
    const { io } = ctx
    const { resolve } = await import("node:path")
    const { readEncrypted, recoverKey, emitWithMetadata } = await import("../../files/rekey-file.js")
    const { rewrapGroups } = await import("../../engine/rekey.js")
    const file = opts.file
    const work = async (): Promise<Uint8Array> => {
        try {
            const { store, doc, metadata } = await readEncrypted(io, file, opts)
            const { groups, threshold } = compute(metadata)
            const dataKey = await recoverKey(io, file, metadata, opts.decryptionOrder)
            const r = await rewrapGroups(metadata, dataKey, groups, threshold)
            return await emitWithMetadata(store, doc, r.metadata)
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
    }
    if (opts.inPlace === true) {
        const { withFileLock } = await import("../../files/file-lock.js")
        const { writeFileAtomic } = await import("../../files/fs-atomic.js")
        const abs = resolve(io.cwd, file)
        await withFileLock(abs, async () => writeFileAtomic(abs, await work()))
    } else {
        io.stdout.write(await work())
    }
}
