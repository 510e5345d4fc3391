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
 *
 * The small steps (lstat, open, a small file's write, chown, chmod, close, rename)
 * are synchronous calls; only the fsyncs (and a large file's writes) go to libuv's
 * thread pool. Each small step takes microseconds, but on the pool it queues
 * behind other files' fsyncs (four threads, milliseconds each): a fleet re-key of
 * eight files at a time spent a third of its run waiting so (issue 14 target 5).
 * The fsyncs stay asynchronous so that one file's wait for the disk overlaps the
 * other files' work.
 */
import { randomBytes } from "node:crypto"
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsync, lstatSync, openSync, renameSync, unlinkSync, write, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { disown, own, ownBeforeCreating } from "./lock-cleanup.js"

/**
 * Data up to this size is written with synchronous calls (a page-cache copy of a
 * secrets file); larger data (a binary file) goes through the thread pool, so the
 * event loop keeps running (signals, lock heartbeats) while it is written.
 */
const SYNC_WRITE_MAX = 1 << 20

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
    /**
     * fsync the directory after the rename (default true), which makes the rename
     * itself durable. false is for a batch of files written into the same
     * directories (a fleet re-key): the caller then calls {@link syncDirs} on their
     * directories once the batch is written, one fsync per directory instead of one
     * per file. Until then a power cut may undo a rename, leaving that file as it
     * was before: the file's own data is fsynced before the rename either way, so
     * the name holds the complete old file or the complete new one, never a torn one.
     */
    readonly syncDir?: boolean
}

/**
 * Replace `path` with `data` atomically. Refuses a symbolic link or anything that
 * is not a regular file. On any failure the temp file is removed and the target
 * is untouched; the error is a SecretsError with exit code 3
 * (CouldNotWriteOutputFile) naming the path and the system error code.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[], opts: WriteAtomicOptions = {}): Promise<void> {
    const target = targetStat(path, opts.mode ?? 0o600)
    const mode = opts.private === true ? target.mode & 0o600 : target.mode
    const dir = dirname(path)
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)
    let fd: number | undefined
    let created = false
    try {
        // O_EXCL: never reuse a file someone planted under our random name (and,
        // with O_CREAT, never follow a symlink there). 0600 from the first byte.
        // A signal or process.exit before the rename skips every finally: the exit
        // registry removes the temp file then (it may hold plaintext: decrypt --output).
        ownBeforeCreating(tmp)
        fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
        created = true
        const st = fstatSync(fd)
        own(tmp, { dev: st.dev, ino: st.ino })
        // Pieces (a large binary file's) are written in order, never joined.
        const pieces = data instanceof Uint8Array ? [data] : data
        const size = pieces.reduce((n, p) => n + p.length, 0)
        for (const piece of pieces) {
            if (size <= SYNC_WRITE_MAX) writeAllSync(fd, piece)
            else await writeAll(fd, piece)
        }
        if (target.owner !== undefined) keepOwner(fd, target.owner)
        // After chown: chown clears set-id bits, and the mode is the last word.
        fchmodSync(fd, mode)
        await fsyncFd(fd)
        closeSync(fd)
        fd = undefined
        // rename replaces the directory entry and never follows a link at `path`,
        // so even if a symlink appeared there since the check, nothing is written
        // through it.
        renameSync(tmp, path)
        created = false
        disown(tmp)
        if (opts.syncDir !== false) await syncDir(dir)
    } catch (e) {
        if (fd !== undefined) closeQuietly(fd)
        if (created) unlinkQuietly(tmp)
        disown(tmp)
        if (e instanceof SecretsError) throw e
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not write ${quote(path)}: ${reason(e)}`)
    }
}

/**
 * fsync each directory once, after a batch of {@link writeFileAtomic} calls with
 * `syncDir: false` renamed files into them: from then on those renames survive a
 * power cut. Several at a time, as the files were written. Throws a SecretsError
 * (exit code 3) naming the first directory that failed; the files are renamed
 * either way, only their durability is in question.
 */
export async function syncDirs(dirs: Iterable<string>): Promise<void> {
    const failures: { dir: string; e: unknown }[] = []
    await Promise.all(
        [...new Set(dirs)].map((dir) =>
            syncDir(dir).catch((e: unknown) => {
                failures.push({ dir, e })
            }),
        ),
    )
    const first = failures[0]
    if (first !== undefined) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not make the files written in ${quote(first.dir)} durable: ${reason(first.e)}`, [
            "the files were written, but a power cut now could undo some of them; check the disk, then run the command again",
        ])
    }
}

interface TargetStat {
    readonly mode: number
    /** The existing file's owner and group, which the new file takes over. */
    readonly owner?: { readonly uid: number; readonly gid: number }
}

/** The mode (and owner) to give the new file: the existing file's, or `fallback` for a new one. */
function targetStat(path: string, fallback: number): TargetStat {
    let st
    try {
        st = lstatSync(path)
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
function keepOwner(fd: number, owner: { readonly uid: number; readonly gid: number }): void {
    try {
        fchownSync(fd, owner.uid, owner.gid)
    } catch (e) {
        if (errnoCode(e) !== "EPERM") throw e
        try {
            fchownSync(fd, -1, owner.gid)
        } catch {
            // not in the group either: the file becomes the writer's (above)
        }
    }
}

function writeAllSync(fd: number, data: Uint8Array): void {
    let off = 0
    while (off < data.length) off += writeSync(fd, data, off, data.length - off)
}

async function writeAll(fd: number, data: Uint8Array): Promise<void> {
    let off = 0
    while (off < data.length) {
        off += await new Promise<number>((resolve, reject) => {
            write(fd, data, off, data.length - off, null, (e, n) => (e ? reject(e) : resolve(n)))
        })
    }
}

/** fsync on the thread pool: the one step that waits for the disk. */
function fsyncFd(fd: number): Promise<void> {
    return new Promise((resolve, reject) => {
        fsync(fd, (e) => (e ? reject(e) : resolve()))
    })
}

function closeQuietly(fd: number): void {
    try {
        closeSync(fd)
    } catch {
        // already failing: the first error is the one to report
    }
}

function unlinkQuietly(path: string): void {
    try {
        unlinkSync(path)
    } catch {
        // gone already, or the exit registry removes it
    }
}

/** fsync the directory so the rename is durable; not possible on every platform. */
async function syncDir(dir: string): Promise<void> {
    let fd: number | undefined
    try {
        fd = openSync(dir, constants.O_RDONLY)
        await fsyncFd(fd)
    } catch (e) {
        // Windows cannot open a directory, some file systems refuse fsync on one;
        // the rename has happened either way, so this is best effort.
        const code = errnoCode(e)
        if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") throw e
    } finally {
        if (fd !== undefined) closeQuietly(fd)
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
