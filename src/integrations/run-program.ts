/**
 * Running the command of `secrets run` (issue 13 point 1): argv executed directly,
 * no shell, so a value or argument holding `$(…)` or `;` stays text. The
 * environment is exactly the caller's (nothing added). Exit status and signals
 * pass through as in exec.ts: the child's status, or 128 + the signal number;
 * SIGTERM, SIGHUP and SIGQUIT are forwarded, SIGINT is left to the terminal
 * (the child is in our process group and gets it already).
 *
 * With output filters (the masker), the child's stdout and stderr are pipes
 * through them into ours, and we return only once both are drained, so the last
 * bytes a masker held back are written before we exit. stdin is always
 * inherited: with a terminal on stdin the child keeps reading from it.
 *
 * The pipes are pumped by hand, each read handed to the filter and its pieces
 * written on, not through pipeline() and a Transform: on a 50 MB log the stream
 * machinery between the two pipes cost about as much as masking itself (issue 13:
 * masking within 2× a plain pipe).
 */
import type { Readable, Writable } from "node:stream"
import { constants as osConstants } from "node:os"
import { execa } from "execa"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { relaySignals } from "./exec.js"

export interface RunProgramOptions {
    readonly env: Readonly<Record<string, string>>
    readonly cwd?: string
    /** When given, stdout and stderr go through a fresh filter each, into these streams. */
    readonly filter?: {
        readonly make: () => OutputFilter
        readonly stdout: Writable
        readonly stderr: Writable
    }
}

/** A filter over one output (the masker): it appends the bytes that are final to `parts`. */
export interface OutputFilter {
    pushParts(chunk: Uint8Array, parts: Uint8Array[]): void
    endParts(parts: Uint8Array[]): void
}

export interface ProgramResult {
    /** Its exit status, or 128 + the signal number. */
    readonly exitCode: number
    readonly signal?: string
}

export async function runProgram(file: string, args: readonly string[], opts: RunProgramOptions): Promise<ProgramResult> {
    const filter = opts.filter
    // Signals are relayed before the child starts (as exec.ts's runShell): a SIGTERM
    // or Ctrl-C in the gap between the spawn and the handlers would otherwise kill
    // us with the default action, leaving the program running unsupervised and its
    // status lost. One caught during the spawn is dispatched by the event loop
    // afterwards, when `child` is set.
    let child: { kill(signal: NodeJS.Signals): unknown } | undefined
    const stopRelaying = relaySignals({ kill: (signal) => child?.kill(signal) })
    let sub: ReturnType<typeof startProgram>
    try {
        sub = startProgram(file, args, opts)
    } catch (e) {
        stopRelaying()
        throw e
    }
    child = sub
    const pipes: Promise<void>[] = []
    if (filter !== undefined && sub.stdout !== null && sub.stderr !== null) {
        pipes.push(pump(sub.stdout, filter.make(), filter.stdout))
        pipes.push(pump(sub.stderr, filter.make(), filter.stderr))
    }
    try {
        const result = await sub
        // A reader that went away (EPIPE on our stdout) must not turn into a crash.
        await Promise.allSettled(pipes)
        if (result.signal !== undefined) {
            return { exitCode: 128 + osConstants.signals[result.signal], signal: result.signal }
        }
        if (result.exitCode !== undefined) return { exitCode: result.exitCode }
        throw startError(file, result)
    } finally {
        stopRelaying()
    }
}

/** The program, with no shell, its output on our pipes when there is a filter. */
function startProgram(file: string, args: readonly string[], opts: RunProgramOptions) {
    const filter = opts.filter
    return execa(file, [...args], {
        env: opts.env,
        extendEnv: false,
        shell: false,
        reject: false,
        // Our own pipes carry the output; execa must not buffer it in memory too.
        buffer: false,
        stdin: "inherit",
        stdout: filter === undefined ? "inherit" : "pipe",
        stderr: filter === undefined ? "inherit" : "pipe",
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    })
}

/**
 * `from` through `filter` into `to`, with backpressure; `to` is not ended (our
 * stdout/stderr stay open for the error line we may print). Settles once `from`
 * ended and every write, the filter's last bytes included, has been taken by `to`
 * (an asynchronous stdout must not lose them when we exit), or once `to` broke (the
 * reader went away: EPIPE): then `from` is closed too, so the child meets a closed
 * pipe and stops as it would writing straight into ours.
 */
export function pump(from: Readable, filter: OutputFilter, to: Writable): Promise<void> {
    return new Promise((resolve) => {
        const parts: Uint8Array[] = []
        let inFlight = 0
        let ended = false
        let settled = false
        const finish = (): void => {
            if (settled) return
            settled = true
            to.off("close", broken)
            to.off("error", broken)
            resolve()
        }
        function broken(): void {
            from.destroy()
            finish()
        }
        const written = (): void => {
            inFlight--
            if (ended && inFlight === 0) finish()
        }
        // One write per read, as the child made it: a marker never reaches a terminal
        // apart from the text around it. Mostly that is the read itself, uncopied.
        const writeParts = (): boolean => {
            const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
            parts.length = 0
            if (out.length === 0) return true
            inFlight++
            return to.write(out, written)
        }
        to.on("close", broken)
        to.on("error", broken)
        // Broken already (an earlier write met EPIPE): no 'close' is coming.
        if (to.destroyed) return broken()
        from.on("data", (chunk: Buffer) => {
            filter.pushParts(chunk, parts)
            if (!writeParts() && !to.destroyed) {
                from.pause()
                to.once("drain", () => from.resume())
            }
        })
        from.once("end", () => {
            filter.endParts(parts)
            writeParts()
            ended = true
            if (inFlight === 0) finish()
        })
        // The child's pipe failing is the child's business; its exit status tells.
        from.once("error", finish)
    })
}

function startError(file: string, e: unknown): SecretsError {
    const code = (e as { code?: unknown }).code
    if (code === "ENOENT") {
        return new SecretsError(ExitCode.Generic, `could not start ${quote(file)}: no such program`, [
            "the command runs without a shell: give a program on PATH or its path, and write `sh -c '…'` for shell syntax",
        ])
    }
    return new SecretsError(ExitCode.Generic, `could not start ${quote(file)}${typeof code === "string" ? ` (${code})` : ""}`)
}
