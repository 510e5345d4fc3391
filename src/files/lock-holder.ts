/**
 * Who holds a file lock, as the lock file says, and whether that holder is still
 * there (files/file-lock.ts). A lock names its process: pid, host name, the time it
 * was written and, on Linux, the process's start time, so that a pid reused by an
 * unrelated process after the holder died is not taken for the holder.
 *
 * On this host a holder is alive exactly while its process runs: a writer waits for
 * it however long it takes (an `edit` session can last an hour), and takes over at
 * once when it is gone (SIGKILL, a crash, a power cut). A holder on another host (a
 * shared network directory) cannot be asked, so there the heartbeat decides: the
 * holder refreshes the lock's mtime, and a lock without a heartbeat for `staleMs`
 * is abandoned.
 */
import { readFileSync } from "node:fs"
import { hostname } from "node:os"

/** What a lock file holds (one line of JSON). */
export interface LockHolder {
    readonly pid: number
    readonly hostname: string
    /** When the lock was written, in ms since the epoch. */
    readonly time: number
    /** The holder's start time from /proc (clock ticks since boot), when known. */
    readonly start?: string
    /** Random: tells our own lock from another one in tests and by eye. */
    readonly token: string
}

/** The holder this process writes into its locks. */
export function thisProcess(token: string): LockHolder {
    const start = processStartTime(process.pid)
    return { pid: process.pid, hostname: hostname(), time: Date.now(), ...(start !== undefined ? { start } : {}), token }
}

/** A lock's content as a holder, or null when it is not one (empty, cut short, not ours). */
export function parseHolder(raw: string): LockHolder | null {
    let v: unknown
    try {
        v = JSON.parse(raw)
    } catch {
        return null
    }
    if (typeof v !== "object" || v === null) return null
    const o = v as Record<string, unknown>
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) return null
    if (typeof o.hostname !== "string" || typeof o.time !== "number" || typeof o.token !== "string") return null
    if (o.start !== undefined && typeof o.start !== "string") return null
    return { pid: o.pid as number, hostname: o.hostname, time: o.time, ...(typeof o.start === "string" ? { start: o.start } : {}), token: o.token }
}

/** Why a lock may be taken over, or undefined while its holder is there. */
export function abandonedBecause(holder: LockHolder | null, mtimeMs: number, staleMs: number, now = Date.now()): string | undefined {
    // Locks appear with their content in one step (a link of a complete file), so
    // an empty or unparsable lock is not one being written: it is debris.
    if (holder === null) return "it is empty or not a lock secrets wrote"
    if (holder.hostname === hostname()) {
        if (!pidAlive(holder.pid)) return `process ${holder.pid} is gone`
        const start = holder.start === undefined ? undefined : processStartTime(holder.pid)
        if (start !== undefined && start !== holder.start) return `process ${holder.pid} is gone (its pid now belongs to another process)`
        return undefined
    }
    // The heartbeat moves mtime; `time` covers file systems with coarse mtimes.
    const last = Math.max(mtimeMs, holder.time)
    return now - last > staleMs ? `no heartbeat from ${JSON.stringify(holder.hostname)} for ${Math.round((now - last) / 1000)} s` : undefined
}

/** "process 42 on this host" / `process 42 on "buildbox"`. */
export function describeHolder(holder: LockHolder | null): string {
    if (holder === null) return "another process"
    return `process ${holder.pid} ${holder.hostname === hostname() ? "on this host" : `on ${JSON.stringify(holder.hostname)}`}`
}

function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        // EPERM: it exists but belongs to another user.
        return (e as { code?: unknown }).code === "EPERM"
    }
}

/**
 * Field 22 of /proc/PID/stat, the process's start time in clock ticks since boot:
 * with the pid it names one process for the life of the machine. Undefined where
 * there is no /proc (macOS) or the process is gone. The command name (field 2) may
 * hold spaces and parentheses, so fields are counted after its last ")".
 */
export function processStartTime(pid: number): string | undefined {
    let stat: string
    try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    } catch {
        return undefined
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const start = fields[19]
    return start !== undefined && /^\d+$/.test(start) ? start : undefined
}
