/**
 * Running the user's command for `exec-env` and `exec-file` (sops-format.md §10),
 * and the FIFO plumbing `exec-file` hands the plaintext through. The only module of
 * the exec commands that starts processes.
 *
 * As in sops, the command is one string run by `/bin/sh -c`, with our stdin,
 * stdout and stderr, and an environment the caller builds (nothing is added here:
 * `--pristine` must mean pristine). The child's exit status is passed back, or
 * 128 + the signal number when a signal ended it, which is what a shell reports.
 *
 * node:child_process's spawn, not execa: with inherited stdio nothing here needs
 * execa's pipes, buffering or errors, and loading execa (its signal tables, the
 * streams it sets up for each child) was a few ms of every `exec-env` start
 * (issue 14 target 2).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, open as openCallback, constants as fsConstants } from "node:fs"
import { Socket } from "node:net"
import { constants as osConstants } from "node:os"

import { ExitCode, SecretsError } from "../errors.js"

/** Signals passed on to the child while it runs (SIGINT is handled apart, see {@link runShell}). */
const FORWARDED = ["SIGTERM", "SIGHUP", "SIGQUIT"] as const

/** Options for {@link runShell}. */
export interface ShellOptions {
    /** The child's complete environment. */
    readonly env: Readonly<Record<string, string>>
    readonly cwd?: string
    /**
     * Start the child and return at once, its stdio on /dev/null, without waiting
     * (sops' deprecated `--background`); the result's exit code is then 0.
     */
    readonly background?: boolean
    /** Told `true` once the child runs and `false` once it has ended. */
    readonly onRunning?: (running: boolean) => void
}

/** How the child ended. */
export interface ShellResult {
    /** Its exit status, or 128 + the signal number. */
    readonly exitCode: number
    /** The signal that ended it, if one did. */
    readonly signal?: string
}

/**
 * Run `/bin/sh -c command` and wait for it.
 *
 * While the child runs, SIGTERM, SIGHUP and SIGQUIT sent to us are forwarded to it
 * (sops ≥ 3.10 forwards them too), so that `kill` on `secrets` stops the command
 * and we still get to clean up and report its status. SIGINT is ignored here, as
 * a shell ignores it while waiting for a foreground job: Ctrl-C in a terminal
 * already reaches the child, which is in our process group, and forwarding it
 * would deliver it twice. Unlike sops, the child is not put in a process group
 * of its own, so it stays in the terminal's foreground and can read from it.
 *
 * Throws SecretsError 1 only when the shell cannot be started at all.
 */
export async function runShell(command: string, opts: ShellOptions): Promise<ShellResult> {
    const base = {
        // Exactly the caller's environment (`--pristine` must mean pristine), and no
        // shell of spawn's own: the command is one argument of ours to /bin/sh.
        env: opts.env,
        shell: false,
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    } as const
    if (opts.background === true) {
        // Its own session (detached) and stdio on /dev/null, and not killed when we exit.
        const sub = spawn("/bin/sh", ["-c", command], { ...base, stdio: "ignore", detached: true })
        const started = await spawned(sub)
        if (started !== undefined) throw startError(started)
        sub.unref()
        return { exitCode: 0 }
    }

    // The relay (and SIGINT's ignoring) is in place before the child exists: the child
    // can start, and be seen running by whoever then sends a Ctrl-C or a SIGTERM,
    // before this process runs again after spawn() returns; a signal then, with no
    // handler yet, would end us by its default action, leaving the command behind
    // and its status lost. A signal caught during spawn() is dispatched by the event
    // loop afterwards, when `sub` is set.
    let sub: ChildProcess | undefined
    const stopRelaying = relaySignals({ kill: (signal) => sub?.kill(signal) })
    try {
        sub = spawn("/bin/sh", ["-c", command], { ...base, stdio: "inherit" })
    } catch (e) {
        stopRelaying()
        throw e
    }
    opts.onRunning?.(true)
    try {
        const ended = await exited(sub)
        if ("error" in ended) throw startError(ended.error)
        if (ended.signal !== null) {
            const number = osConstants.signals[ended.signal]
            return { exitCode: 128 + number, signal: ended.signal }
        }
        return { exitCode: ended.code ?? ExitCode.Generic }
    } finally {
        stopRelaying()
        opts.onRunning?.(false)
    }
}

/** Undefined once `sub` runs, or the error that kept it from starting (ENOENT, EACCES: spawn reports them as an event). */
function spawned(sub: ChildProcess): Promise<unknown> {
    return new Promise((resolve) => {
        sub.once("spawn", () => resolve(undefined))
        sub.once("error", resolve)
    })
}

/**
 * How `sub` ended, or the error that kept it from starting. An "error" after the
 * child started (a failed kill() of the relay) is not its end: its "exit" still comes.
 */
function exited(sub: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: unknown }> {
    return new Promise((resolve) => {
        let running = false
        sub.once("spawn", () => {
            running = true
        })
        sub.on("error", (error) => {
            if (!running) resolve({ error })
        })
        sub.once("exit", (code, signal) => resolve({ code, signal }))
    })
}

