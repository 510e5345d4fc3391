/**
 * `secrets updatekeys FILE...`: give each file the recipients of its creation rule
 * (sops-format.md §8). The same data key is re-wrapped, so values, `mac` and
 * `lastmodified` stay as they are and recipients that stay keep their `enc` block:
 * the file's diff is only the age blocks that come and go. All files are planned
 * first and shown in one table, then one question (or `-y`) applies them; a file
 * that fails is reported and the others still go through.
 */
import { Command, Option } from "commander"
import type { Metadata } from "../../core/metadata.js"
import type { EncryptedDocument, Format, Store } from "../../stores/store.js"
import type { GroupDiff } from "../../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface UpdatekeysOptions {
    yes?: boolean
    dryRun?: boolean
    inputType?: Format
    shamirSecretSharingThreshold?: number
    decryptionOrder?: string
}

export function registerUpdatekeys(program: Command, ctx: CommandContext): void {
    program
        .command("updatekeys")
        .description("give files the recipients of their creation rule in .sops.yaml (same data key)")
        .argument("<files...>", "the encrypted files")
        .addOption(new Option("-y, --yes", "apply the changes without asking"))
        .addOption(new Option("--dry-run", "print the changes and write nothing"))
        .addOption(o.inputType())
        .addOption(o.shamirThreshold())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .action(async (files: string[], _opts: UpdatekeysOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<UpdatekeysOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("updatekeys", [files], opts, () => runUpdatekeys(o.withIdentityOptions(ctx, opts, files[0]), files, opts))
        })
}

/** What one file would get. */
interface Planned {
    readonly file: string
    readonly groups: string[][]
    readonly threshold: number
    readonly diff: readonly GroupDiff[]
}

export async function runUpdatekeys(ctx: CommandContext, files: readonly string[], opts: UpdatekeysOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { info, reportError, warn } = await import("../report.js")
    const { hasChanges } = await import("../../engine/rekey.js")
    const failures: ExitCode[] = []
    const fail = (file: string, e: unknown) => {
        const shown = e instanceof SecretsError ? e.about(quote(file)) : e
        reportError(io, shown)
        failures.push(e instanceof SecretsError ? e.code : ExitCode.Generic)
    }

    const planned: Planned[] = []
    for (const file of files) {
        try {
            const p = await planFile(io, file, opts)
            if (hasChanges(p.diff)) planned.push(p)
            else info(io, `${quote(file)}: up to date`)
        } catch (e) {
            fail(file, e)
        }
    }

    if (planned.length > 0) {
        io.stdout.write(renderTable(planned))
        if (opts.dryRun === true) {
            info(io, `dry run: ${planned.length} file${planned.length === 1 ? "" : "s"} would change, nothing written`)
        } else if (await confirmed(io, opts.yes === true)) {
            for (const p of planned) {
                try {
                    await applyPlan(io, p, opts)
                    info(io, `${quote(p.file)}: updated`)
                } catch (e) {
                    fail(p.file, e)
                }
            }
        } else if (io.stdin.isTTY === true) {
            info(io, "nothing written")
        } else {
            warn(io, "nothing written")
            throw new SecretsError(ExitCode.Generic, "not applying key changes without confirmation", [
                "pass -y (--yes) to apply them without a terminal, or --dry-run to only print them",
            ])
        }
    }
    if (failures.length > 0) {
        throw new SecretsError(failures[0] ?? ExitCode.Generic, `${failures.length} of ${files.length} file${files.length === 1 ? "" : "s"} could not be updated`)
    }
}

async function confirmed(io: Io, yes: boolean): Promise<boolean> {
    if (yes) return true
    if (io.stdin.isTTY !== true) return false
    const { confirm } = await import("@inquirer/prompts")
    try {
        return await confirm(
            { message: "apply these changes?", default: false },
            { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream },
        )
    } catch {
        // Ctrl-C at the prompt (ExitPromptError) means no.
        return false
    }
}

