/**
 * A file's value history from git (issue 15 §4, the engine of `secrets log`): the
 * commits of the first-parent line that changed a value of the file, newest first,
 * each with its author, date and the key paths added, changed and removed. Never a
 * value: only key paths, which the encrypted file shows to anyone anyway.
 *
 * Cost: one `git log` pass lists the commits and blob ids (git-history.ts), one
 * `git cat-file --batch` reads the revisions, one `git log --no-walk` the authors.
 * Decryption is kept to what the ENC strings cannot decide (core/value-changes.ts):
 * the data key is recovered once per distinct set of wrapped keys (a plain edit
 * keeps them byte for byte), and only the values whose ENC strings differ are
 * decrypted, to tell a changed value from one re-encrypted unchanged.
 *
 * Old revisions may be encrypted to an identity since rotated away: `keys rotate`
 * keeps it in the key file as a retired identity (fleet/retired-identities.ts),
 * which identity loading reads like any other, so the caller's identities open
 * them. A revision no identity opens is reported (`unreadable`), with the paths it
 * could not decide, never a crash. MACs are not verified here: nothing is shown
 * but key paths, which a forged revision could fake with or without a MAC.
 */
import { realpathSync } from "node:fs"
import { dirname, relative, resolve, sep } from "node:path"
import { decryptValue } from "../core/cipher.js"
import type { Metadata } from "../core/metadata.js"
import { describePath, parseTreePath } from "../core/tree-path.js"
import { changesUnder, leavesOf, plainKey, undecidedLabels, valueChanges, type Leaf, type Leaves } from "../core/value-changes.js"
import { aadFor } from "../core/walk.js"
import { recoverFileKey } from "../engine/open.js"
import { ExitCode, quote, SecretsError } from "../errors.js"
import { commitAuthors } from "../integrations/git-authors.js"
import { blobReader, firstParentHistory } from "../integrations/git-history.js"
import { gitTopLevel } from "../integrations/git.js"
import { existingAncestor } from "./revision-open.js"
import type { AgeIdentity } from "../keys/age.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"

/** A revision bigger than this is read as no sops file (bounded memory on a stray artefact). */
const MAX_REVISION_BYTES = 64 * 1024 * 1024

export interface ValueHistoryOptions {
    /** The caller's identities, retired ones included (they are in the same key files). */
    readonly identities: readonly AgeIdentity[]
    readonly env: Readonly<Record<string, string | undefined>>
    /** Only changes at or under this key path (index syntax, `["db"]["password"]`). */
    readonly keyPath?: string
}

/** One commit that changed values of the file. */
export interface ValueHistoryEntry {
    readonly commit: string
    /** The author date, as `git log` shows it (the committer date when git cannot say). */
    readonly date: Date
    /** `Name <email>`, empty when git cannot say. */
    readonly author: string
    readonly changes: { readonly added: string[]; readonly changed: string[]; readonly removed: string[] }
    /** Key paths present before and after whose change could not be decided (see `unreadable`). */
    readonly undecided: string[]
    /** Why some of this commit's changes are not known; absent when they all are. */
    readonly unreadable?: "no identity opens this revision or the one before" | "not a sops file"
}

/** What one revision of the file is. */
type Revision =
    | { readonly kind: "deleted" }
    | { readonly kind: "not-sops" }
    | { readonly kind: "sops"; readonly leaves: Leaves; readonly metadata: Metadata; readonly keyId: string }

/**
 * The value history of `file` (a path in a git work tree), newest first. Commits
 * that changed no value (a re-key with `updatekeys`, a reformat) are left out.
 */
