/**
 * The fast path's Io: nodeIo (files/io.ts) without building process.stdout and
 * process.stderr. Those getters make a stream per descriptor (a socket stream, net
 * and the stream modules on a pipe; a SyncWriteStream on a file): a few ms of a
 * start-up whose target is 1.6× `node -e 0` (issue 14 target 2), for the one or two
 * writes a decrypt makes. Here each write is a writeSync on the descriptor.
 *
 * The program's rules stay: a reader that is gone (EPIPE) ends the run with status
 * 141 once the command is done, unless it failed with its own code, and later
 * writes are dropped (nodeIo's tolerateBrokenPipe); a descriptor that refuses a
 * write for any other reason (EAGAIN on a pipe someone made non-blocking, EBADF,
 * …) hands that write and every later one to the real stream, which behaves as
 * in the full program. isTTY and stdin stay lazy getters of the real streams.
 */
import { writeSync } from "node:fs"
import { ExitCode } from "../../errors.js"
import type { Io } from "../../files/io.js"

type Std = "stdout" | "stderr"

/** A writer for fd 1 or 2 with the broken-pipe rule of nodeIo. */
export function fdWriter(fd: 1 | 2, name: Std): { write(chunk: string | Uint8Array): boolean; readonly isTTY: boolean | undefined; readonly stream: NodeJS.WriteStream } {
    let stream: NodeJS.WriteStream | undefined
    let broken = false
    const onBroken = (): void => {
        if (broken) return
        broken = true
        process.once("exit", () => {
            if (!process.exitCode) process.exitCode = ExitCode.BrokenPipe
        })
    }
    const toStream = (): NodeJS.WriteStream => {
        if (stream === undefined) {
            stream = process[name]
            // As nodeIo: an EPIPE on the stream ends as 141, not as an unhandled 'error'.
            stream.on("error", (e: NodeJS.ErrnoException) => {
                if (e.code === "EPIPE" || (broken && e.code === "ERR_STREAM_DESTROYED")) {
                    onBroken()
                    return
                }
                throw e
            })
        }
        return stream
    }
    return {
        write(chunk) {
            if (broken) return false
            if (stream !== undefined) return stream.write(chunk)
            const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk
            let written = 0
            try {
                while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
                return true
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code === "EPIPE") {
                    onBroken()
                    return false
                }
                return toStream().write(written === 0 ? bytes : bytes.subarray(written))
            }
        },
        get isTTY() {
            return (stream ?? process[name]).isTTY
        },
        /** The real stream, for the passphrase prompt (node-identities.ts); later writes go through it too. */
        get stream() {
            return toStream()
        },
    }
}

/** nodeIo's Io with {@link fdWriter}s for stdout and stderr. */
export function hotIo(): Io {
    return {
        cwd: process.cwd(),
        env: process.env,
        // As nodeIo: touching process.stdin builds a stream, which decrypt never needs.
        get stdin() {
            return process.stdin
        },
        stdout: fdWriter(1, "stdout"),
        stderr: fdWriter(2, "stderr"),
        now: () => {
            // SECRETS_NOW pins the clock, as in nodeIo.
            const pinned = process.env.SECRETS_NOW
            return pinned ? new Date(pinned) : new Date()
        },
    }
}
