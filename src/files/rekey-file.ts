/**
 * Re-keying one encrypted file to new key groups with the same data key
 * (sops-format.md §8): read it as far as its metadata, recover the data key with
 * the user's identities, re-wrap it for the groups, and write the file back with
 * its encrypted values byte for byte as they were. Values, `mac` and
 * `lastmodified` stay; only the age blocks that come and go change. Shared by
 * `updatekeys` and `groups` (cli/commands) and by the repo-wide re-keying and key
 * rotation (fleet/), which is why it lives below both.
 */
import { dirname, resolve } from "node:path"
import { matchRule, planForRule } from "../config/match.js"
import type { Metadata } from "../core/metadata.js"
import { recoverFileKey } from "../engine/open.js"
import { diffGroups, normalizeGroups, rewrapGroups, type GroupDiff } from "../engine/rekey.js"
import { ConfigError, ExitCode, NoIdentityError, SecretsError, quote } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree, metadataToTree } from "../stores/metadata.js"
import type { EncryptedDocument, Format, Store } from "../stores/store.js"
import { warn } from "./diagnostics.js"
import { loadConfig } from "./encryption-plan.js"
import { withFileLock } from "./file-lock.js"
import { writeFileAtomic } from "./fs-atomic.js"
import type { Io } from "./io.js"
import { withIdentities } from "./node-identities.js"
import { readInput } from "./open-file.js"
import { noteRecipient } from "./audit-collector.js"

/** What re-keying one file to its creation rule would change. */
export interface FileRekeyPlan {
    readonly file: string
    readonly groups: string[][]
    readonly threshold: number
    readonly diff: readonly GroupDiff[]
}

export interface FileRekeyOptions {
    inputType?: Format
    shamirSecretSharingThreshold?: number
    decryptionOrder?: string
    /** `--config`: the .sops.yaml to take the creation rule from. */
    config?: string
    indent?: number
}

/** Read `file`, find its creation rule and compute what would change; nothing is decrypted. */
export async function planFileRekey(io: Io, file: string, opts: FileRekeyOptions): Promise<FileRekeyPlan> {
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
export async function applyFileRekey(io: Io, p: FileRekeyPlan, opts: FileRekeyOptions): Promise<void> {
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
export function renderRekeyTable(planned: readonly Pick<FileRekeyPlan, "file" | "diff">[]): string {
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

/** An encrypted file parsed as far as its metadata: nothing is decrypted. */
export async function readEncrypted(
    io: Io,
    file: string,
    opts: { inputType?: Format; indent?: number },
): Promise<{ store: Store; doc: EncryptedDocument; metadata: Metadata }> {
    const store = await loadStore(opts.inputType ?? formatForPath(file), opts.indent === undefined ? {} : { indent: opts.indent })
    const input = await readInput(io, file)
    const doc = store.parseEncrypted(input)
    return { store, doc, metadata: metadataFromTree(doc.metadata) }
}

/**
 * The identities that opened one file of a run, tried first on the next ones: a
 * fleet re-key opens hundreds of files with the same key, and looking it up again
 * for each (environment, key files, ~/.ssh, the config's 1Password reference) cost
 * more than opening the file. An SSH key's passphrase is then asked for once per
 * run, not once per file. Full lookups are made one at a time, so that files
 * re-keyed side by side never prompt at once.
 */
export class IdentitySession {
    ids: readonly AgeIdentity[] | undefined
    private queue: Promise<unknown> = Promise.resolve()

    /** Run `lookup` after every lookup started before it has finished. */
    serially<T>(lookup: () => Promise<T>): Promise<T> {
        const run = this.queue.then(lookup, lookup)
        this.queue = run.catch(() => undefined)
        return run
    }
}

/**
 * The file's data key from the identities we can find, with the same hints as
 * decrypt. With a session, its identities are tried first; only when none of them
 * opens the file does the full lookup run (with its 1Password fallback and its
 * explanation of where it looked).
 */
export async function recoverKey(io: Io, file: string, metadata: Metadata, decryptionOrder?: string, session?: IdentitySession): Promise<Uint8Array> {
    const recipients = metadata.keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
    const order = decryptionOrder?.split(",").map((s) => s.trim())
    const advice = "changing the recipients needs the data key: use an identity that can decrypt the file"
    const known = session?.ids
    if (known !== undefined) {
        try {
            return await recoverFileKey(metadata, known, order, (r) => noteRecipient(io, r))
        } catch (e) {
            if (!(e instanceof NoIdentityError)) throw e
        }
    }
    const lookup = (): Promise<Uint8Array> =>
        withIdentities(io, recipients, advice, async (ids) => {
            const key = await recoverFileKey(metadata, ids, order, (r) => noteRecipient(io, r))
            if (session !== undefined) session.ids = ids
            return key
        })
    return session === undefined ? lookup() : session.serially(lookup)
}

/** The file with new metadata and its encrypted values exactly as they were. */
export async function emitWithMetadata(store: Store, doc: EncryptedDocument, metadata: Metadata): Promise<Uint8Array> {
    return store.emitEncrypted({ branches: doc.branches, metadata: metadataToTree(metadata) })
}
