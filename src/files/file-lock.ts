/**
 * A cooperative lock on one file, so that concurrent writers of the same file all
 * land: each holds `<path>.lock` across its read-modify-write, and the others queue
 * (issue 10 §13). sops has no lock at all; the last writer silently wins.
 *
 * - A writer waits while the holder is alive, with no time limit by default: a
 *   hundred `set`s of one file at once all succeed, one after the other, and a
 *   `set` behind an hour-long `edit` goes through when the edit ends.
 *   `SECRETS_LOCK_TIMEOUT` (seconds) bounds the wait; reaching it is an error naming
 *   the holder. One line on stderr says who holds it: after a second at a
 *   terminal, after half a minute in a log (where concurrent writers that each wait
 *   a moment are normal, and only a long wait needs explaining).
 * - A dead holder on this host (SIGKILL, a crash) or an empty or unparsable lock is
 *   taken over at once; a holder on another host after `staleMs` without heartbeat
 *   (files/lock-holder.ts).
 * - Waiting polls with capped, jittered backoff (10 ms doubling to 250 ms), so that a
 *   hundred waiters neither spin nor retry in step; polling also works on network
 *   file systems, where change notifications do not.
 * - The lock is removed when `fn` settles, on `process.exit` and on SIGINT, SIGTERM,
 *   SIGHUP and SIGQUIT (files/lock-cleanup.ts); how it is written, read and broken
 *   safely is files/lock-files.ts.
 *
 * proper-lockfile (npm) was considered and not taken: it judges staleness by mtime
 * alone (at least 2 s, default 10 s), so a SIGKILLed holder blocks everyone for the
 * stale period and a holder whose event loop stalls longer loses its lock; it
 * records no pid to name in messages, and it has no notion of a lock that must not
 * be followed through a symbolic link.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import { randomBytes } from "node:crypto"
import { futimes, futimesSync } from "node:fs"

import { lockPathFor } from "../core/side-files.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { disown } from "./lock-cleanup.js"
import { breakAbandoned, closeQuietly, discardCandidate, readLock, tidyAbandoned, tryTake, unlinkIfSame, writeCandidate, type OwnLock, type SeenLock } from "./lock-files.js"
import { abandonedBecause, describeHolder, thisProcess } from "./lock-holder.js"
import { info } from "./diagnostics.js"

/** Options for {@link withFileLock}; the defaults suit the CLI. */
export interface FileLockOptions {
    /** Give up after this long; default SECRETS_LOCK_TIMEOUT, else wait as long as the holder lives. */
    readonly timeoutMs?: number
    /** A lock from another host without a heartbeat for this long is abandoned (default 60 s). */
    readonly staleMs?: number
    /** Say who holds the lock after waiting this long (default 1 s at a terminal, else 30 s). */
    readonly noticeAfterMs?: number
    /** Where SECRETS_LOCK_TIMEOUT is read; default the process's environment. */
    readonly env?: Readonly<Record<string, string | undefined>>
    /** Where the waiting notice goes; default the process's stderr. */
    readonly stderr?: { write(chunk: string): unknown; readonly isTTY?: boolean }
}

/** The locks the current async call chain holds: taking one again would wait for ourselves forever. */
const heldHere = new AsyncLocalStorage<ReadonlySet<string>>()

/** Signals that end every wait for a lock (op sync --watch stopping). */
const stopSignals = new Set<AbortSignal>()

/**
 * Run `fn` while holding an exclusive lock on `path` (the lock file is
 * `<path>.lock`, next to it). The lock is released when `fn` settles, however it
 * settles, and on exit and signals. Throws a SecretsError naming the holder when
 * the timeout is reached, and when the lock path is a link or not a lock.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
    const lockPath = lockPathFor(path)
    const timeoutMs = opts.timeoutMs ?? lockTimeoutFromEnv(opts.env ?? process.env)
    const outer = heldHere.getStore() ?? new Set<string>()
    if (outer.has(lockPath)) throw new Error(`internal: ${lockPath} locked again by its own holder`)
    const staleMs = opts.staleMs ?? 60_000
    const lock = await acquire(lockPath, { ...opts, staleMs, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
    const beat = setInterval(() => {
        // Through the descriptor: a name replaced meanwhile is not touched. On the
        // thread pool: a heartbeat is not worth blocking the event loop for.
        const now = new Date()
        futimes(lock.fd, now, now, () => undefined)
    }, Math.max(50, Math.floor(staleMs / 3)))
    // The heartbeat must not keep a finished CLI alive.
    beat.unref()
    try {
        return await heldHere.run(new Set([...outer, lockPath]), fn)
    } finally {
        clearInterval(beat)
        // Only our own lock: if it was broken as abandoned, the name is someone else's now.
        unlinkIfSame(lockPath, lock.id)
        disown(lockPath)
        closeQuietly(lock.fd)
    }
}

/**
 * End every lock wait, now and later, once `signal` is aborted: the wait throws
 * "stopped while waiting". For a long-running command that stops on a signal and
 * must not sit behind another writer's lock meanwhile. Returns the undo.
 */
