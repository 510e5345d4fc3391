/**
 * `secrets git merge-driver %O %A %B %P`: git's merge driver for encrypted files
 * (issue 15 point 3; sops #52: every merge of two sops edits conflicts on `mac`
 * and `lastmodified`).
 *
 * Git hands over three temporary files (ancestor, ours, theirs) and the path the
 * result is for, and reads the result back from %A. So this writes %A and nothing
 * else (transcrypt #83: touching the work tree mid-merge aborts git), atomically,
 * and only for a clean merge: on a conflict or a failure %A stays ours, a valid
 * encrypted file, and git marks the path conflicted. No plaintext is written
 * anywhere and no conflict markers go into the file.
 *
 * Both sides must open and verify their MACs (a tampered side is never merged);
 * the ancestor is only a hint of who changed what and merges as empty when it
 * does not open. The trees are merged by key path and sealed once under ours'
 * data key (theirs' when only theirs rotated since the base), keeping every ENC
 * string that did not change (engine/merge-files.ts).
 *
 * Recipients: the creation rule's. Git runs the driver before it writes the
 * merge into the work tree, so the `.sops.yaml` found there is still ours'; a
 * recipient that theirs added (or removed) with its own `.sops.yaml` change and
 * `updatekeys` would be lost, or a revoked one brought back, by that rule alone.
 * So the recipients are ours' rule with the changes theirs' file made to its
 * recipients since the base applied on top: what the merged `.sops.yaml` says when
 * each side kept its files in step with its rule.
 */
import { dirname, resolve } from "node:path"
import { matchRule, planForRule } from "../config/match.js"
import type { KeyGroup, Metadata } from "../core/metadata.js"
import { chooseKeySide, mergeOpenedFiles, type BaseState, type KeySide, type MergedFile, type OpenedSides } from "../engine/merge-files.js"
import { openDocument, type OpenedFile } from "../engine/open.js"
import { ageRecipients, diffGroups, hasChanges, normalizeGroups, rewrapGroups } from "../engine/rekey.js"
import { SecretsError, quote } from "../errors.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { Format, Store } from "../stores/store.js"
import { warn } from "./diagnostics.js"
import { loadConfig } from "./encryption-plan.js"
import { writeFileAtomic } from "./fs-atomic.js"
import { identityOptionsOf } from "./identity-options.js"
import type { Io } from "./io.js"
import { withIdentities } from "./node-identities.js"
import { NO_IDENTITY_ADVICE, readInput } from "./open-file.js"

export interface MergeDriverFiles {
    /** %O, %A, %B: git's temporary files. */
    readonly base: string
    readonly ours: string
    readonly theirs: string
    /** %P: where the result goes in the repository (its name gives the format and the creation rule). */
    readonly path: string
}

export interface MergeDriverResult {
    /** Key paths changed differently on both sides; %A was left as ours when there are any. */
    readonly conflicts: string[]
    readonly keyFrom: KeySide
}

/** The three versions' bytes; base empty when git has no ancestor. */
export interface SideBytes {
    readonly base: Uint8Array | undefined
    readonly ours: Uint8Array
    readonly theirs: Uint8Array
}

export interface OpenedMerge {
    readonly sides: OpenedSides
    readonly baseState: BaseState
    /** The ancestor's metadata when it parses, even if it cannot be decrypted (recipients are in clear). */
    readonly baseMetadata: Metadata | undefined
}

/** Run the driver: merge, and write %A when the merge is clean. */
export async function runMergeDriver(io: Io, files: MergeDriverFiles, opts: { inputType?: Format } = {}): Promise<MergeDriverResult> {
    const store = await loadStore(opts.inputType ?? formatForPath(files.path))
    const bytes: SideBytes = {
        base: await readInput(io, files.base),
        ours: await readInput(io, files.ours),
        theirs: await readInput(io, files.theirs),
    }
    // Git runs the driver with nobody to answer a prompt (maybe under a GUI): a key
    // that only a passphrase opens is skipped, as diff-text does.
    const opened = await openMergeSides(quietIo(io), files.path, store, bytes)
    const merged = await mergeWithRule(io, files.path, store, opened)
    if (merged.conflicts.length === 0) await writeFileAtomic(resolve(io.cwd, files.ours), merged.output)
    return { conflicts: merged.conflicts, keyFrom: merged.keyFrom }
}

/**
 * Open ours and theirs (MACs verified; an error names the side) and the base
 * when it opens, with one identity lookup for the three.
 */
