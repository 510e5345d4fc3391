/**
 * Writing an output file so that it is either the old file or the complete new
 * one, never a torn mixture, and never a plaintext readable by others even for a
 * moment (style.md §5 "output files"; sops main.go computes everything before it
 * opens the output, but then truncates in place, which loses the file on a crash).
 *
 * The protocol: a temp file in the target's own directory (rename is only atomic
 * within one file system), created with O_EXCL and mode 0600, written, fsynced,
 * given the final mode and the old file's owner and group, renamed over the
 * target, and the directory fsynced so that the rename itself survives a power cut.
 */
import { randomBytes } from "node:crypto"
import { constants } from "node:fs"
import { lstat, open, rename, unlink, type FileHandle } from "node:fs/promises"
import { basename, dirname, join } from "node:path"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { disown, own, ownBeforeCreating } from "./lock-cleanup.js"

/** Options for {@link writeFileAtomic}. */
export interface WriteAtomicOptions {
    /**
     * Mode for a file that does not exist yet. An existing file keeps its own mode.
     * Defaults to 0600: the caller raises it for ciphertext if it wants to.
     */
    readonly mode?: number
    /**
     * The data is plaintext (or an identity): an existing file keeps at most its
     * owner's bits (`mode & 0600`). `decrypt --output app.yaml` onto a 0644 file
     * would otherwise publish the secrets to every local user (issue 10 §6).
     */
    readonly private?: boolean
}

/**
 * Replace `path` with `data` atomically. Refuses a symbolic link or anything that
 * is not a regular file. On any failure the temp file is removed and the target
 * is untouched; the error is a SecretsError with exit code 3
 * (CouldNotWriteOutputFile) naming the path and the system error code.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[], opts: WriteAtomicOptions = {}): Promise<void> {
    const target = await targetStat(path, opts.mode ?? 0o600)
    const mode = opts.private === true ? target.mode & 0o600 : target.mode
    const dir = dirname(path)
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)
    let fh: FileHandle | undefined
    let created = false
    try {
        // O_EXCL: never reuse a file someone planted under our random name (and,
        // with O_CREAT, never follow a symlink there). 0600 from the first byte.
        // A signal or process.exit before the rename skips every finally: the exit
        // registry removes the temp file then (it may hold plaintext: decrypt --output).
        ownBeforeCreating(tmp)
        fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
        created = true
        const st = await fh.stat()
        own(tmp, { dev: st.dev, ino: st.ino })
        // Pieces (a large binary file's) are written in order, never joined.
        for (const piece of data instanceof Uint8Array ? [data] : data) await writeAll(fh, piece)
        if (target.owner !== undefined) await keepOwner(fh, target.owner)
        // After chown: chown clears set-id bits, and the mode is the last word.
        await fh.chmod(mode)
        await fh.sync()
        await fh.close()
        fh = undefined
        // rename replaces the directory entry and never follows a link at `path`,
        // so even if a symlink appeared there since the check, nothing is written
        // through it.
        await rename(tmp, path)
        created = false
        disown(tmp)
        await syncDir(dir)
    } catch (e) {
        if (fh !== undefined) await fh.close().catch(() => undefined)
        if (created) await unlink(tmp).catch(() => undefined)
        disown(tmp)
        if (e instanceof SecretsError) throw e
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not write ${quote(path)}: ${reason(e)}`)
    }
}

interface TargetStat {
    readonly mode: number
    /** The existing file's owner and group, which the new file takes over. */
    readonly owner?: { readonly uid: number; readonly gid: number }
}

/** The mode (and owner) to give the new file: the existing file's, or `fallback` for a new one. */
async function targetStat(path: string, fallback: number): Promise<TargetStat> {
    let st
    try {
        st = await lstat(path)
    } catch (e) {
        if (errnoCode(e) === "ENOENT") return { mode: fallback & 0o7777 }
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not write ${quote(path)}: ${reason(e)}`)
    }
    if (st.isSymbolicLink()) {
        // Writing through a link would put a (possibly decrypted) secret wherever the
        // link points — an attacker who can plant a link in a shared directory could
        // redirect it into a world-readable place. Replacing the link silently would
        // surprise its owner instead. So neither: the user resolves the path.
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to write ${quote(path)}: it is a symbolic link`, [
            "write to the file the link points to, or remove the link first",
        ])
    }
    if (!st.isFile()) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to write ${quote(path)}: it is not a regular file`)
    }
    return { mode: st.mode & 0o7777, owner: { uid: st.uid, gid: st.gid } }
}

/**
 * Give the temp file the replaced file's owner and group: a rename keeps the temp
 * file's inode, so without this `secrets set` run by root on a service's
 * `app:app 0640` file would leave it `root:root` and the service locked out.
 * Only root can give a file away; an ordinary user can still keep the group when
 * they are in it. When neither is possible (another user's file in a shared,
 * writable directory) the file becomes the writer's, as with any editor that
 * saves by rename: the mode is still kept.
 */
async function keepOwner(fh: FileHandle, owner: { readonly uid: number; readonly gid: number }): Promise<void> {
    try {
        await fh.chown(owner.uid, owner.gid)
    } catch (e) {
        if (errnoCode(e) !== "EPERM") throw e
        await fh.chown(-1, owner.gid).catch(() => undefined)
    }
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
    let off = 0
    while (off < data.length) {
        const { bytesWritten } = await fh.write(data, off, data.length - off)
        off += bytesWritten
    }
}

/** fsync the directory so the rename is durable; not possible on every platform. */
async function syncDir(dir: string): Promise<void> {
    let fh: FileHandle | undefined
    try {
        fh = await open(dir, constants.O_RDONLY)
        await fh.sync()
    } catch (e) {
        // Windows cannot open a directory, some file systems refuse fsync on one;
        // the rename has happened either way, so this is best effort.
        const code = errnoCode(e)
        if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") throw e
    } finally {
        await fh?.close().catch(() => undefined)
    }
}

function errnoCode(e: unknown): string | undefined {
    const code = (e as { code?: unknown } | null)?.code
    return typeof code === "string" ? code : undefined
}

/** A system error code (ENOSPC, EACCES…): Node's messages are fine, but the code is enough and stable. */
function reason(e: unknown): string {
    return errnoCode(e) ?? (e instanceof Error ? e.name : "unknown error")
}
