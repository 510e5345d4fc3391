/**
 * What a revoked key could read (issue 15 §5, `keys revoke`): the key paths of the
 * encrypted values of a file, now and in git history. Rotating every file the key
 * opens today protects new values only: each old revision that listed the key is
 * still in the repository, and in every clone, wrapped for it. Whoever holds the
 * key can open those revisions and read the values they held, including those of
 * files since deleted, re-keyed away from it or moved. Those values need changing
 * at their source too.
 *
 * Nothing is decrypted: age recipients are in clear in a file's sops metadata, and
 * a value's key path is too. Cost: one `git log` pass over the first-parent line
 * and one `git cat-file --batch` for the distinct blobs (integrations/
 * git-history.ts), read in batches so a long history is never held at once; a
 * blob that does not contain the recipient's text is not parsed.
 *
 * Bounds: the first-parent line of HEAD (a merged branch's result is seen at its
 * merge, a side commit replaced before the merge is not; other branches are not
 * read), paths with a text format's extension (yaml, json, env, ini) or the path of
 * an encrypted file found now (binary files), blobs up to 16 MiB.
 */
import { realpathSync } from "node:fs"
import { relative, resolve, sep } from "node:path"
import type { Branch, Node } from "../core/tree.js"
import { describePath, type PathStep } from "../core/tree-path.js"
import type { Io } from "../files/io.js"
import { blobReader, firstParentHistory } from "../integrations/git-history.js"
import { gitTopLevel } from "../integrations/git.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"

/** As rekey-repo's bound for a file found now. */
const MAX_REVISION_BYTES = 16 * 1024 * 1024
/** Blobs read per cat-file round: bounded memory on a long history. */
const BATCH = 256

/**
 * The key paths of the encrypted values of a file, read from its ENC strings: what
 * anyone holding its data key could read. Nothing is decrypted.
 */
export function encryptedPaths(branches: readonly Branch[]): string[] {
    const perDoc = branches.map((b) => {
        const found: string[] = []
        const visitNode = (node: Node, path: PathStep[]): void => {
            if (node.kind === "map") {
                for (const item of node.items) if (item.kind === "entry") visitNode(item.value, [...path, item.key])
            } else if (node.kind === "list") {
                let i = 0
                for (const item of node.items) if (item.kind !== "comment") visitNode(item, [...path, i++])
            } else if (node.kind === "str" && node.value.startsWith("ENC[")) {
                found.push(describePath(path))
            }
        }
        visitNode(b, [])
        return found
    })
    if (perDoc.length <= 1) return perDoc[0] ?? []
    return perDoc.flatMap((paths, d) => paths.map((p) => `document ${d + 1}: ${p}`))
}

/** A file some committed revision of which the key could open. */
export interface HistoryExposed {
    /** As shown to the user: relative to the working directory. */
    readonly file: string
    /** Key paths of encrypted values in those revisions, not counting what the caller listed already. */
    readonly paths: string[]
    /** The file in the newest commit that touched it. */
    readonly now: "deleted" | "no longer encrypted to it" | "still encrypted to it"
}

export type HistoryExposure = { readonly kind: "read"; readonly files: HistoryExposed[] } | { readonly kind: "skipped"; readonly why: string }

/**
 * The files under `dir` whose committed revisions listed `recipient` (an age
 * recipient), with the key paths those revisions held. `currentFiles` are the
 * encrypted files found now (absolute paths); `already` maps a file (absolute
 * path) to the paths reported for it elsewhere (the current exposure): they are
 * left out, and so is a file with nothing left.
 */
