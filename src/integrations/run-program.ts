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
 */
import type { Transform, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { constants as osConstants } from "node:os"
import { execa } from "execa"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { relaySignals } from "./exec.js"

export interface RunProgramOptions {
    readonly env: Readonly<Record<string, string>>
    readonly cwd?: string
    /** When given, stdout and stderr go through a fresh filter each, into these streams. */
    readonly filter?: {
        readonly make: () => Transform
        readonly stdout: Writable
        readonly stderr: Writable
    }
}

export interface ProgramResult {
    /** Its exit status, or 128 + the signal number. */
    readonly exitCode: number
    readonly signal?: string
}

export async function runProgram(file: string, args: readonly string[], opts: RunProgramOptions): Promise<ProgramResult> {
    const filter = opts.filter
    const sub = execa(file, [...args], {
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
    const pipes: Promise<void>[] = []
    if (filter !== undefined && sub.stdout !== null && sub.stderr !== null) {
        // `end: false`: our stdout/stderr stay open for the error line we may print.
        pipes.push(pipeline(sub.stdout, filter.make(), filter.stdout, { end: false }))
        pipes.push(pipeline(sub.stderr, filter.make(), filter.stderr, { end: false }))
    }
    const stopRelaying = relaySignals(sub)
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

function startError(file: string, e: unknown): SecretsError {
    const code = (e as { code?: unknown }).code
    if (code === "ENOENT") {
        return new SecretsError(ExitCode.Generic, `could not start ${quote(file)}: no such program`, [
            "the command runs without a shell: give a program on PATH or its path, and write `sh -c '…'` for shell syntax",
        ])
    }
    return new SecretsError(ExitCode.Generic, `could not start ${quote(file)}${typeof code === "string" ? ` (${code})` : ""}`)
}
