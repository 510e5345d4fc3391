/**
 * A cooperative lock on one file, so that two `secrets set` runs on the same file
 * both land: each holds `<path>.lock` across its read-modify-write. sops has no
 * lock at all; the last writer silently wins.
 *
 * The lock is a file created with O_EXCL ("wx"), which is atomic on local file
 * systems and on NFSv3+. It holds `{pid, hostname, time, token}` so that a lock
 * left behind by a crash can be recognised and broken: a dead pid on this host, or
 * no heartbeat for `staleMs`. While held, the lock's mtime is refreshed, so a long
 * `edit` session is not mistaken for a crashed one.
 */
import { randomBytes } from "node:crypto"
import { hostname as osHostname } from "node:os"
import { open, readFile, stat, unlink, utimes } from "node:fs/promises"

import { ExitCode, SecretsError, quote } from "../errors.js"

/** Options for {@link withFileLock}; the defaults suit the CLI. */
export interface FileLockOptions {
    /** Give up after this long (default 10 s). */
    readonly timeoutMs?: number
    /** A lock without a heartbeat for this long is stale (default 60 s). */
    readonly staleMs?: number
    /** For tests: whether a pid is alive on this host. */
    readonly isAlive?: (pid: number) => boolean
}

interface LockInfo {
    readonly pid: number
    readonly hostname: string
    readonly time: number
    readonly token: string
}

/**
 * Run `fn` while holding an exclusive lock on `path` (the lock file is
 * `<path>.lock`, next to it). The lock is released when `fn` settles, however it
 * settles. Throws a SecretsError naming the holder when the lock cannot be taken
 * within the timeout.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
    const lockPath = `${path}.lock`
    const staleMs = opts.staleMs ?? 60_000
    const me: LockInfo = { pid: process.pid, hostname: osHostname(), time: Date.now(), token: randomBytes(12).toString("hex") }
    await acquire(lockPath, me, opts.timeoutMs ?? 10_000, staleMs, opts.isAlive ?? pidAlive)
    const beat = setInterval(() => {
        const now = new Date()
        utimes(lockPath, now, now).catch(() => undefined)
    }, Math.max(50, Math.floor(staleMs / 3)))
    // The heartbeat must not keep a finished CLI alive.
    beat.unref()
    try {
        return await fn()
    } finally {
        clearInterval(beat)
        await release(lockPath, me.token)
    }
}

async function acquire(lockPath: string, me: LockInfo, timeoutMs: number, staleMs: number, isAlive: (pid: number) => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let delay = 5
    let holder: LockInfo | null = null
    for (;;) {
        try {
            const fh = await open(lockPath, "wx", 0o600)
            try {
                await fh.writeFile(`${JSON.stringify({ ...me, time: Date.now() })}\n`)
            } finally {
                await fh.close()
            }
            return
        } catch (e) {
            if (errnoCode(e) !== "EEXIST") {
                throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not lock ${quote(lockPath)}: ${errnoCode(e) ?? "unknown error"}`)
            }
        }
        const seen = await inspect(lockPath)
        if (seen === null) continue // released meanwhile: retry at once
        holder = seen.info
        if (isStale(seen, me.hostname, staleMs, isAlive)) {
            await breakLock(lockPath, seen.raw)
            continue
        }
        if (Date.now() >= deadline) break
        // Exponential backoff with jitter, so that twenty waiters do not retry in step.
        await sleep(Math.min(delay, deadline - Date.now()) * (0.5 + Math.random()))
        delay = Math.min(delay * 2, 250)
    }
    const who = holder === null ? "another process" : `process ${holder.pid} on ${quote(holder.hostname)}`
    throw new SecretsError(ExitCode.Generic, `could not lock ${quote(lockPath)}: held by ${who}`, [
        `if no other secrets command is running on this file, remove ${quote(lockPath)}`,
    ])
}

interface Seen {
    readonly raw: string
    readonly info: LockInfo | null
    readonly mtimeMs: number
}

async function inspect(lockPath: string): Promise<Seen | null> {
    try {
        const [raw, st] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)])
        return { raw, info: parseInfo(raw), mtimeMs: st.mtimeMs }
    } catch (e) {
        if (errnoCode(e) === "ENOENT") return null
        throw new SecretsError(ExitCode.Generic, `could not read the lock ${quote(lockPath)}: ${errnoCode(e) ?? "unknown error"}`)
    }
}

function parseInfo(raw: string): LockInfo | null {
    try {
        const v: unknown = JSON.parse(raw)
        if (typeof v !== "object" || v === null) return null
        const o = v as Record<string, unknown>
        if (typeof o.pid !== "number" || typeof o.hostname !== "string" || typeof o.time !== "number" || typeof o.token !== "string") return null
        return { pid: o.pid, hostname: o.hostname, time: o.time, token: o.token }
    } catch {
        return null
    }
}

function isStale(seen: Seen, myHost: string, staleMs: number, isAlive: (pid: number) => boolean): boolean {
    // The heartbeat moves mtime; `time` covers file systems with coarse mtimes.
    const last = Math.max(seen.mtimeMs, seen.info?.time ?? 0)
    if (Date.now() - last > staleMs) return true
    // An unparsable lock may be one being written this very moment: only age breaks it.
    if (seen.info === null) return false
    return seen.info.hostname === myHost && !isAlive(seen.info.pid)
}

/**
 * Remove a stale lock, but only if it still holds what we judged stale: between
 * our read and the unlink another waiter may have broken it and taken a fresh one.
 * A narrow window remains (check, then unlink), as with every lock-file scheme
 * without a kernel lock; it needs two waiters to break the same stale lock at once.
 */
async function breakLock(lockPath: string, judged: string): Promise<void> {
    const now = await readFile(lockPath, "utf8").catch(() => null)
    if (now !== judged) return
    await unlink(lockPath).catch(() => undefined)
}

async function release(lockPath: string, token: string): Promise<void> {
    // Only remove our own lock: if ours was broken as stale, the file is someone else's.
    const raw = await readFile(lockPath, "utf8").catch(() => null)
    if (raw === null || parseInfo(raw)?.token !== token) return
    await unlink(lockPath).catch(() => undefined)
}

function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        // EPERM: it exists but belongs to another user.
        return errnoCode(e) === "EPERM"
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

function errnoCode(e: unknown): string | undefined {
    const code = (e as { code?: unknown } | null)?.code
    return typeof code === "string" ? code : undefined
}
