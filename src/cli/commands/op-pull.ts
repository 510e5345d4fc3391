/**
 * `secrets op pull FILE (--mapping MAP | --vault V [--item I…] [--tags T])`: fill
 * or update an encrypted file from 1Password (issue 5 §3). The values are fetched
 * first, then, under the file's lock, the plan is made against the file's
 * plaintext and printed (key paths only), and the file is sealed again under its
 * own data key with the IV stash: unchanged values keep their exact ciphertext, so
 * the diff is the changed lines plus `mac` and `lastmodified`. A missing file is
 * created by its creation rule (or `--age`).
 */
import { Option, type Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import type { OpClient } from "../../integrations/op-types.js"
import type { SyncPlan } from "../../sync/plan.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import type { Io } from "../../files/io.js"
import { addSourceOptions, type SourceOptions } from "./op-source.js"

export interface PullOptions extends SourceOptions {
    dryRun?: boolean
    prune?: boolean
    json?: boolean
    age?: string
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
}

/** What a pull did. */
export interface PullResult {
    readonly plan: SyncPlan
    readonly written: boolean
    /** True when the file did not exist before. */
    readonly created: boolean
}

const EXAMPLES = `
Examples:
  secrets op pull secrets/app.yaml --mapping app.op.yaml
  secrets op pull secrets/app.yaml --vault Prod --item db --item api --dry-run
  secrets op pull .env --vault Dev --tags app --prune
`

export function registerOpPull(op: Command, ctx: CommandContext): void {
    const cmd = op
        .command("pull")
        .description("fill or update an encrypted file from 1Password (prints the changed key paths, never values)")
        .argument("<file>", "the encrypted file (created when missing)")
    addSourceOptions(cmd, "pull")
        .addOption(new Option("--dry-run", "print the plan and write nothing"))
        .addOption(new Option("--prune", "also remove keys the source manages but no longer has"))
        .addOption(new Option("--json", "print the plan as JSON"))
        .addOption(o.age())
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, _opts: PullOptions, c: Command) => {
            const opts = o.withEnvDefaults(c.optsWithGlobals<PullOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("op pull", [file], opts, async () => {
                const { io } = o.withIdentityOptions(ctx, opts, file)
                const { opClient, loadSource } = await import("./op-source.js")
                const source = await loadSource(io, opts)
                const result = await pullOnce(io, file, source, await opClient(io), opts)
                await printPull(io, file, result, opts)
            })
        })
}

/**
 * One pull of `source` into `file`, printing nothing: fetch, then plan and (unless
 * `dryRun` or nothing changed) write under the lock. Nothing is written on any error.
 */
export async function pullOnce(
    io: Io,
    file: string,
    source: import("./op-source.js").Source,
    client: OpClient,
    opts: PullOptions & o.GlobalOpts,
): Promise<PullResult> {
    const { formatForPath } = await import("../../stores/index.js")
    const format = opts.inputType ?? formatForPath(file)
    const { wantedFrom } = await import("./op-source.js")
    const { wanted, scopes } = await wantedFrom(client, source, format)
    const { planSync, applyPlan, isEmptyPlan } = await import("../../sync/plan.js")
    const prune = opts.prune === true ? scopes : []

    const { resolve } = await import("node:path")
    const { existsSync } = await import("node:fs")
    const abs = resolve(io.cwd, file)
    if (existsSync(abs)) {
        const { modifyEncryptedFile } = await import("../../files/modify-file.js")
        const { firstDocument, sealAgain, modifyOptions } = await import("./set.js")
        let plan: SyncPlan | undefined
        const written = await modifyEncryptedFile(io, file, modifyOptions(opts), async (opened, store) => {
            const first = firstDocument(opened, file)
            plan = planSync(first, wanted, prune)
            if (opts.dryRun === true || isEmptyPlan(plan)) return undefined
            let next
            try {
                next = applyPlan(first, plan, wanted)
            } catch (e) {
                throw e instanceof SecretsError ? e.about(quote(file)) : e
            }
            return sealAgain([next, ...opened.branches.slice(1)], store, opened, io, file)
        })
        if (plan === undefined) throw new Error("internal: no plan")
        return { plan, written, created: false }
    }

    const plan = planSync(undefined, wanted)
    if (opts.dryRun === true || wanted.length === 0) return { plan, written: false, created: false }
    const { loadStore } = await import("../../stores/index.js")
    const { planFor, recipientsFromFlag } = await import("../../files/encryption-plan.js")
    const { encryptNew } = await import("../../engine/seal.js")
    const { withFileLock } = await import("../../files/file-lock.js")
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    const store = await loadStore(format, opts.indent === undefined ? {} : { indent: opts.indent })
    const encPlan = planFor(io, file, opts.config, {
        recipients: recipientsFromFlag(opts.age),
        ...(opts.macOnlyEncrypted === true ? { macOnlyEncrypted: true } : {}),
    })
    let out: Uint8Array
    try {
        out = await encryptNew([applyPlan(undefined, plan, wanted)], store, encPlan, io.now())
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
    await withFileLock(abs, async () => {
        // Someone may have created it since we looked: never overwrite a file we did not open.
        if (existsSync(abs)) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(file)} appeared while pulling: not overwritten`, ["run the pull again"])
        }
        await writeFileAtomic(abs, out)
    })
    return { plan, written: true, created: true }
}

/** The plan on stdout (lines or JSON), then one status line on stderr. */
export async function printPull(io: Io, file: string, r: PullResult, opts: { dryRun?: boolean; json?: boolean }): Promise<void> {
    const { formatPlan, planToJson, isEmptyPlan } = await import("../../sync/plan.js")
    if (opts.json === true) {
        io.stdout.write(`${JSON.stringify({ file, ...planToJson(r.plan), created: r.created, written: r.written }, null, 2)}\n`)
    } else {
        for (const line of formatPlan(r.plan)) io.stdout.write(`${line}\n`)
    }
    const { info } = await import("../report.js")
    info(io, pullStatus(file, r, opts.dryRun === true, isEmptyPlan(r.plan)))
}

/** The one status line of a pull, e.g. `"app.yaml" updated: 1 added, 2 changed, 0 removed`. */
export function pullStatus(file: string, r: PullResult, dryRun: boolean, empty: boolean): string {
    const counts = `${r.plan.added.length} added, ${r.plan.changed.length} changed, ${r.plan.removed.length} removed`
    if (dryRun) return `dry run: ${quote(file)} not written (${counts})`
    if (empty && !r.written) return r.plan.unchanged === 0 && r.plan.added.length === 0 ? `nothing to pull into ${quote(file)}: the source has no values` : `${quote(file)} is already in step with 1Password: not written`
    return `${quote(file)} ${r.created ? "created" : "updated"}: ${counts}`
}
