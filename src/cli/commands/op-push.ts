/**
 * `secrets op push FILE (--vault V | --mapping MAP)`: create or edit 1Password
 * items from an encrypted file's values (issue 5 §3). Each item is looked up
 * first (`op item get`): not found means create, found means edit with the whole
 * item as a template on stdin, keeping the fields the file does not mention. An
 * item whose values are all there already is not written (no write request spent).
 */
import { Option, type Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import type { OpClient, OpItem } from "../../integrations/op-types.js"
import type { ItemChange, ItemTarget } from "../../sync/to-items.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import type { Io } from "../../files/io.js"

export interface PushOptions {
    vault?: string
    /** The whole file into this one item. */
    item?: string
    mapping?: string
    dryRun?: boolean
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
}

/** One item's outcome. */
export interface PushOutcome {
    readonly target: ItemTarget
    readonly change: ItemChange
}

const EXAMPLES = `
Examples:
  secrets op push secrets/app.yaml --vault Prod            # one item per top-level key
  secrets op push .env --vault Dev --item myapp              # the whole file as one item
  secrets op push .env --mapping env.op.yaml --dry-run
`

export function registerOpPush(op: Command, ctx: CommandContext): void {
    op.command("push")
        .description("create or update 1Password items from an encrypted file's values (values go to op on stdin)")
        .argument("<file>", "the encrypted file")
        .addOption(new Option("--vault <vault>", "the vault for one item per top-level key (name or ID)"))
        .addOption(new Option("--item <item>", "put the whole file into this one item (title or ID): its keys become fields"))
        .addOption(new Option("--mapping <file>", "a YAML/JSON file mirroring the file's tree with op:// references as leaves"))
        .addOption(new Option("--dry-run", "print what would be created or updated, and write nothing"))
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, _opts: PushOptions, c: Command) => {
            const opts = o.withEnvDefaults(c.optsWithGlobals<PushOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("op push", [file], opts, async () => {
                const { opClient } = await import("./op-source.js")
                checkPushFlags(opts)
                const { io } = o.withIdentityOptions(ctx, opts, file)
                const outcomes = await pushOnce(io, file, await opClient(io), opts)
                printPush(ctx.io, outcomes, opts.dryRun === true)
            })
        })
}

/** `--vault` or `--mapping`, and with a mapping `--vault` only as a check of the references' vaults. */
export function checkPushFlags(opts: PushOptions): void {
    if (opts.mapping === undefined && opts.vault === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "say where the values go", [
            "use --vault VAULT (one item per top-level key), --vault VAULT --item ITEM (the file as one item) or --mapping MAP",
        ])
    }
    if (opts.item !== undefined && (opts.vault === undefined || opts.mapping !== undefined)) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--item needs --vault and no --mapping: the whole file goes into that one item", [
            "e.g. secrets op push .env --vault Dev --item myapp",
        ])
    }
}

/** The targets for `file`'s values, opening it read-only. */
export async function pushTargets(io: Io, file: string, opts: PushOptions & o.GlobalOpts): Promise<ItemTarget[]> {
    const { formatForPath, loadStore } = await import("../../stores/index.js")
    const format = opts.inputType ?? formatForPath(file)
    const { readMapping } = await import("./op-source.js")
    const mapped = opts.mapping !== undefined ? await readMapping(io, opts.mapping) : undefined
    if (mapped !== undefined && opts.vault !== undefined) {
        const vault = opts.vault.toLowerCase()
        const other = mapped.find((m) => m.reference.vault.toLowerCase() !== vault)
        if (other !== undefined) {
            throw new SecretsError(ExitCode.ConflictingParameters, `mapping ${quote(opts.mapping ?? "")}: ${other.reference.text} is not in vault ${quote(opts.vault)}`, [
                "with --mapping the references name their vaults; drop --vault or fix the reference",
            ])
        }
    }
    const { readInput, openInput } = await import("../../files/open-file.js")
    const store = await loadStore(format)
    const opened = await openInput(io, file, await readInput(io, file), store, {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
    })
    const { firstDocument } = await import("./set.js")
    const first = firstDocument(opened, file)
    const { targetsFromFile, targetsFromMapping, targetsFromTopLevel } = await import("../../sync/to-items.js")
    if (mapped !== undefined) return targetsFromMapping(first, mapped, file)
    if (opts.item === undefined) return targetsFromTopLevel(first, opts.vault ?? "", format, file)
    if (format === "binary") {
        throw new SecretsError(ExitCode.ConflictingParameters, `${quote(file)} is a binary file: one blob, not named values`, [
            "push a .yaml, .json, .env or .ini file",
        ])
    }
    return targetsFromFile(first, opts.vault ?? "", opts.item, file)
}

/** Look up every target item and plan it; with `write`, create or edit the ones that change. */
export async function pushOnce(io: Io, file: string, client: OpClient, opts: PushOptions & o.GlobalOpts, write = opts.dryRun !== true): Promise<PushOutcome[]> {
    const targets = await pushTargets(io, file, opts)
    const { planItem } = await import("../../sync/to-items.js")
    const out: PushOutcome[] = []
    for (const target of targets) {
        const existing = await lookUp(client, target)
        const change = planItem(target, existing)
        if (write && change.action === "create") await client.createItem(target.vault, change.template)
        // Edit by the ID op gave us: a title could match a second item by then.
        if (write && change.action === "update" && existing !== undefined) await client.editItem(existing.vault.id, existing.id, change.template)
        out.push({ target, change })
    }
    return out
}

async function lookUp(client: OpClient, target: ItemTarget): Promise<OpItem | undefined> {
    try {
        return await client.getItem(target.vault, target.item)
    } catch (e) {
        // Only a missing item means "create"; a missing vault or a sign-in problem is an error.
        if ((e as { kind?: unknown }).kind === "item-not-found") return undefined
        throw e
    }
}

/** One line per item on stdout: created / updated (with the field names) / unchanged. */
export function printPush(io: Io, outcomes: readonly PushOutcome[], dryRun: boolean): void {
    for (const { target, change } of outcomes) io.stdout.write(`${pushLine(target, change, dryRun)}\n`)
    const n = (a: string) => outcomes.filter((x) => x.change.action === a).length
    io.stderr.write(`secrets: ${dryRun ? "dry run: nothing written; would create" : "created"} ${n("create")}, ${dryRun ? "update" : "updated"} ${n("update")}, unchanged ${n("unchanged")}\n`)
}

export function pushLine(target: ItemTarget, change: ItemChange, dryRun: boolean): string {
    const where = `${quote(target.item)} in vault ${quote(target.vault)}`
    const fields = change.fields.length > 0 ? `: ${change.fields.join(", ")}` : ""
    switch (change.action) {
        case "create":
            return `${dryRun ? "would create" : "created"} ${where}${fields}`
        case "update":
            return `${dryRun ? "would update" : "updated"} ${where}${fields}`
        case "unchanged":
            return `unchanged ${where}`
    }
}
