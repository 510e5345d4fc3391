/**
 * Nothing the lock module creates is left behind (issue 10 §14): a held lock, the
 * temp file a lock is written into, the lock taken while breaking a dead one; nor
 * the temp file of an atomic write (fs-atomic.ts), which may hold plaintext. Each
 * is registered here with the file identity (device, inode) we created, and removed
 * synchronously on the way out that skips `finally` blocks: `process.exit` (the
 * 'exit' event) and SIGINT, SIGTERM, SIGHUP, SIGQUIT.
 *
 * A path is removed only while it still names the very file we created: if our
 * lock was broken and someone else holds it now, their lock stays.
 *
 * The handlers are installed only while something is registered. On a signal they
 * step aside when another part of the program handles it: `op sync --watch` stops
 * after its round (which releases the lock the normal way), `edit` removes its
 * plaintext temp dir and raises the signal again, which then reaches us alone.
 * Otherwise they clean up, remove themselves and raise the signal again, so that the
 * process ends as the signal would have ended it (status 128 + n to a shell).
 * signal-exit's listeners (execa's child cleanup) do not count as handling: they
 * act only when they are the last listeners, so counting them would leave the
 * signal to nobody.
 */
import { lstatSync, unlinkSync } from "node:fs"

/** The identity of a file we created. */
export interface FileId {
    readonly dev: number
    readonly ino: number
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const

/** `"creating"`: a name we are about to create with O_EXCL, identity not known yet. */
const owned = new Map<string, FileId | "creating">()

/** Register `path` (created by us, with identity `id`) for removal on exit and on signals. */
export function own(path: string, id: FileId): void {
    owned.set(path, id)
    attach()
}

/**
 * Register a fresh random name before creating it with O_EXCL, so that a signal
 * between the creation and {@link own} still removes it. Until `own` names its
 * identity, a regular file at that name is taken to be ours: no one else knows the
 * random name. The caller disowns it if the creation fails.
 */
export function ownBeforeCreating(path: string): void {
    owned.set(path, "creating")
    attach()
}

/** `path` was removed or handed over the normal way: stop tracking it. */
export function disown(path: string): void {
    owned.delete(path)
    if (owned.size === 0) detach()
}

export function sameFile(a: FileId, b: FileId): boolean {
    return a.dev === b.dev && a.ino === b.ino
}

/** Remove `path` if it is still the file `id` names; false when it is gone or another file. */
export function removeIfSameSync(path: string, id: FileId): boolean {
    try {
        // lstat: a symbolic link put in its place is another file, and is left alone.
        if (!sameFile(lstatSync(path), id)) return false
        unlinkSync(path)
        return true
    } catch {
        return false
    }
}

function removeAllSync(): void {
    for (const [path, id] of owned) {
        if (id !== "creating") removeIfSameSync(path, id)
        else if (isRegularFileSync(path)) unlinkSync(path)
    }
    owned.clear()
}

function isRegularFileSync(path: string): boolean {
    try {
        return lstatSync(path).isFile()
    } catch {
        return false
    }
}

function onExit(): void {
    removeAllSync()
}

function onSignal(signal: NodeJS.Signals): void {
    if (othersHandle(signal)) return
    removeAllSync()
    detach()
    // With our listener gone (and no other real one), the default action applies.
    process.kill(process.pid, signal)
}

function othersHandle(signal: NodeJS.Signals): boolean {
    const others = process.listeners(signal).filter((l) => l !== onSignal).length
    return others > signalExitListeners()
}

/** How many signal-exit instances listen (each adds one listener per signal); 0 without it. */
function signalExitListeners(): number {
    const emitter = (globalThis as Record<symbol, unknown>)[Symbol.for("signal-exit emitter")]
    const count = (emitter as { count?: unknown } | undefined)?.count
    return typeof count === "number" ? count : 0
}

function attach(): void {
    // Idempotent by inspection rather than a flag: edit's SIGINT handling takes every
    // SIGINT listener away while the editor runs and puts them back afterwards.
    for (const s of SIGNALS) if (!process.listeners(s).includes(onSignal)) process.on(s, onSignal)
    if (!process.listeners("exit").includes(onExit)) process.on("exit", onExit)
}

function detach(): void {
    for (const s of SIGNALS) process.removeListener(s, onSignal)
    process.removeListener("exit", onExit)
}
