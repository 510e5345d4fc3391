/**
 * A child process a test talks to while it runs: its output so far, a promise that
 * resolves once it has printed a given text (event-driven, no clock), its end, and
 * signals. A test that fails half-way leaves no such child behind.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { onTestFinished } from "vitest"

export interface WatchedProcess {
    readonly pid: number
    out(): string
    err(): string
    /** Resolves once stdout or stderr contains `text`; rejects if the process ends first. */
    saw(text: string): Promise<void>
    readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
    kill(signal: NodeJS.Signals): void
    /** Write a line to its stdin. */
    send(line: string): void
}

/** Watch `child`, spawned with stdio all "pipe". */
export function watchProcess(child: ChildProcessWithoutNullStreams): WatchedProcess {
    onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
    let out = ""
    let err = ""
    const waiters: { text: string; resolve: () => void }[] = []
    const check = (): void => {
        for (const w of [...waiters]) {
            if (out.includes(w.text) || err.includes(w.text)) {
                waiters.splice(waiters.indexOf(w), 1)
                w.resolve()
            }
        }
    }
    child.stdout.on("data", (d: Buffer) => {
        out += d.toString()
        check()
    })
    child.stderr.on("data", (d: Buffer) => {
        err += d.toString()
        check()
    })
    child.stdin.on("error", () => undefined)
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })))
    if (child.pid === undefined) throw new Error("no pid")
    return {
        pid: child.pid,
        out: () => out,
        err: () => err,
        saw: (text) =>
            new Promise<void>((resolve, reject) => {
                waiters.push({ text, resolve })
                check()
                void ended.then(() => reject(new Error(`ended without printing ${JSON.stringify(text)}: ${out} ${err}`)))
            }),
        ended,
        kill: (signal) => child.kill(signal),
        send: (line) => child.stdin.write(`${line}\n`),
    }
}