/** Read `file`, find its creation rule and compute what would change; nothing is decrypted. */
async function planFile(io: Io, file: string, opts: UpdatekeysOptions & o.GlobalOpts): Promise<Planned> {
    const { resolve, dirname } = await import("node:path")
    const { loadConfig } = await import("../../files/encryption-plan.js")
    const { matchRule, planForRule } = await import("../../config/match.js")
    const { normalizeGroups, diffGroups } = await import("../../engine/rekey.js")
    const { warn } = await import("../report.js")

    const { metadata } = await readEncrypted(io, file, opts)
    const loaded = loadConfig(io, file, opts.config)
    if (loaded === undefined) {
        throw new ConfigError("no .sops.yaml found: updatekeys takes the recipients from the file's creation rule", [
            "create .sops.yaml in the file's directory or above, or pass --config",
        ])
    }
    const rule = matchRule(loaded.config, dirname(loaded.path), resolve(io.cwd, file))
    if (rule === undefined) {
        throw new ConfigError(`${quote(loaded.path)} has no creation_rules`, ["add a creation rule whose path_regex matches the file"])
    }
    const plan = planForRule(rule)
    if (plan.unsupported.length > 0) {
        warn(io, `${quote(file)}: the creation rule also names ${plan.unsupported.join(", ")} keys, which secrets cannot add; only age recipients are synced`)
    }
    const groups = normalizeGroups(plan.groups)
    const diff = diffGroups(metadata.keyGroups, groups)
    const foreign = [...new Set(metadata.keyGroups.flat().flatMap((k) => (k.type === "age" ? [] : [k.type])))]
    if (foreign.length > 0 && diff.some((d) => d.added.length > 0 || d.removed.length > 0)) {
        warn(io, `${quote(file)}: its ${foreign.join(", ")} keys are kept as they are in their key group`)
    }
    // sops: the flag replaces the file's threshold, then at most the number of groups.
    const wanted = opts.shamirSecretSharingThreshold ?? metadata.shamirThreshold
    return { file, groups, threshold: Math.min(wanted, groups.length), diff }
}

/** Under the file's lock: check nothing changed since the plan, re-wrap, write. */
async function applyPlan(io: Io, p: Planned, opts: UpdatekeysOptions & o.GlobalOpts): Promise<void> {
    const { resolve } = await import("node:path")
    const { withFileLock } = await import("../../files/file-lock.js")
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    const { diffGroups, rewrapGroups } = await import("../../engine/rekey.js")
    const abs = resolve(io.cwd, p.file)
    await withFileLock(abs, async () => {
        const { store, doc, metadata } = await readEncrypted(io, p.file, opts)
        if (JSON.stringify(diffGroups(metadata.keyGroups, p.groups)) !== JSON.stringify(p.diff)) {
            throw new SecretsError(ExitCode.Generic, "the file's recipients changed while updatekeys was running", ["run updatekeys again"])
        }
        const dataKey = await recoverKey(io, p.file, metadata, opts.decryptionOrder)
        const r = await rewrapGroups(metadata, dataKey, p.groups, p.threshold)
        await writeFileAtomic(abs, await emitWithMetadata(store, doc, r.metadata))
    })
}

/** One table for every file that changes: file | group | added | removed, recipients only. */
export function renderTable(planned: readonly Pick<Planned, "file" | "diff">[]): string {
    const rows: string[][] = [["FILE", "GROUP", "ADDED", "REMOVED"]]
    for (const p of planned) {
        for (const d of p.diff) {
            for (let i = 0; i < Math.max(d.added.length, d.removed.length); i++) {
                rows.push([p.file, String(d.group), d.added[i] ?? "", d.removed[i] ?? ""])
            }
        }
    }
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? "").length)))
    return rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] ?? 0) : cell)).join("  ").trimEnd() + "\n").join("")
}

// ---- shared with `groups` -------------------------------------------------------------

/** An encrypted file parsed as far as its metadata: nothing is decrypted. */
export async function readEncrypted(
    io: Io,
    file: string,
    opts: { inputType?: Format; indent?: number },
): Promise<{ store: Store; doc: EncryptedDocument; metadata: Metadata }> {
    const { loadStore, formatForPath } = await import("../../stores/index.js")
    const { readInput } = await import("../../files/open-file.js")
    const { metadataFromTree } = await import("../../stores/metadata.js")
    const store = await loadStore(opts.inputType ?? formatForPath(file), opts.indent === undefined ? {} : { indent: opts.indent })
    const input = await readInput(io, file)
    const doc = store.parseEncrypted(input)
    return { store, doc, metadata: metadataFromTree(doc.metadata) }
}

/** The file's data key from the identities we can find, with the same hints as decrypt. */
export async function recoverKey(io: Io, file: string, metadata: Metadata, decryptionOrder?: string): Promise<Uint8Array> {
    const { withIdentities } = await import("../../files/node-identities.js")
    const { recoverFileKey } = await import("../../engine/open.js")
    const recipients = metadata.keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
    const order = decryptionOrder?.split(",").map((s) => s.trim())
    const advice = "changing the recipients needs the data key: use an identity that can decrypt the file"
    return withIdentities(io, recipients, advice, (ids) => recoverFileKey(metadata, ids, order))
}

/** The file with new metadata and its encrypted values exactly as they were. */
export async function emitWithMetadata(store: Store, doc: EncryptedDocument, metadata: Metadata): Promise<Uint8Array> {
    const { metadataToTree } = await import("../../stores/metadata.js")
    return store.emitEncrypted({ branches: doc.branches, metadata: metadataToTree(metadata) })
}
