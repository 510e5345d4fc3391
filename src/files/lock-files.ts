/**
 * The file operations of the lock (files/file-lock.ts), each chosen so that a lock is
 * never seen half-written, never read or removed through a link, and a dead lock is
 * removed by one waiter only.
 *
 * - A lock is written completely into a private temp file beside it (O_EXCL, 0600)
 *   and then hard-linked to the lock's name. link() fails with EEXIST when the name
 *   exists, atomically (also on NFS), so the lock appears with its whole content:
 *   that is what lets an empty lock count as debris and be taken over at once.
 *   Where the file system has no hard links (FAT, some network shares), the lock is
 *   created in place with O_EXCL instead; there a lock is briefly empty while it is
 *   written, and a waiter could take it for debris in that instant.
 * - An existing lock is opened with O_NOFOLLOW and O_NONBLOCK and checked with
 *   fstat: a symbolic link (`app.yaml.lock -> /etc/passwd`), a FIFO, a directory or
 *   a large file is refused with an error, never read, followed or removed.
 * - A dead lock is removed under a second lock (`…lock.break`), and only if the
 *   name still holds the very file judged dead: without that, two waiters judging
 *   the same dead lock could each remove it, the second removing the fresh lock
 *   the first had just taken.
 * - SIGKILL leaves whatever the killed process had: a waiter's temp file, a
 *   breaker's break lock. The next holder removes those of dead processes; the
 *   temp files it finds in a listing of the directory read once per run, not per
 *   lock (files/lock-debris.ts).
 *
 * Every step is a synchronous call: each takes microseconds on a local disk, but
 * on libuv's four-thread pool it queued behind other files' fsyncs (a fleet re-key
 * locks eight files at a time while writing others), which left the re-key idle a
 * third of its run (issue 14 target 5). Waiting for a holder is still a timer.
 */
import { randomBytes } from "node:crypto"
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readSync, unlinkSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"

import { breakPathFor } from "../core/side-files.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { disown, own, sameFile, type FileId } from "./lock-cleanup.js"
import { createDebrisIndex, type DebrisIndex } from "./lock-debris.js"
import { parseHolder, type LockHolder } from "./lock-holder.js"

/** A lock is one short line of JSON; anything bigger is somebody's file, not debris. */
const MAX_LOCK_BYTES = 4096

/** Our lock, written and open (the descriptor keeps the heartbeat off the path). */
export interface OwnLock {
    readonly fd: number
    readonly id: FileId
}

/** Our lock's content in a private temp file beside `lockPath`, ready to be linked. */
export interface Candidate extends OwnLock {
    readonly tmp: string
    readonly content: string
}

/** An existing lock as read through a handle that did not follow links. */
export interface SeenLock {
    readonly id: FileId
    readonly holder: LockHolder | null
    readonly mtimeMs: number
}

export function writeCandidate(lockPath: string, content: string): Candidate {
    // The name of an atomic-write temp (core/side-files.ts), so listings and git skip it.
    const tmp = join(dirname(lockPath), `.${basename(lockPath)}.${randomBytes(6).toString("hex")}.tmp`)
    let fd: number
    try {
        fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
        throw lockError(lockPath, e)
    }
    const st = fstatSync(fd)
    const id = { dev: st.dev, ino: st.ino }
    own(tmp, id)
    try {
        writeFileSync(fd, content)
    } catch (e) {
        discardCandidate({ tmp, fd, id, content })
        throw lockError(lockPath, e)
    }
    return { tmp, fd, id, content }
}

/** Remove the temp name (the lock, if taken, keeps the file) and, unless kept, close it. */
export function discardCandidate(c: Candidate, keepOpen = false): void {
    unlinkIfSame(c.tmp, c.id)
    disown(c.tmp)
    if (!keepOpen) closeQuietly(c.fd)
}

/**
 * Try to take the lock: our lock when taken, "exists" when someone holds it. The
 * returned lock is registered for removal on exit and signals.
 */
export function tryTake(lockPath: string, c: Candidate): OwnLock | "exists" {
    try {
        linkSync(c.tmp, lockPath)
        own(lockPath, c.id)
        return { fd: c.fd, id: c.id }
    } catch (e) {
        const code = errnoCode(e)
        if (code === "EEXIST") return "exists"
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw lockError(lockPath, e)
    }
    return createInPlace(lockPath, c.content)
}

/** Without hard links: O_EXCL on the lock's own name, then the content. */
function createInPlace(lockPath: string, content: string): OwnLock | "exists" {
    let fd: number
    try {
        fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
        if (errnoCode(e) === "EEXIST") return "exists"
        throw lockError(lockPath, e)
    }
    const st = fstatSync(fd)
    const id = { dev: st.dev, ino: st.ino }
    own(lockPath, id)
    writeFileSync(fd, content)
    return { fd, id }
}

