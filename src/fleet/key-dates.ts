/**
 * The data-key dates of many files at once (issue 14 target 7): `status` on 1,000
 * files asked git once per file and once more per version read (over 2,700 git
 * processes, 30 s on the bench machine). Here one `git log` pass lists every
 * version of every file (src/integrations/git-history.ts) and one `git cat-file
 * --batch` hands out the blobs, read round by round: round k reads the k-th
 * newest version of each file whose chain is still unbroken, so no more versions
 * are read than key-age.ts's lazy walk reads file by file.
 *
 * The answers are key-age.ts's `keyDate`, file by file: the same commits (git.ts
 * fileCommits: first-parent line, a change against the first parent, no rename
 * chase), the same versions (a path that was a directory or a submodule at a
 * commit reads as no sops file there, as `git show` of it does) and the same walk
 * (the loop below is keyDate's). test/unit/fleet-status/key-dates-differential.test.ts
 * holds the two side by side on repositories with renames, merges, re-keys,
 * uncommitted files and a shallow clone. Where this git cannot list the history in
 * one pass (older than 2.31), it falls back to keyDate file by file.
 */
import { createHash } from "node:crypto"
import { realpathSync } from "node:fs"
import { relative, sep } from "node:path"
import type { Metadata } from "../core/metadata.js"
import { blobReader, firstParentHistory, type BlobReader, type HistoryCommit } from "../integrations/git-history.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { Format } from "../stores/store.js"
import { encBlocks, introducingIndex, keyDate, lastModifiedDate, shareBlock, type KeyDate } from "./key-age.js"

/** A file whose key date is asked: where it is and its current metadata. */
export interface KeyDateFile {
    readonly abs: string
    readonly metadata: Metadata
    /** SHA-256 (hex) of the bytes `metadata` came from: a version with these bytes is not parsed again. */
    readonly digest?: string
}

/** A historical version bigger than this is no sops file (the inventory's bound for files on disk). */
const MAX_VERSION_BYTES = 16 * 1024 * 1024
/** A submodule at the path: git show of it is no file either. */
const GITLINK_MODE = "160000"

/** One version of a file: the commit (an index into the history) and its blob, undefined when it is no file there. */
interface Version {
    readonly commit: number
    readonly blob: string | undefined
}

interface Walk {
    readonly file: KeyDateFile
    readonly format: Format
    readonly current: ReadonlySet<string>
    readonly versions: Version[]
    readonly history: (ReadonlySet<string> | undefined)[]
    done: boolean
}

/**
 * Each file's key date, by `abs`. Git is asked only when `top` (the work tree) is
 * given. `onProgress` hears how many files are settled, as rounds finish.
 */
export async function keyDates(
    files: readonly KeyDateFile[],
    env: Readonly<Record<string, string | undefined>>,
    top: string | undefined,
    onProgress?: (done: number, total: number) => void,
): Promise<Map<string, KeyDate>> {
    const out = new Map<string, KeyDate>()
    const fallback = (f: KeyDateFile): KeyDate => ({ date: lastModifiedDate(f.metadata), source: "lastmodified" })
    if (top === undefined) {
        for (const f of files) out.set(f.abs, fallback(f))
        return out
    }
    // git prints the top level with symbolic links resolved: compare like with like.
    const byRel = new Map<string, KeyDateFile[]>()
    for (const f of files) {
        const rel = relative(top, realpathSync.native(f.abs)).split(sep).join("/")
        if (rel.startsWith("../")) out.set(f.abs, fallback(f))
        else byRel.set(rel, [...(byRel.get(rel) ?? []), f])
    }
    if (byRel.size === 0) return out
    const history = await firstParentHistory(top, commonDirectory([...byRel.keys()]), env, (path) => owner(byRel, path) !== undefined)
    if (history === undefined) {
        for (const [i, f] of files.entries()) {
            onProgress?.(i, files.length)
            if (!out.has(f.abs)) out.set(f.abs, await keyDate(f.abs, f.metadata, env, top))
        }
        return out
    }
    const versions = versionsByPath(history, byRel)
    const walks: Walk[] = []
    for (const [rel, fs] of byRel) {
        const vs = versions.get(rel) ?? []
        for (const f of fs) {
            if (vs.length === 0) out.set(f.abs, fallback(f))
            else walks.push({ file: f, format: formatForPath(f.abs), current: encBlocks(f.metadata), versions: vs, history: [], done: false })
        }
    }
    if (walks.length > 0) {
        const reader = blobReader(top, env, MAX_VERSION_BYTES)
        try {
            await walkAll(walks, reader, (done) => onProgress?.(files.length - walks.length + done, files.length))
        } finally {
            await reader.close()
        }
    }
    for (const w of walks) {
        const i = introducingIndex(w.current, w.history)
        const v = i === undefined ? undefined : w.versions[i]
        const c = v === undefined ? undefined : history[v.commit]
        out.set(w.file.abs, c === undefined ? fallback(w.file) : { date: c.date, source: "git", commit: c.commit })
    }
    return out
}