export async function historyExposure(
    io: Io,
    dir: string,
    recipient: string,
    currentFiles: readonly string[],
    already: ReadonlyMap<string, readonly string[]>,
): Promise<HistoryExposure> {
    const found = await gitTopLevel(dir, io.env)
    if (found === undefined) return { kind: "skipped", why: "the repository is not a git work tree (or git is missing)" }
    // git names the top by its real path: every path compared with it must be real too (a symlinked checkout).
    const top = real(found)
    const inRepo = (abs: string) => relative(top, real(abs)).split(sep).join("/")
    const under = inRepo(dir)
    if (under.startsWith("../")) return { kind: "skipped", why: `${dir} is outside the work tree at ${top}` }
    const current = new Set(currentFiles.map(inRepo))
    const listed = new Map([...already].map(([abs, paths]) => [inRepo(abs), paths]))
    const cwd = real(io.cwd)
    const keep = (p: string) => formatForPath(p) !== "binary" || current.has(p)
    const history = await firstParentHistory(top, under === "" ? undefined : under, io.env, keep)
    if (history === undefined) return { kind: "skipped", why: "this git cannot list the history in one pass (it is older than 2.31)" }

    // Newest first: the first change seen of a path is its state now.
    const newest = new Map<string, string | undefined>()
    const blobsOf = new Map<string, Set<string>>()
    for (const c of history) {
        for (const ch of c.changes) {
            if (!newest.has(ch.path)) newest.set(ch.path, ch.blob)
            if (ch.blob === undefined) continue
            let s = blobsOf.get(ch.path)
            if (s === undefined) blobsOf.set(ch.path, (s = new Set()))
            s.add(ch.blob)
        }
    }
    const ids = [...new Set([...blobsOf.values()].flatMap((s) => [...s]))]
    const needle = Buffer.from(recipient.trim(), "utf8")
    /** Per blob: the paths the key could read there (undefined: it could not open that blob). */
    const readable = new Map<string, readonly string[] | undefined>()
    const formatOf = new Map<string, string>()
    for (const [path, s] of blobsOf) for (const b of s) if (!formatOf.has(b)) formatOf.set(b, path)
    const reader = blobReader(top, io.env, MAX_REVISION_BYTES)
    try {
        for (let i = 0; i < ids.length; i += BATCH) {
            const got = await reader.read(ids.slice(i, i + BATCH))
            for (const [id, bytes] of got) readable.set(id, bytes === undefined ? undefined : await pathsReadableBy(bytes, formatOf.get(id) ?? "", recipient.trim(), needle))
        }
    } finally {
        await reader.close()
    }

    const files: HistoryExposed[] = []
    for (const [path, blobs] of [...blobsOf].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const shown = relative(cwd, resolve(top, path)) || path
        const before = new Set(listed.get(path) ?? [])
        const paths = new Set<string>()
        let any = false
        for (const b of blobs) {
            const r = readable.get(b)
            if (r === undefined) continue
            any = true
            for (const p of r) if (!before.has(p)) paths.add(p)
        }
        if (!any || paths.size === 0) continue
        const last = newest.get(path)
        const now = last === undefined ? "deleted" : readable.get(last) !== undefined ? "still encrypted to it" : "no longer encrypted to it"
        files.push({ file: shown, paths: [...paths], now })
    }
    return { kind: "read", files }
}

/** The encrypted key paths of a revision that lists `recipient`; undefined when it is no sops file or does not list it. */
async function pathsReadableBy(bytes: Uint8Array, path: string, recipient: string, needle: Buffer): Promise<readonly string[] | undefined> {
    // Age recipients are in clear: a blob without the text cannot list it, and most blobs are no sops file.
    if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(needle)) return undefined
    try {
        const store = await loadStore(formatForPath(path))
        const doc = store.parseEncrypted(bytes)
        const lists = metadataFromTree(doc.metadata).keyGroups.some((g) => g.some((k) => k.type === "age" && k.recipient.trim() === recipient))
        return lists ? encryptedPaths(doc.branches) : undefined
    } catch {
        return undefined
    }
}

/** The real path of `p`, or `p` resolved when it does not exist (a deleted file: its directory may still resolve). */
function real(p: string): string {
    const abs = resolve(p)
    try {
        return realpathSync.native(abs)
    } catch {
        const parent = resolve(abs, "..")
        return parent === abs ? abs : resolve(real(parent), relative(parent, abs))
    }
}