/** The lock at `lockPath`, or undefined when there is none (released meanwhile). */
export function readLock(lockPath: string): SeenLock | undefined {
    let fd: number
    try {
        // O_NONBLOCK: opening a FIFO planted there must not hang us (nor, now that
        // this is a synchronous call, the whole process).
        fd = openSync(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (e) {
        const code = errnoCode(e)
        if (code === "ENOENT") return undefined
        if (code === "ELOOP") throw refusal(lockPath, "it is a symbolic link")
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not read the lock ${quote(lockPath)}: ${code ?? "unknown error"}`)
    }
    try {
        const st = fstatSync(fd)
        if (!st.isFile()) throw refusal(lockPath, "it is not a regular file")
        if (st.size > MAX_LOCK_BYTES) throw refusal(lockPath, `it is ${st.size} bytes, far more than a lock`)
        const buf = Buffer.alloc(MAX_LOCK_BYTES)
        const bytesRead = readSync(fd, buf, 0, MAX_LOCK_BYTES, 0)
        return { id: { dev: st.dev, ino: st.ino }, holder: parseHolder(buf.subarray(0, bytesRead).toString("utf8")), mtimeMs: st.mtimeMs }
    } finally {
        closeQuietly(fd)
    }
}

/**
 * Remove the lock judged abandoned (`judged`), unless it changed since: under the
 * break lock, only if the name still holds that file and `stillAbandoned` agrees
 * (a remote holder's heartbeat may have come meanwhile). "retry" when it is gone
 * or changed (look again at once), "busy" when a live waiter is breaking it (wait
 * a moment). A lock that cannot be removed (another user's, in a directory we may
 * not delete from) is an error: waiting would never end.
 */
export function breakAbandoned(
    lockPath: string,
    judged: SeenLock,
    c: Candidate,
    stillAbandoned: (seen: SeenLock) => boolean,
): "retry" | "busy" {
    const breakPath = breakPathFor(lockPath)
    const breaking = tryLinkAs(c, breakPath)
    if (!breaking) {
        // Another waiter is at it, or died at it: its break lock is judged like a lock.
        const other = readLock(breakPath)
        if (other === undefined) return "retry"
        if (!stillAbandoned(other)) return "busy"
        removeAbandoned(breakPath, other.id)
        return "retry"
    }
    try {
        const now = readLock(lockPath)
        if (now !== undefined && sameFile(now.id, judged.id) && stillAbandoned(now)) removeAbandoned(lockPath, judged.id)
        return "retry"
    } finally {
        unlinkIfSame(breakPath, c.id)
        disown(breakPath)
    }
}

function removeAbandoned(path: string, id: FileId): void {
    try {
        if (!sameFile(lstatSync(path), id)) return
        unlinkSync(path)
    } catch (e) {
        const code = errnoCode(e)
        if (code === "ENOENT") return
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not remove the abandoned lock ${quote(path)}: ${code ?? "unknown error"}`, [
            `its holder is gone; remove it yourself (rm ${quote(path)}), or ask its owner to`,
        ])
    }
}

function tryLinkAs(c: Candidate, path: string): boolean {
    try {
        linkSync(c.tmp, path)
        own(path, c.id)
        return true
    } catch (e) {
        if (errnoCode(e) === "EEXIST") return false
        // No hard links here: break without the break lock (the in-place mode's weaker promise).
        if (["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(errnoCode(e) ?? "")) return true
        throw lockError(path, e)
    }
}

/** The directory listings that tidying draws on; one per directory per run, not one per lock. */
const debrisIndex = createDebrisIndex()

/**
 * Remove what killed processes left of this lock: their lock temp files and an
 * abandoned break lock. Called while holding the lock, so no live process is
 * breaking it; best effort, a problem here never fails the caller. The break lock
 * is looked at on every lock (its name is the lock's); the temp files, whose names
 * are random, come from the directory's listing, read once (files/lock-debris.ts).
 */
export async function tidyAbandoned(lockPath: string, abandoned: (seen: SeenLock) => boolean, index: DebrisIndex = debrisIndex): Promise<void> {
    const breakPath = breakPathFor(lockPath)
    for (const path of [breakPath, ...(await index.tempsOf(lockPath))]) {
        try {
            const seen = readLock(path)
            // A temp file is written in place: empty, it may be a waiter's that is being written.
            const judged = seen !== undefined && (path === breakPath || seen.holder !== null)
            if (judged && abandoned(seen)) unlinkIfSame(path, seen.id)
        } catch {
            // not ours to judge (a link, a directory): left alone
        }
    }
}

/**
 * Remove `path` if it still names the file `id`. Only breakers (one at a time) and
 * a lock's own holder remove locks, so the name cannot change between the check
 * and the unlink unless a holder on another host releases in that instant.
 */
export function unlinkIfSame(path: string, id: FileId): boolean {
    try {
        if (!sameFile(lstatSync(path), id)) return false
        unlinkSync(path)
        return true
    } catch {
        return false
    }
}

/** Close a descriptor we are done with; a failure to close changes nothing for the lock. */
export function closeQuietly(fd: number): void {
    try {
        closeSync(fd)
    } catch {
        // nothing to do: the lock's name is what counts
    }
}

function refusal(lockPath: string, why: string): SecretsError {
    return new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing the lock ${quote(lockPath)}: ${why}`, [
        `secrets only ever creates small regular lock files; if no secrets command is running on this file, remove ${quote(lockPath)}`,
    ])
}

function lockError(lockPath: string, e: unknown): SecretsError {
    if (e instanceof SecretsError) return e
    return new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not lock ${quote(lockPath)}: ${errnoCode(e) ?? "unknown error"}`)
}

export function errnoCode(e: unknown): string | undefined {
    const code = (e as { code?: unknown } | null)?.code
    return typeof code === "string" ? code : undefined
}
