/**
 * The 3-way merge of encrypted files, for the git merge driver (issue 15 point 3;
 * sops #52: every merge of two sops edits conflicts on `mac` and `lastmodified`,
 * and neither side's MAC is valid for the merged values).
 *
 * Both sides are opened and their MACs verified first, the plaintext trees are
 * merged key by key (core/tree-merge.ts), and the result is sealed once, with a
 * fresh MAC and `lastmodified`, under one side's data key and with that side's IV
 * stash: a value equal to that side's value at its path keeps its exact ENC
 * string, so the merged file differs from that side's only where the other side
 * changed something. The rest is encrypted with fresh IVs.
 *
 * The data key is ours', unless theirs rotated it since the base and ours did
 * not: then theirs'. A rotation replaces a key that may have leaked, and a merge
 * must never bring a replaced key back. When both rotated, ours' key is as new as
 * theirs' and wins. The metadata (recipients, rule) is the chosen side's; the
 * file-service layer re-wraps to the creation rule.
 */
import { mergeDocuments } from "../core/tree-merge.js"
import { SecretsError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import type { Store } from "../stores/store.js"
import { openDocument, type OpenedFile, type OpenOptions } from "./open.js"
import { seal } from "./seal.js"

export interface OpenedSides {
    /** The common ancestor; undefined when there is none or it cannot be read (merged as empty). */
    readonly base: OpenedFile | undefined
    readonly ours: OpenedFile
    readonly theirs: OpenedFile
}

export type KeySide = "ours" | "theirs"

export interface MergedFile {
    /**
     * The merged file, sealed. Where there are conflicts it holds ours' values, so
     * it is a valid file either way; the merge driver writes it only when
     * `conflicts` is empty.
     */
    readonly output: Uint8Array
    /** Key paths changed differently on both sides (`["db"]["password"]`); never values. */
    readonly conflicts: string[]
    /** Whose data key and metadata the output has. */
    readonly keyFrom: KeySide
    /**
     * True when there is no base and the two sides have different data keys: which
     * side rotated cannot be told, and ours' key was kept. The caller should say so.
     */
    readonly rotationUnknown: boolean
}

/** The side whose data key the merge keeps (see the top of this file). */
export function chooseKeySide(sides: OpenedSides): KeySide {
    const { base, ours, theirs } = sides
    if (base === undefined) return "ours"
    const theirsRotated = !sameBytes(theirs.dataKey, base.dataKey)
    const oursRotated = !sameBytes(ours.dataKey, base.dataKey)
    return theirsRotated && !oursRotated ? "theirs" : "ours"
}

/** Merge three opened files and seal the result at `now`. */
export function mergeOpenedFiles(sides: OpenedSides, store: Store, now: Date): MergedFile {
    const keyFrom = chooseKeySide(sides)
    const chosen = keyFrom === "ours" ? sides.ours : sides.theirs
    const merged = mergeDocuments(sides.base?.branches, sides.ours.branches, sides.theirs.branches)
    // The chosen side's stash holds the IVs its values were encrypted with under
    // this very key, per (path, value): re-using one re-creates that ENC string
    // byte for byte and encrypts nothing new under an old IV. The other side's
    // stash is not used: under another key its IVs make no equal strings, and a
    // value the other side changed gets a fresh IV, as any edit's does.
    const output = seal(merged.documents, store, chosen.metadata, chosen.dataKey, chosen.stash, now)
    return {
        output,
        conflicts: merged.conflicts,
        keyFrom,
        rotationUnknown: sides.base === undefined && !sameBytes(sides.ours.dataKey, sides.theirs.dataKey),
    }
}

export interface EncryptedSides {
    /** The ancestor's bytes; undefined or empty when there is none (git passes an empty %O then). */
    readonly base: Uint8Array | undefined
    readonly ours: Uint8Array
    readonly theirs: Uint8Array
}

/** What became of the base: opened, absent (no common ancestor) or unreadable (merged as empty). */
export type BaseState = "opened" | "absent" | "unreadable"

/**
 * Open the three files and merge them. Ours and theirs must open with their MACs
 * verified: their errors propagate (a tampered side is never merged). The base is
 * only a hint of who changed what, and an old revision may be encrypted to an
 * identity since retired, so a base that does not open or verify is merged as
 * empty: more conflicts, never a wrong silent choice.
 */
export async function mergeEncryptedFiles(
    sides: EncryptedSides,
    store: Store,
    identities: readonly AgeIdentity[],
    now: Date,
    opts: Pick<OpenOptions, "decryptionOrder"> = {},
): Promise<MergedFile & { readonly base: BaseState }> {
    const open = (bytes: Uint8Array) => openDocument(store.parseEncrypted(bytes), store, identities, opts)
    const ours = await open(sides.ours)
    const theirs = await open(sides.theirs)
    let base: OpenedFile | undefined
    let state: BaseState = "absent"
    if (sides.base !== undefined && sides.base.length > 0) {
        try {
            base = await open(sides.base)
            state = "opened"
        } catch (e) {
            // Only the file's own faults (no identity, bad MAC, not a sops file); a bug still surfaces.
            if (!(e instanceof SecretsError)) throw e
            state = "unreadable"
        }
    }
    return { ...mergeOpenedFiles({ base, ours, theirs }, store, now), base: state }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false
    // No early exit: the comparison of two secret keys takes the same time wherever they differ.
    let diff = 0
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
    return diff === 0
}
