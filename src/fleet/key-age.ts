/**
 * How old a file's data key is. sops has no "created" field for the key, and
 * `lastmodified` moves on every edit, so in a git repository we read the history of
 * the file's age blocks instead: the key was made by the oldest commit of the
 * unbroken run of versions that still share an `enc` block with the current file.
 *
 * Why "share a block" and not "blocks equal": a re-wrap (`updatekeys`, `keys
 * add-host`) keeps the `enc` block of every recipient that stays and only adds or
 * drops others (sops-format.md §8), so the data key is the same; `rotate` wraps a new
 * key for every recipient and no block survives. (A re-wrap that replaces every
 * recipient at once also leaves no block behind and is counted as a new key: the
 * age then errs on the young side for that one file.)
 *
 * When the working copy shares no block with the last commit (rotated and not yet
 * committed), or the file has no history, the key is as old as `lastmodified`.
 */
import { realpath } from "node:fs/promises"
import { relative, sep } from "node:path"
import type { Metadata } from "../core/metadata.js"
import { blobAt, fileCommits, gitTopLevel } from "../integrations/git.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"

/** Where a key date came from. */
export type KeyAgeSource = "git" | "lastmodified"

export interface KeyDate {
    /** When the data key was made, or undefined when nothing says (no history, no valid `lastmodified`). */
    readonly date: Date | undefined
    readonly source: KeyAgeSource
    /** With source `git`: the commit that introduced the key. */
    readonly commit?: string
}

/** The age `enc` blocks of a file's metadata: the data key as wrapped for each recipient. */
export function encBlocks(metadata: Metadata): Set<string> {
    const out = new Set<string>()
    for (const group of metadata.keyGroups) for (const k of group) if (k.type === "age") out.add(k.enc.trim())
    return out
}

/** True when the two sets have a block in common, i.e. the same data key is wrapped in both. */
export function shareBlock(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
    for (const x of a) if (b.has(x)) return true
    return false
}

/** `lastmodified` as a date, or undefined when it is missing or not RFC 3339. */
export function lastModifiedDate(metadata: Metadata): Date | undefined {
    if (metadata.lastModified === "") return undefined
    const d = new Date(metadata.lastModified)
    return Number.isNaN(d.getTime()) ? undefined : d
}

/**
 * Pure core of the walk: `history` is newest first, each version's blocks or
 * undefined when that version could not be read as a sops file. Returns the index
 * of the commit that introduced the current key, or undefined when the working copy
 * does not share a block with the newest commit.
 */
export function introducingIndex(current: ReadonlySet<string>, history: readonly (ReadonlySet<string> | undefined)[]): number | undefined {
    const newest = history[0]
    if (newest === undefined || !shareBlock(current, newest)) return undefined
    let i = 0
    for (;;) {
        const here = history[i]
        const older = history[i + 1]
        if (here === undefined || older === undefined || !shareBlock(here, older)) return i
        i++
    }
}

/**
 * The data-key date of the file at `abs` whose current metadata is `metadata`.
 * Git is asked only when `top` (the work tree, from {@link workTreeOf}) is given.
 */
export async function keyDate(
    abs: string,
    metadata: Metadata,
    env: Readonly<Record<string, string | undefined>>,
    top: string | undefined,
): Promise<KeyDate> {
    const fallback: KeyDate = { date: lastModifiedDate(metadata), source: "lastmodified" }
    if (top === undefined) return fallback
    // git prints the top level with symbolic links resolved: compare like with like.
    const rel = relative(top, await realpath(abs)).split(sep).join("/")
    if (rel.startsWith("../")) return fallback
    const commits = await fileCommits(top, rel, env)
    if (commits.length === 0) return fallback
    const current = encBlocks(metadata)
    const store = await loadStore(formatForPath(abs))
    const history: (Set<string> | undefined)[] = []
    // Read versions lazily: the walk stops at the first one that breaks the chain,
    // so a long history costs one `git show` per commit since the last rotation.
    for (const c of commits) {
        const bytes = await blobAt(top, c.commit, rel, env)
        let blocks: Set<string> | undefined
        if (bytes !== undefined) {
            try {
                blocks = encBlocks(metadataFromTree(store.parseEncrypted(bytes).metadata))
            } catch {
                blocks = undefined
            }
        }
        history.push(blocks)
        const prev = history[history.length - 2]
        if (blocks === undefined || (prev !== undefined ? !shareBlock(prev, blocks) : !shareBlock(current, blocks))) break
    }
    const i = introducingIndex(current, history)
    const found = i === undefined ? undefined : commits[i]
    if (found === undefined) return fallback
    return { date: found.date, source: "git", commit: found.commit }
}

/** The work tree holding `dir`, if any (re-exported so callers need not know about git). */
export function workTreeOf(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
    return gitTopLevel(dir, env)
}
