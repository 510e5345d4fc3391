/**
 * `secrets git resolve FILE`: finishing a merge that stopped on values changed
 * differently on both sides (issue 15 point 3).
 *
 * The three versions come from git's index (stages 1, 2, 3), not from the work
 * tree, which holds ours (the merge driver left it so) or, without the driver,
 * git's text merge with markers in the encrypted text. They are opened (both
 * sides' MACs verified), merged by key path, and the user edits a plaintext
 * buffer (core/conflict-buffer.ts) in which only the conflicting values are
 * between markers. The resolution is sealed as the driver seals a clean merge:
 * under ours' data key (theirs' when only theirs rotated), unchanged values keep
 * their ENC strings, recipients from the creation rule, a fresh MAC; it is
 * written under the file's lock, atomically. `git add` is the user's.
 *
 * The work tree file is replaced only when it is what the merge left (ours'
 * bytes, or git's text conflict): anything else is work done since, which a
 * resolution must not silently throw away.
 */
import { resolve } from "node:path"
import { readFileSync } from "node:fs"
import { changedRanges, conflictBuffer, type ConflictBuffer, type HunkLabel } from "../core/conflict-buffer.js"
import type { Metadata } from "../core/metadata.js"
import { mergeDocuments } from "../core/tree-merge.js"
import { getAt, parseTreePath, setAt, unsetAt, type PathStep } from "../core/tree-path.js"
import type { Branch } from "../core/tree.js"
import { seal } from "../engine/seal.js"
import { chooseKeySide } from "../engine/merge-files.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { conflictStages } from "../integrations/git-stages.js"
import { formatForPath, loadStore } from "../stores/index.js"
import type { Format, Store } from "../stores/store.js"
import { info, warn } from "./diagnostics.js"
import { withFileLock } from "./file-lock.js"
import { writeFileAtomic } from "./fs-atomic.js"
import type { Io } from "./io.js"
import { openMergeSides, ruleMetadata } from "./merge-driver.js"

/** What the caller's editor round gets, and gives back the documents the user saved. */
export interface ResolveRound {
    readonly buffer: ConflictBuffer
    readonly store: Store
    /** The metadata the resolution is sealed with (for the editor loop's checks). */
    readonly metadata: Metadata
    readonly conflicts: readonly string[]
}

export type ResolveEditor = (round: ResolveRound) => Promise<Branch[]>

export interface ResolveResult {
    /** The conflicts the user resolved; empty when the versions merged cleanly and no editor was needed. */
    readonly conflicts: readonly string[]
}

export async function resolveConflict(io: Io, file: string, edit: ResolveEditor, opts: { inputType?: Format } = {}): Promise<ResolveResult> {
    const answer = await conflictStages(io.cwd, file, io.env)
    const fail = (message: string, hints: string[] = []) => new SecretsError(ExitCode.CouldNotReadInputFile, message, hints)
    if (answer.kind === "no-repository") throw fail(`${quote(file)} is not in a git work tree`)
    if (answer.kind === "no-conflict") throw fail(`${quote(file)} has no merge conflict in git's index: nothing to resolve`)
    if (answer.kind === "several") throw fail(`${quote(file)} names ${answer.paths.length} conflicted files: give one file`)
    const { stages } = answer
    if (stages.ours === undefined || stages.theirs === undefined) {
        const gone = stages.ours === undefined ? "ours" : "theirs"
        throw fail(`${quote(file)} was deleted on one side of the merge (${gone}): there are no two versions of its values to choose between`, [
            `keep the file with: git add ${file}; or delete it with: git rm ${file}`,
        ])
    }
    const abs = resolve(io.cwd, file)
    const store = await loadStore(opts.inputType ?? formatForPath(file))
    return withFileLock(abs, async () => {
        checkUntouched(abs, file, stages.ours!)
        const opened = await openMergeSides(io, file, store, { base: stages.base, ours: stages.ours!, theirs: stages.theirs! })
        const { sides } = opened
        if (opened.baseState === "unreadable") warn(io, `${quote(file)}: the common ancestor could not be opened; it was merged as empty, so every value changed on both sides conflicts`)
        const keyFrom = chooseKeySide(sides)
        const chosen = sides[keyFrom]
        const metadata = await ruleMetadata(io, file, sides, keyFrom, opened.baseMetadata)
        const merged = mergeDocuments(sides.base?.branches, sides.ours.branches, sides.theirs.branches)
        let branches = merged.documents
        if (merged.conflicts.length > 0) {
            const theirsChoice =
                withTheirs(merged.documents, sides.theirs.branches, merged.conflicts) ??
                // A path the index syntax cannot name back (a key with a `"`): theirs' side
                // of the whole merge; the diff is larger but either choice stays valid.
                mergeDocuments(sides.base?.branches, sides.theirs.branches, sides.ours.branches).documents
            const oursText = plainText(store, merged.documents, file)
            const label = hunkLabels(store, merged.documents, sides.theirs.branches, merged.conflicts, oursText, file)
            const buffer = conflictBuffer(oursText, plainText(store, theirsChoice, file), label)
            branches = await edit({ buffer, store, metadata, conflicts: merged.conflicts })
        } else {
            info(io, `${quote(file)}: the two versions merge without a conflict; no editor needed`)
        }
        // The chosen side's stash: every value the user kept as it was keeps its ENC string.
        await writeFileAtomic(abs, seal(branches, store, metadata, chosen.dataKey, chosen.stash, io.now()))
        return { conflicts: merged.conflicts }
    })
}