export async function valueHistory(file: string, opts: ValueHistoryOptions): Promise<ValueHistoryEntry[]> {
    const abs = realpathOrSelf(resolve(file))
    const top = await gitTopLevel(existingAncestor(dirname(abs)), opts.env)
    if (top === undefined) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} is not in a git work tree: it has no history to list`, ["run this inside the repository that holds the file"])
    }
    const rel = relative(top, abs).split(sep).join("/")
    const filter = opts.keyPath === undefined ? undefined : describePath(parseTreePath(opts.keyPath))
    const history = await firstParentHistory(top, rel, opts.env, (p) => p === rel)
    if (history === undefined) {
        throw new SecretsError(ExitCode.Generic, "this git cannot list the history in one pass (it is older than 2.31)", ["upgrade git to 2.31 or later"])
    }
    // Oldest first, the blob each commit left at the path (undefined: deleted).
    const versions = history.map((c) => ({ commit: c.commit, date: c.date, blob: c.changes.find((ch) => ch.path === rel)?.blob })).reverse()
    if (versions.length === 0) return []
    const reader = blobReader(top, opts.env, MAX_REVISION_BYTES)
    let bytes: Map<string, Uint8Array | undefined>
    try {
        bytes = await reader.read(versions.flatMap((v) => (v.blob === undefined ? [] : [v.blob])))
    } finally {
        await reader.close()
    }
    const store = await loadStore(formatForPath(abs))
    const revisions = versions.map((v): Revision => {
        if (v.blob === undefined) return { kind: "deleted" }
        const got = bytes.get(v.blob)
        if (got === undefined) return { kind: "not-sops" }
        try {
            const doc = store.parseEncrypted(got)
            const metadata = metadataFromTree(doc.metadata)
            return { kind: "sops", leaves: leavesOf(doc.branches), metadata, keyId: wrappedKeyId(metadata) }
        } catch {
            return { kind: "not-sops" }
        }
    })
    const keys = new DataKeys(opts.identities)
    const entries: ValueHistoryEntry[] = []
    let before: Extract<Revision, { kind: "sops" }> | undefined
    for (const [i, v] of versions.entries()) {
        const r = revisions[i]
        if (r === undefined) continue
        let entry: Omit<ValueHistoryEntry, "author" | "date"> & { commit: string }
        if (r.kind === "not-sops") {
            // A plaintext or broken commit: nothing here is a key path we may read as one.
            entry = { commit: v.commit, changes: { added: [], changed: [], removed: [] }, undecided: [], unreadable: "not a sops file" }
        } else if (r.kind === "deleted") {
            entry = { commit: v.commit, changes: { added: [], changed: [], removed: [...(before?.leaves.keys() ?? [])] }, undecided: [] }
            before = undefined
        } else {
            entry = { commit: v.commit, ...(await compare(before, r, keys)) }
            before = r
        }
        const shown = filter === undefined ? entry : { ...entry, ...narrowed(entry, filter) }
        const any = shown.changes.added.length + shown.changes.changed.length + shown.changes.removed.length + shown.undecided.length > 0
        if (any || (shown.unreadable === "not a sops file" && filter === undefined)) entries.push({ ...shown, date: v.date, author: "" })
    }
    const authors = await commitAuthors(top, entries.map((e) => e.commit), opts.env)
    return entries.reverse().map((e) => {
        const a = authors.get(e.commit)
        return a === undefined ? e : { ...e, date: a.date, author: `${a.name} <${a.email}>` }
    })
}

function narrowed(entry: Pick<ValueHistoryEntry, "changes" | "undecided" | "unreadable">, filter: string): Pick<ValueHistoryEntry, "changes" | "undecided" | "unreadable"> {
    const c = changesUnder({ ...entry.changes, undecided: entry.undecided }, filter)
    const out = { changes: { added: c.added, changed: c.changed, removed: c.removed }, undecided: c.undecided }
    return c.undecided.length > 0 && entry.unreadable !== undefined ? { ...out, unreadable: entry.unreadable } : out
}

/** The changes from `prev` (undefined: no file before) to `next`, decrypting only what the ENC strings leave open. */
async function compare(
    prev: Extract<Revision, { kind: "sops" }> | undefined,
    next: Extract<Revision, { kind: "sops" }>,
    keys: DataKeys,
): Promise<Pick<ValueHistoryEntry, "changes" | "undecided" | "unreadable">> {
    if (prev === undefined) return { changes: { added: [...next.leaves.keys()], changed: [], removed: [] }, undecided: [] }
    // The same wrapped keys are the same data key, known without decrypting anything.
    let sameDataKey = prev.keyId === next.keyId
    let prevKey: Uint8Array | undefined
    let nextKey: Uint8Array | undefined
    const open = undecidedLabels(prev.leaves, next.leaves, sameDataKey)
    if (open.length > 0) {
        prevKey = await keys.of(prev)
        nextKey = sameDataKey ? prevKey : await keys.of(next)
        if (!sameDataKey && prevKey !== undefined && nextKey !== undefined) sameDataKey = Buffer.from(prevKey).equals(nextKey)
    }
    const samePlaintext = (label: string): boolean | undefined => {
        const a = plainOf(prev.leaves.get(label), prevKey)
        const b = plainOf(next.leaves.get(label), nextKey)
        return a === undefined || b === undefined ? undefined : a === b
    }
    const c = valueChanges(prev.leaves, next.leaves, { sameDataKey, samePlaintext })
    const out = { changes: { added: c.added, changed: c.changed, removed: c.removed }, undecided: c.undecided }
    return c.undecided.length > 0 ? { ...out, unreadable: "no identity opens this revision or the one before" } : out
}

/** A leaf's plaintext as a comparable text (core plainKey), decrypting it when it is encrypted; undefined when that fails. */
function plainOf(leaf: Leaf | undefined, key: Uint8Array | undefined): string | undefined {
    if (leaf === undefined) return undefined
    if (!leaf.encrypted) return leaf.text
    if (key === undefined) return undefined
    try {
        // The AAD is the mapping keys of the path; list indices are not part of it (core/walk.ts).
        const v = decryptValue(leaf.text, key, aadFor(leaf.path.filter((s): s is string => typeof s === "string")))
        return v.kind === "comment" ? undefined : plainKey(v)
    } catch {
        return undefined
    }
}

/** The data key of each distinct set of wrapped keys, recovered once; undefined when no identity opens it. */
class DataKeys {
    readonly #identities: readonly AgeIdentity[]
    readonly #known = new Map<string, Promise<Uint8Array | undefined>>()

    constructor(identities: readonly AgeIdentity[]) {
        this.#identities = identities
    }

    of(r: { readonly metadata: Metadata; readonly keyId: string }): Promise<Uint8Array | undefined> {
        let k = this.#known.get(r.keyId)
        if (k === undefined) {
            k = recoverFileKey(r.metadata, this.#identities).catch(() => undefined)
            this.#known.set(r.keyId, k)
        }
        return k
    }
}

/**
 * What identifies a data key without decrypting it: the wrapped keys and the
 * threshold. Equal ids are the same data key (the same age files decrypt to the
 * same bytes); different ids may still be the same key (`updatekeys` wraps it
 * anew), which only decryption tells.
 */
function wrappedKeyId(metadata: Metadata): string {
    const groups = metadata.keyGroups.map((g) =>
        g
            .map((k) => (k.type === "age" ? `age ${k.recipient} ${k.enc.trim()}` : `${k.type} ${JSON.stringify(k.fields, plainJson)}`))
            .sort()
            .join("\n"),
    )
    return JSON.stringify([metadata.shamirThreshold, groups])
}

/** JSON for a foreign key's fields, whose integers are bigints and bytes arrays. */
function plainJson(_key: string, v: unknown): unknown {
    if (typeof v === "bigint") return v.toString()
    if (v instanceof Uint8Array) return Buffer.from(v).toString("base64")
    return v
}

function realpathOrSelf(p: string): string {
    try {
        return realpathSync.native(p)
    } catch {
        return p
    }
}