/**
 * Forward SIGTERM, SIGHUP and SIGQUIT to `child` until the returned function is
 * called (runShell here, run-program.ts). SIGINT is ignored for the rest of the
 * process, not only while the child runs: a Ctrl-C reaches the child and us at
 * once, and ours may be dispatched only after the child's exit was (on a loaded
 * machine, hundreds of ms later). Removing the listener then would let that late
 * SIGINT kill us, and the child's status would be lost. Registered once, however
 * often a command runs a child.
 */
export function relaySignals(child: { kill(signal: NodeJS.Signals): unknown }): () => void {
    const forward = (signal: NodeJS.Signals): void => {
        try {
            child.kill(signal)
        } catch {
            // already gone
        }
    }
    for (const s of FORWARDED) process.on(s, forward)
    if (!process.listeners("SIGINT").includes(ignoreSigint)) process.on("SIGINT", ignoreSigint)
    return () => {
        for (const s of FORWARDED) process.removeListener(s, forward)
    }
}

function ignoreSigint(): void {
    // The terminal's Ctrl-C is the child's to act on (relaySignals).
}

function startError(e: unknown): SecretsError {
    const code = (e as { code?: unknown }).code
    return new SecretsError(ExitCode.Generic, `could not start /bin/sh${typeof code === "string" ? ` (${code})` : ""}`)
}

/**
 * Create a FIFO readable and writable by us only, with `mkfifo -m 600` (Node has
 * no mkfifo of its own; `-m` sets the mode regardless of the umask).
 */
export async function makeFifo(path: string): Promise<void> {
    const ended = await exited(spawn("mkfifo", ["-m", "600", "--", path], { stdio: "ignore" }))
    if ("code" in ended && ended.code === 0) return
    const code = "error" in ended ? (ended.error as { code?: unknown }).code : undefined
    throw new SecretsError(ExitCode.Generic, `could not create a FIFO with mkfifo${typeof code === "string" ? ` (${code})` : ""}`, [
        "use --no-fifo to hand the command a temporary file instead",
    ])
}

/** A write into a FIFO that is under way; see {@link writeFifo}. */
export interface FifoWriter {
    /** Settles once the data was written, the reader went away, or {@link stop} was called; never rejects. */
    readonly done: Promise<FifoOutcome>
    /** Give up: stop waiting for a reader and drop what is not written yet. */
    stop(): void
}

/** How a FIFO write ended: written, stopped before a reader came, or an error code. */
export type FifoOutcome = { readonly kind: "written" } | { readonly kind: "stopped" } | { readonly kind: "failed"; readonly code: string }

const FIRST_POLL_MS = 2
const LAST_POLL_MS = 100

/**
 * Write `data` into the FIFO at `path` once a reader opens it, without ever
 * blocking the process.
 *
 * A blocking open for writing would wait in a libuv worker thread until a reader
 * comes, and if the command never reads (or deletes the FIFO) that thread, and so
 * the process, would hang for good. So the write end is opened with O_NONBLOCK,
 * which fails with ENXIO while there is no reader: we retry with a backoff of up
 * to 100 ms. Once open, the descriptor is driven by a pipe socket, so large
 * plaintexts are written as the reader consumes them and a reader that goes away
 * early (EPIPE) just ends the write. The FIFO is written once, as sops does: a
 * command that opens it a second time waits for a writer that never comes.
 */
export function writeFifo(path: string, data: Uint8Array): FifoWriter {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    let socket: Socket | undefined
    let finish: (o: FifoOutcome) => void = () => undefined
    const done = new Promise<FifoOutcome>((resolve) => {
        let settled = false
        finish = (o) => {
            if (settled) return
            settled = true
            resolve(o)
        }
    })
    let delay = FIRST_POLL_MS
    const attempt = (): void => {
        timer = undefined
        if (stopped) return
        openCallback(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK, (err, fd) => {
            if (stopped) {
                if (!err) closeQuietly(fd)
                finish({ kind: "stopped" })
                return
            }
            if (err) {
                if (err.code === "ENXIO") {
                    timer = setTimeout(attempt, delay)
                    delay = Math.min(delay * 2, LAST_POLL_MS)
                    return
                }
                finish({ kind: "failed", code: err.code ?? "unknown error" })
                return
            }
            const s = new Socket({ fd, readable: false, writable: true })
            socket = s
            s.on("error", (e: NodeJS.ErrnoException) => {
                finish(e.code === "EPIPE" ? { kind: "written" } : { kind: "failed", code: e.code ?? "unknown error" })
            })
            s.on("close", () => finish(stopped ? { kind: "stopped" } : { kind: "written" }))
            // The callback also runs on a failure, which the "error" listener reports.
            s.end(data, (e?: Error | null) => {
                if (!e) finish({ kind: "written" })
            })
        })
    }
    attempt()
    return {
        done,
        stop() {
            if (stopped) return
            stopped = true
            if (timer !== undefined) {
                clearTimeout(timer)
                timer = undefined
                finish({ kind: "stopped" })
            }
            socket?.destroy()
        },
    }
}

function closeQuietly(fd: number): void {
    try {
        closeSync(fd)
    } catch {
        // nothing to do
    }
}