export async function openMergeSides(io: Io, name: string, store: Store, bytes: SideBytes): Promise<OpenedMerge> {
    const parse = (label: string, b: Uint8Array) => {
        try {
            return store.parseEncrypted(b)
        } catch (e) {
            throw e instanceof SecretsError ? e.about(`${quote(name)} (${label})`) : e
        }
    }
    const ours = parse("ours", bytes.ours)
    const theirs = parse("theirs", bytes.theirs)
    let base: ReturnType<Store["parseEncrypted"]> | undefined
    let baseMetadata: Metadata | undefined
    if (bytes.base !== undefined && bytes.base.length > 0) {
        try {
            base = store.parseEncrypted(bytes.base)
            baseMetadata = metadataFromTree(base.metadata)
        } catch (e) {
            // A still-plaintext ancestor (the file was encrypted since): merged as empty.
            if (!(e instanceof SecretsError)) throw e
        }
    }
    const recipients = [...new Set([ours, theirs].flatMap((d) => metadataFromTree(d.metadata).keyGroups.flatMap((g) => ageRecipients(g))))]
    return withIdentities(io, recipients, NO_IDENTITY_ADVICE, async (ids) => {
        const open = async (label: string, doc: typeof ours): Promise<OpenedFile> => {
            try {
                return await openDocument(doc, store, ids)
            } catch (e) {
                throw e instanceof SecretsError ? e.about(`${quote(name)} (${label})`) : e
            }
        }
        const o = await open("ours", ours)
        const t = await open("theirs", theirs)
        let b: OpenedFile | undefined
        let state: BaseState = bytes.base === undefined || bytes.base.length === 0 ? "absent" : "unreadable"
        if (base !== undefined) {
            try {
                b = await openDocument(base, store, ids)
                state = "opened"
            } catch (e) {
                // An old revision may be encrypted to a retired identity or fail its MAC:
                // it only tells who changed what, so it merges as empty (more conflicts).
                if (!(e instanceof SecretsError)) throw e
            }
        }
        return { sides: { base: b, ours: o, theirs: t }, baseState: state, baseMetadata }
    })
}

/**
 * The merge sealed under the chosen side's data key with the recipients the
 * creation rule gives (see the top of this file), and the warnings a merge owes:
 * an ancestor that did not open, a rotation that cannot be told apart.
 */
export async function mergeWithRule(io: Io, name: string, store: Store, opened: OpenedMerge): Promise<MergedFile> {
    const { sides } = opened
    const keyFrom = chooseKeySide(sides)
    const metadata = await ruleMetadata(io, name, sides, keyFrom, opened.baseMetadata)
    const withRule: OpenedSides = { ...sides, [keyFrom]: { ...sides[keyFrom], metadata } }
    const merged = mergeOpenedFiles(withRule, store, io.now())
    if (opened.baseState === "unreadable") warn(io, `${quote(name)}: the common ancestor could not be opened; it was merged as empty, so every value changed on both sides conflicts`)
    if (merged.rotationUnknown) warn(io, `${quote(name)}: the two sides have different data keys and no common ancestor tells which was rotated; ours' key was kept`)
    return merged
}

/**
 * The chosen side's metadata re-wrapped to the recipients of the creation rule
 * (plus theirs' recipient changes since the base); the chosen side's own when no
 * rule applies, with a warning. Unchanged recipients keep their `enc` blocks.
 */
export async function ruleMetadata(io: Io, name: string, sides: OpenedSides, keyFrom: KeySide, base: Metadata | undefined): Promise<Metadata> {
    const chosen = sides[keyFrom]
    const rule = ruleGroups(io, name, keyFrom)
    if (rule === undefined) return chosen.metadata
    const wanted = mergedRecipientGroups(rule, base?.keyGroups, sides.theirs.metadata.keyGroups)
    if (!hasChanges(diffGroups(chosen.metadata.keyGroups, wanted)) && wanted.length === chosen.metadata.keyGroups.length) return chosen.metadata
    const threshold = Math.min(chosen.metadata.shamirThreshold, wanted.length)
    try {
        return (await rewrapGroups(chosen.metadata, chosen.dataKey, wanted, threshold)).metadata
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(name)) : e
    }
}

/** The age recipients per group of the creation rule for `name`, or undefined (warned) when there is none. */
function ruleGroups(io: Io, name: string, keyFrom: KeySide): string[][] | undefined {
    const keep = `the merged file keeps ${keyFrom}' recipients`
    try {
        const loaded = loadConfig(io, name, identityOptionsOf(io).config)
        if (loaded === undefined) {
            warn(io, `${quote(name)}: no .sops.yaml found; ${keep}`)
            return undefined
        }
        const rule = matchRule(loaded.config, dirname(loaded.path), resolve(io.cwd, name))
        if (rule === undefined) {
            warn(io, `${quote(name)}: ${quote(loaded.path)} has no creation rules; ${keep}`)
            return undefined
        }
        return normalizeGroups(planForRule(rule).groups)
    } catch (e) {
        if (!(e instanceof SecretsError)) throw e
        warn(io, `${quote(name)}: ${e.message}; ${keep}`)
        return undefined
    }
}

/**
 * Per group of the rule: its recipients, minus those theirs' file lost since the
 * base, plus those it gained (appended, in theirs' order). Without a base nothing
 * can be told about theirs' changes and the rule stands. A removal always wins
 * over the rule: a recipient revoked on theirs must not come back through ours'
 * older `.sops.yaml`.
 */
export function mergedRecipientGroups(rule: readonly (readonly string[])[], base: readonly KeyGroup[] | undefined, theirs: readonly KeyGroup[]): string[][] {
    if (base === undefined) return rule.map((g) => [...g])
    return rule.map((group, i) => {
        const before = ageRecipients(base[i] ?? [])
        const after = ageRecipients(theirs[i] ?? [])
        const lost = new Set(before.filter((r) => !after.includes(r)))
        const out = group.filter((r) => !lost.has(r))
        for (const r of after) if (!before.includes(r) && !out.includes(r)) out.push(r)
        return out
    })
}

/**
 * The Io with a stdin that is never a terminal, so that no passphrase is asked
 * for: git may run the driver under a GUI, and a prompt would hang the merge.
 */
function quietIo(io: Io): Io {
    const quiet = Object.create(io) as Io
    Object.defineProperty(quiet, "stdin", { value: { isTTY: false } })
    return quiet
}
