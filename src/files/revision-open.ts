/**
 * A file as it was at a git revision, opened (issue 15 §4: `secrets show --rev`,
 * `secrets restore --rev`). The revision is read from git's object store into
 * memory and decrypted there: plaintext never touches the disk.
 *
 * Old revisions may be encrypted to an identity since rotated away: `keys rotate`
 * keeps it in the key file as a retired identity (fleet/retired-identities.ts),
 * which identity loading reads like any other, so openInput opens them with no
 * extra step. The MAC of the revision is verified as for a current file: a forged
 * commit must not put a value back into the working file unnoticed.
 */
import { existsSync, realpathSync } from "node:fs"
import { dirname, relative, resolve, sep } from "node:path"
import type { OpenedFile } from "../engine/open.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { blobAt, resolveRevision, type ResolvedRevision } from "../integrations/git-revision.js"
import { gitTopLevel } from "../integrations/git.js"
import type { Store } from "../stores/store.js"
import type { Io } from "./io.js"
import { openInput } from "./open-file.js"

/** The hint for a file name or revision that names nothing. */
export const LOG_HINT = (file: string) => `secrets log ${file} lists the commits that changed it`

/** One file at one revision. */
export interface FileRevision extends ResolvedRevision {
    /** The path from the top of the work tree, `/`-separated. */
    readonly path: string
    readonly bytes: Uint8Array
}

/**
 * The bytes of `file` (a path as the user gave it, relative to io.cwd) at `rev`.
 * The file need not exist any more: a deleted file's old revisions are still in git.
 */
export async function readRevision(io: Io, file: string, rev: string): Promise<FileRevision> {
    const abs = resolve(io.cwd, file)
    const real = realOrSelf(abs)
    const top = await gitTopLevel(existingAncestor(dirname(real)), io.env)
    if (top === undefined) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} is not in a git work tree: it has no revisions`, ["run this inside the repository that holds the file"])
    }
    const path = relative(realOrSelf(top), real).split(sep).join("/")
    if (path === "" || path.startsWith("../")) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} is not a file of the work tree at ${quote(top)}`)
    }
    const resolved = await resolveRevision(top, rev, io.env)
    if (resolved === undefined) {
        // The revision text is the user's own, never a secret: it is named as given.
        throw new SecretsError(ExitCode.Generic, `unknown revision ${quote(rev)}: git knows no such commit in ${quote(top)}`, [
            "name a commit: a hash, HEAD~2, a branch or a tag; " + LOG_HINT(file),
        ])
    }
    const bytes = await blobAt(top, resolved.commit, path, io.env)
    if (bytes === undefined) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} did not exist at ${rev} (${resolved.short})`, [LOG_HINT(file)])
    }
    return { ...resolved, path, bytes }
}

/**
 * The nearest directory at or above `dir` that exists: git must run somewhere, and
 * `git rm` of a directory's last file removes the directory, while the file's old
 * revisions are still there to read.
 */
export function existingAncestor(dir: string): string {
    let d = dir
    while (!existsSync(d)) {
        const up = dirname(d)
        if (up === d) break
        d = up
    }
    return d
}

/** The name a revision is shown by in messages: `secrets.yaml@1a2b3c4`. */
export function revisionName(file: string, r: Pick<ResolvedRevision, "short">): string {
    return `${file}@${r.short}`
}

/** Open a revision read by {@link readRevision}: decrypt it and verify its MAC (unless `ignoreMac`). */
export async function openRevision(io: Io, file: string, r: FileRevision, store: Store, opts: { readonly ignoreMac?: boolean }): Promise<OpenedFile> {
    return openInput(io, revisionName(file, r), r.bytes, store, { ignoreMac: opts.ignoreMac === true })
}

/** A commit date as the history commands print it: ISO 8601 in UTC, to the second. */
export function isoDate(d: Date): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z")
}

function realOrSelf(p: string): string {
    try {
        return realpathSync.native(p)
    } catch {
        // A deleted file: its directory may still resolve.
        try {
            return resolve(realpathSync.native(dirname(p)), p.slice(dirname(p).length + 1))
        } catch {
            return p
        }
    }
}