export function stopLockWaitsOn(signal: AbortSignal): () => void {
    stopSignals.add(signal)
    return () => stopSignals.delete(signal)
}

/** SECRETS_LOCK_TIMEOUT in ms: undefined when unset or empty, else a number of seconds (0 or more). */
export function lockTimeoutFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
    const raw = env.SECRETS_LOCK_TIMEOUT
    if (raw === undefined || raw.trim() === "") return undefined
    if (!/^\d+(\.\d+)?$/.test(raw.trim())) {
        throw new SecretsError(ExitCode.Generic, `SECRETS_LOCK_TIMEOUT must be a number of seconds, not ${quote(raw)}`, [
            "for example SECRETS_LOCK_TIMEOUT=30 to give up after half a minute; unset, a writer waits as long as the lock's holder runs",
        ])
    }
    return Math.round(Number(raw.trim()) * 1000)
}

interface AcquireOptions extends FileLockOptions {
    readonly staleMs: number
}

async function acquire(lockPath: string, opts: AcquireOptions): Promise<OwnLock> {
    const me = thisProcess(randomBytes(12).toString("hex"))
    const candidate = writeCandidate(lockPath, `${JSON.stringify(me)}\n`)
    let taken: OwnLock | undefined
    const abandoned = (s: SeenLock) => abandonedBecause(s.holder, s.mtimeMs, opts.staleMs) !== undefined
    try {
        const started = Date.now()
        const stderr = opts.stderr ?? process.stderr
        const noticeAfterMs = opts.noticeAfterMs ?? (stderr.isTTY === true ? 1000 : 30_000)
        let noticed = false
        let delay = 10
        for (;;) {
            throwIfStopped(lockPath)
            const got = tryTake(lockPath, candidate)
            if (got !== "exists") {
                taken = got
                // Waiting may have taken a while: the heartbeat starts from now.
                const now = new Date()
                try {
                    futimesSync(got.fd, now, now)
                } catch {
                    // the next heartbeat tries again
                }
                await tidyAbandoned(lockPath, abandoned)
                return got
            }
            const seen = readLock(lockPath)
            if (seen === undefined) continue // released meanwhile: try again at once
            // Broken (or changed meanwhile): look again at once. Busy: another waiter is
            // breaking it, so wait a moment like for a holder.
            if (abandoned(seen) && breakAbandoned(lockPath, seen, candidate, abandoned) === "retry") continue
            const waited = Date.now() - started
            if (opts.timeoutMs !== undefined && waited >= opts.timeoutMs) throw timeoutError(lockPath, seen, opts.timeoutMs)
            if (!noticed && waited >= noticeAfterMs) {
                noticed = true
                info({ stderr }, `waiting for the lock ${quote(lockPath)}, held by ${describeHolder(seen.holder)}`)
            }
            const cap = opts.timeoutMs === undefined ? delay : Math.min(delay, opts.timeoutMs - waited)
            await sleepUnlessStopped(cap * (0.5 + Math.random() / 2))
            delay = Math.min(delay * 2, 250)
        }
    } finally {
        // The temp name goes; the file stays open as our lock when we got it by link.
        discardCandidate(candidate, taken?.fd === candidate.fd)
    }
}

function timeoutError(lockPath: string, seen: SeenLock, timeoutMs: number): SecretsError {
    const who = describeHolder(seen.holder)
    const pid = seen.holder === null ? "it" : `process ${seen.holder.pid}`
    return new SecretsError(ExitCode.Generic, `could not lock ${quote(lockPath)} within ${formatSeconds(timeoutMs)}: held by ${who}`, [
        `wait for ${pid} to finish, or raise SECRETS_LOCK_TIMEOUT`,
        `if ${pid} is not a secrets command working on this file, remove ${quote(lockPath)}`,
    ])
}

function formatSeconds(ms: number): string {
    return `${Number((ms / 1000).toFixed(3))} s`
}

function throwIfStopped(lockPath: string): void {
    for (const s of stopSignals) {
        if (s.aborted) throw new SecretsError(ExitCode.Generic, `stopped while waiting for the lock ${quote(lockPath)}`)
    }
}

/** Sleep `ms`, or less when a stop signal fires meanwhile. */
function sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer)
            for (const s of stopSignals) s.removeEventListener("abort", done)
            resolve()
        }
        const timer = setTimeout(done, Math.max(0, ms))
        for (const s of stopSignals) s.addEventListener("abort", done, { once: true })
    })
}