/**
 * keyDate's walk for every file at once: each round reads the next older version
 * of every file still walking, and a file stops at the first version that shares
 * no block with the one before it (the working copy, for the newest).
 */
async function walkAll(walks: Walk[], reader: BlobReader, onRound: (done: number) => void): Promise<void> {
    const blocksCache = new Map<string, ReadonlySet<string> | undefined>()
    const stores = new Map<Format, Awaited<ReturnType<typeof loadStore>>>()
    for (;;) {
        const open = walks.filter((w) => !w.done)
        onRound(walks.length - open.length)
        if (open.length === 0) return
        const wanted = open.flatMap((w) => {
            const blob = w.versions[w.history.length]?.blob
            return blob !== undefined && !blocksCache.has(`${w.format}:${blob}`) ? [blob] : []
        })
        const bytes = await reader.read(wanted)
        for (const w of open) {
            const v = w.versions[w.history.length]
            if (v === undefined) {
                w.done = true
                continue
            }
            let blocks: ReadonlySet<string> | undefined
            if (v.blob !== undefined) {
                const key = `${w.format}:${v.blob}`
                const got = bytes.get(v.blob)
                if (got !== undefined && w.file.digest !== undefined && sha256(got) === w.file.digest) {
                    // The bytes the working copy's metadata came from (usually the
                    // newest version): their blocks are known, a parse would repeat them.
                    blocks = w.current
                } else {
                    if (!blocksCache.has(key)) {
                        let store = stores.get(w.format)
                        if (store === undefined) stores.set(w.format, (store = await loadStore(w.format)))
                        blocksCache.set(key, blocksOf(store, got))
                    }
                    blocks = blocksCache.get(key)
                }
            }
            w.history.push(blocks)
            const prev = w.history[w.history.length - 2]
            if (blocks === undefined || (prev !== undefined ? !shareBlock(prev, blocks) : !shareBlock(w.current, blocks))) w.done = true
        }
    }
}

function sha256(bytes: Uint8Array): string {
    return createHash("sha256").update(bytes).digest("hex")
}

/** A version's `enc` blocks, undefined when it is not readable as a sops file (as keyDate reads it). */
function blocksOf(store: Awaited<ReturnType<typeof loadStore>>, bytes: Uint8Array | undefined): ReadonlySet<string> | undefined {
    if (bytes === undefined) return undefined
    try {
        return encBlocks(metadataFromTree(store.parseEncrypted(bytes).metadata))
    } catch {
        return undefined
    }
}

/**
 * Per wanted path, its versions newest first. A commit that changed the path
 * itself gives its blob; one that changed only paths under it (the path was a
 * directory then, or a submodule) gives "no file", as `git log -- PATH` lists it
 * and `git show COMMIT:PATH` shows no file.
 */
function versionsByPath(history: readonly HistoryCommit[], byRel: ReadonlyMap<string, unknown>): Map<string, Version[]> {
    const out = new Map<string, Version[]>()
    for (const [commit, c] of history.entries()) {
        const here = new Map<string, string | undefined>()
        for (const ch of c.changes) {
            const rel = owner(byRel, ch.path)
            if (rel === undefined) continue
            if (rel === ch.path) here.set(rel, ch.mode === GITLINK_MODE ? undefined : ch.blob)
            else if (!here.has(rel)) here.set(rel, undefined)
        }
        for (const [rel, blob] of here) {
            let vs = out.get(rel)
            if (vs === undefined) out.set(rel, (vs = []))
            vs.push({ commit, blob })
        }
    }
    return out
}

/** The wanted path that `path` is, or lies under; undefined when none. */
function owner(wanted: ReadonlyMap<string, unknown>, path: string): string | undefined {
    if (wanted.has(path)) return path
    for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) {
        const dir = path.slice(0, slash)
        if (wanted.has(dir)) return dir
    }
    return undefined
}

/** The deepest directory holding every path (undefined: the top), to keep the log to it. */
function commonDirectory(paths: readonly string[]): string | undefined {
    let common: string[] | undefined
    for (const p of paths) {
        const dirs = p.split("/").slice(0, -1)
        if (common === undefined) common = dirs
        else {
            let n = 0
            while (n < common.length && n < dirs.length && common[n] === dirs[n]) n++
            common = common.slice(0, n)
        }
        if (common.length === 0) return undefined
    }
    return common === undefined || common.length === 0 ? undefined : common.join("/")
}
