/**
 * Everything a command needs from the outside world, passed in so that commands can
 * run in tests against a temp dir and captured streams (changesets' `cwd` injection,
 * style.md §4a).
 */
import { ExitCode } from "../errors.js"

export interface Io {
    readonly cwd: string
    readonly env: Readonly<Record<string, string | undefined>>
    readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean }
    readonly stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean }
    readonly stderr: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean }
    /** The current time; tests pin it so that `lastmodified` is predictable. */
    now(): Date
}

export function nodeIo(): Io {
    tolerateBrokenPipe(process.stdout)
    tolerateBrokenPipe(process.stderr)
    return {
        cwd: process.cwd(),
        env: process.env,
        // A getter: touching process.stdin builds a stream (and, for a pipe, a socket),
        // which commands that never read it should not pay for at start-up.
        get stdin() {
            return process.stdin
        },
        stdout: process.stdout,
        stderr: process.stderr,
        now: () => {
            // SECRETS_NOW pins the clock for reproducible output in tests and demos.
            const pinned = process.env.SECRETS_NOW
            return pinned ? new Date(pinned) : new Date()
        },
    }
}

/**
 * A reader that stops early (`secrets decrypt f | head`) closes the pipe, and Node
 * reports the next write as an EPIPE 'error' event, which unhandled is a stack
 * trace. sops, a Go program, is killed by SIGPIPE there, which the shell reports as
 * 141. We end with that status too, but without dying mid-command: the command
 * finishes (a rotation printing progress is not cut between two files), later
 * writes to the broken stream are dropped, and the status is set on exit, unless
 * the command failed with its own code.
 */
function tolerateBrokenPipe(stream: NodeJS.WriteStream): void {
    let broken = false
    stream.on("error", (e: NodeJS.ErrnoException) => {
        // After EPIPE the stream is destroyed, and each later write reports that.
        if (e.code === "EPIPE" || (broken && e.code === "ERR_STREAM_DESTROYED")) {
            if (!broken) process.once("exit", () => {
                if (!process.exitCode) process.exitCode = ExitCode.BrokenPipe
            })
            broken = true
            return
        }
        throw e
    })
}

/** Read all of standard input. */
export async function readStdin(io: Io): Promise<Uint8Array> {
    const chunks: Buffer[] = []
    for await (const chunk of io.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array))
    return Buffer.concat(chunks)
}