/**
 * Refuse to overwrite work done since the merge stopped: the file must be ours'
 * version as the index has it (what the driver leaves), git's text conflict (no
 * driver configured), or gone.
 */
function checkUntouched(abs: string, file: string, ours: Uint8Array): void {
    let current: Buffer
    try {
        current = readFileSync(abs)
    } catch {
        return
    }
    if (Buffer.compare(current, Buffer.from(ours)) === 0) return
    if (/^<{7} /m.test(current.toString("latin1"))) return
    throw new SecretsError(ExitCode.Generic, `${quote(file)} has changed since the merge stopped; resolving would replace those changes`, [
        `to start the resolution over: git checkout --merge -- ${file}, then secrets git resolve ${file}`,
    ])
}

/** The merged documents with theirs' value at each conflict; undefined when a path does not parse back. */
function withTheirs(documents: readonly Branch[], theirs: readonly Branch[], conflicts: readonly string[]): Branch[] | undefined {
    const out = [...documents]
    for (const label of conflicts) {
        const m = /^(?:document (\d+) )?(\[.*\])$/s.exec(label)
        if (m === null) return undefined
        const doc = m[1] === undefined ? 0 : Number(m[1]) - 1
        let path: PathStep[]
        try {
            path = parseTreePath(m[2]!)
        } catch {
            return undefined
        }
        const target = out[doc]
        const source = theirs[doc]
        if (target === undefined || source === undefined) return undefined
        const value = getAt(source, path)
        if (value !== undefined) out[doc] = setAt(target, path, value)
        else out[doc] = unsetAt(target, path) ?? target
    }
    return out
}

/** Past this many conflicts the hunks are not named: naming costs one emit and one diff per conflict. */
const MAX_NAMED_CONFLICTS = 50

/**
 * Names for the buffer's hunks: the key paths whose value sits in each. Each
 * conflict is swapped to theirs' value alone and diffed against ours' text; a hunk
 * is named by the conflicts whose changed lines meet it.
 */
function hunkLabels(store: Store, documents: readonly Branch[], theirs: readonly Branch[], conflicts: readonly string[], oursText: string, file: string): HunkLabel | undefined {
    if (conflicts.length > MAX_NAMED_CONFLICTS) return undefined
    const where: { name: string; ranges: [number, number][] }[] = []
    for (const name of conflicts) {
        const one = withTheirs(documents, theirs, [name])
        if (one !== undefined) where.push({ name, ranges: changedRanges(oursText, plainText(store, one, file)) })
    }
    return (start, end) => {
        const names = where.filter((w) => w.ranges.some(([s, e]) => s <= end && start <= e)).map((w) => w.name)
        return names.length === 0 ? undefined : names.join(", ")
    }
}

/** The emitted plaintext as text; a binary file that is not UTF-8 cannot be edited in a text buffer. */
function plainText(store: Store, documents: Branch[], file: string): string {
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(store.emitPlain(documents))
    } catch {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} is not text, so both versions cannot be shown side by side`, [
            `keep one side with: git checkout --ours -- ${file} (or --theirs), then git add ${file}`,
        ])
    }
}
