import { Readable, Writable } from "node:stream"
import type { Dispatch } from "../../src/cli/context.js"
import type { Io } from "../../src/files/io.js"

/** One command the program would have run, as the dispatch seam saw it. */
export interface Call {
    command: string
    args: readonly unknown[]
    opts: Record<string, unknown>
}

/** A dispatcher that records calls instead of running them, and the list it fills. */
export function recorder(): { calls: Call[]; dispatch: Dispatch } {
    const calls: Call[] = []
    return {
        calls,
        dispatch: async (command, args, opts) => {
            calls.push({ command, args, opts: opts as Record<string, unknown> })
        },
    }
}

/** An Io with no stdin, a discarded stdout, and stderr captured as text. */
export function quietIo(env: Record<string, string> = {}): Io & { err: () => string } {
    let err = ""
    return {
        cwd: "/tmp",
        env,
        stdin: Readable.from([]),
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr: { write: (s: string | Uint8Array) => ((err += String(s)), true) },
        now: () => new Date(0),
        err: () => err,
    }
}
