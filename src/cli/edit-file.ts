/**
 * The two halves of `secrets edit` around the editor round (edit-loop.ts): opening
 * an existing file and sealing it again under its own data key, or starting a new
 * file from the format's example with a fresh data key (sops-format.md §10.2).
 */
import { resolve } from "node:path"
import { lstat } from "node:fs/promises"
import type { PlanOverrides } from "../config/match.js"
import { newDataKey, splitForGroups } from "../core/datakey.js"
import { formatLastModified } from "../core/mac.js"
import { SOPS_VERSION, type Metadata } from "../core/metadata.js"
import { ruleForNewFile } from "../engine/rules.js"
import { seal, wrapGroups } from "../engine/seal.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { exampleBranches } from "../stores/examples.js"
import { formatForPath, loadStore } from "../stores/index.js"
import type { Format, Store } from "../stores/store.js"
import type { OpenedFile } from "../engine/open.js"
import { editUntilValid, type EditContent } from "./edit-loop.js"
import { planFor } from "../files/encryption-plan.js"
import { withFileLock } from "../files/file-lock.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import type { Io } from "../files/io.js"
import { modifyEncryptedFile } from "../files/modify-file.js"
import { needsVersionBump } from "./sops-version.js"

export interface EditFileOptions {
    readonly showMasterKeys: boolean
    readonly inputType?: Format
    readonly indent?: number
    /** For editors in tests; default: $SOPS_EDITOR, $EDITOR, $VISUAL, vim, nano, vi. */
    readonly runEditor?: (path: string) => Promise<void>
    /** `--pass-identity-env`: the editor keeps SOPS_AGE_KEY and the like. */
    readonly passIdentityEnv?: boolean
}

export interface EditExistingOptions extends EditFileOptions {
    readonly ignoreMac?: boolean
    readonly decryptionOrder?: string
    /** Called once the file is open; what it returns checks the saved content (creation-rule checks). */
    readonly beforeEdit?: (opened: OpenedFile, store: Store) => ((edited: EditContent) => void) | undefined
}

export interface EditNewOptions extends EditFileOptions {
    /** `--config` / SOPS_CONFIG. */
    readonly config?: string
    readonly plan: PlanOverrides
}

/**
 * Edit an existing encrypted file under its lock. Only a changed, valid result is
 * written (atomically); every failure leaves the file as it was.
 */
export async function editExisting(io: Io, file: string, opts: EditExistingOptions): Promise<void> {
    await modifyEncryptedFile(
        io,
        file,
        {
            ...(opts.inputType !== undefined ? { inputType: opts.inputType } : {}),
            ...(opts.ignoreMac === true ? { ignoreMac: true } : {}),
            ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
            ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
        },
        async (opened, store) => {
            // Without -s the metadata cannot change in the editor: fail before the
            // user spends time editing a file that cannot be written (202).
            if (!opts.showMasterKeys) bumpVersion({ branches: [], metadata: opened.metadata }, file)
            const check = opts.beforeEdit?.(opened, store)
            const loop = { ...loopOptions(file, store, opts), ...(check !== undefined ? { check } : {}) }
            const edited = await editUntilValid(io, { branches: opened.branches, metadata: opened.metadata }, loop)
            // The stash gives every value that is still the same at the same path its
            // old IV, hence its old ciphertext (sops' cipher stash on edit).
            return seal(edited.branches, store, bumpVersion(edited, file), opened.dataKey, opened.stash, io.now())
        },
    )
}

/**
 * Create `file` from the example document of its format: recipients from `--age`
 * or the creation rule, checked before the editor opens, and a new data key.
 * Nothing is created when the user saves the example unchanged (exit 200).
 */
export async function editNew(io: Io, file: string, opts: EditNewOptions): Promise<void> {
    const store = await loadStore(opts.inputType ?? formatForPath(file), opts.indent === undefined ? {} : { indent: opts.indent })
    const plan = planFor(io, file, opts.config, opts.plan)
    if (plan.groups.length === 0 || plan.groups.every((g) => g.length === 0)) {
        throw new SecretsError(ExitCode.Generic, `no recipients to encrypt ${quote(file)} to`, [
            "pass --age RECIPIENT, set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml",
        ])
    }
    const dataKey = newDataKey()
    const threshold = plan.groups.length > 1 ? plan.shamirThreshold || plan.groups.length : 0
    const metadata: Metadata = {
        keyGroups: await wrapGroups(plan.groups, await splitForGroups(dataKey, plan.groups.length, threshold)),
        shamirThreshold: threshold,
        // With -s the user sees (and we parse back) this block, so it must be valid.
        lastModified: formatLastModified(io.now()),
        mac: "",
        rule: ruleForNewFile(plan.rule, store.format === "binary"),
        macOnlyEncrypted: plan.macOnlyEncrypted,
        version: SOPS_VERSION,
    }
    // As sops' editExample: the example is emitted and parsed again, so the editor
    // sees exactly what the store reads back (an INI comment loses a space, say).
    const branches = store.parsePlain(store.emitPlain(exampleBranches(store.format)))
    const edited = await editUntilValid(io, { branches, metadata }, loopOptions(file, store, opts))
    const out = seal(edited.branches, store, bumpVersion(edited, file), dataKey, undefined, io.now())
    const abs = resolve(io.cwd, file)
    await withFileLock(abs, async () => {
        // Someone may have created the file while the editor was open: do not clobber it.
        if (await exists(abs)) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(file)} was created by someone else while the editor was open; nothing written`, [
                "edit that file instead, and copy your changes into it",
            ])
        }
        await writeFileAtomic(abs, out)
    })
}

function loopOptions(file: string, store: Awaited<ReturnType<typeof loadStore>>, opts: EditFileOptions) {
    return {
        name: file,
        store,
        showMasterKeys: opts.showMasterKeys,
        passIdentityEnv: opts.passIdentityEnv === true,
        ...(opts.runEditor !== undefined ? { runEditor: opts.runEditor } : {}),
    }
}

/** The metadata to seal with: stamped with our version when the file's is older (202 when unparsable). */
function bumpVersion(edited: EditContent, file: string): Metadata {
    try {
        return needsVersionBump(edited.metadata.version) ? { ...edited.metadata, version: SOPS_VERSION } : edited.metadata
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
}

async function exists(path: string): Promise<boolean> {
    try {
        await lstat(path)
        return true
    } catch {
        return false
    }
}
