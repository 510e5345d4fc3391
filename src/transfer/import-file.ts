/**
 * `secrets import` below the CLI: upsert a plaintext mapping into an encrypted
 * file. An existing file goes through modifyEncryptedFile, as `set` does: under the
 * file's lock, re-sealed with its data key and IV stash (unchanged values keep
 * their ciphertext), written atomically, and not at all when nothing changed or on
 * a dry run. A missing file is created with its creation rule, as `encrypt` does.
 */
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { ExitCode, FormatError, SecretsError, quote } from "../errors.js"
import type { Branch } from "../core/tree.js"
import type { PathStep } from "../core/tree-path.js"
import type { OpenedFile } from "../engine/open.js"
import { encryptNew, seal } from "../engine/seal.js"
import type { PlanOverrides } from "../config/match.js"
import { planFor } from "../files/encryption-plan.js"
import { withFileLock } from "../files/file-lock.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import type { Io } from "../files/io.js"
import { modifyEncryptedFile, type ModifyOptions } from "../files/modify-file.js"
import { formatForPath, loadStore } from "../stores/index.js"
import type { Format, Store } from "../stores/store.js"
import { planImport, type ImportSummary } from "./import-plan.js"

export interface ImportIntoOptions {
    readonly at: readonly PathStep[]
    readonly deleteMissing: boolean
    readonly dryRun: boolean
    /** The encrypted file's format when its name does not say it. */
    readonly fileType?: Format
    readonly modify: ModifyOptions
    /** For a new file: the config to take its creation rule from, and --age / rule flags. */
    readonly config?: string
    readonly overrides: PlanOverrides
    /**
     * Run on an existing file with its documents before and after the import, before
     * anything is sealed, also on a dry run and when nothing changes: the CLI's
     * creation-rule checks (warn when the file's encryption rule drifted, refuse a
     * value that drift would leave in clear), as `set` runs them. They live above this
     * layer. Throwing stops the import with nothing written.
     */
    readonly check?: (opened: OpenedFile, store: Store, before: readonly Branch[], after: readonly Branch[]) => void
}

export interface ImportOutcome {
    readonly summary: ImportSummary
    /** The file did not exist and was (or, on a dry run, would be) created. */
    readonly created: boolean
    readonly written: boolean
    /** The recipients of a created file, for the caller's "can you open it" check. */
    readonly plan?: ReturnType<typeof planFor>
}

export async function importInto(io: Io, file: string, imported: Branch, opts: ImportIntoOptions): Promise<ImportOutcome> {
    const format = opts.fileType ?? formatForPath(file)
    if (format === "binary") {
        throw new SecretsError(ExitCode.ConflictingParameters, `${quote(file)} has no yaml, json, env or ini extension`, [
            "import writes a structured file; name it .yaml, .json, .env or .ini, or give --input-type",
        ])
    }
    const planOpts = { at: opts.at, deleteMissing: opts.deleteMissing, dotenv: format === "dotenv" }
    const abs = resolve(io.cwd, file)
    if (!existsSync(abs)) return create(io, file, abs, format, imported, opts, planOpts)

    let summary: ImportSummary | undefined
    const written = await modifyEncryptedFile(io, file, { ...opts.modify, inputType: format }, async (opened, store) => {
        const first = opened.branches[0] ?? { kind: "map", items: [] }
        const result = planImport(first, imported, planOpts)
        summary = result.summary
        const after = result.changed ? [result.doc, ...opened.branches.slice(1)] : opened.branches
        // Before the dry-run exit: a dry run that would be refused must say so, not report success.
        opts.check?.(opened, store, opened.branches, after)
        if (!result.changed || opts.dryRun) return undefined
        return sealed(() => seal(after, store, opened.metadata, opened.dataKey, opened.stash, io.now()), file)
    })
    if (summary === undefined) throw new SecretsError(ExitCode.Generic, `${quote(file)} was not read`)
    return { summary, created: false, written }
}

async function create(
    io: Io,
    file: string,
    abs: string,
    format: Format,
    imported: Branch,
    opts: ImportIntoOptions,
    planOpts: Parameters<typeof planImport>[2],
): Promise<ImportOutcome> {
    const result = planImport({ kind: "map", items: [] }, imported, planOpts)
    const plan = planFor(io, file, opts.config, opts.overrides)
    if (plan.groups.every((g) => g.length === 0)) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} does not exist and no creation rule gives it recipients`, [
            "add a creation rule for it to .sops.yaml, or give recipients with --age",
        ])
    }
    if (opts.dryRun) return { summary: result.summary, created: true, written: false, plan }
    const store = await loadStore(format, opts.modify.indent === undefined ? {} : { indent: opts.modify.indent })
    const out = await sealed(() => encryptNew([result.doc], store, plan, io.now()), file)
    await withFileLock(abs, async () => {
        // Another writer may have created it since the check above: never overwrite its work.
        if (existsSync(abs)) {
            throw new SecretsError(ExitCode.Generic, `${quote(file)} was created by someone else while importing`, ["run the import again: it will update that file"])
        }
        await writeFileAtomic(abs, out)
    })
    return { summary: result.summary, created: true, written: true, plan }
}

/** A store that cannot hold the tree (a nested value in dotenv) is sops' "could not marshal tree", exit 4. */
async function sealed(fn: () => Uint8Array | Promise<Uint8Array>, file: string): Promise<Uint8Array> {
    try {
        return await fn()
    } catch (e) {
        if (e instanceof FormatError) throw new SecretsError(ExitCode.ErrorDumpingTree, e.detail, e.hints).about(quote(file))
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
}
