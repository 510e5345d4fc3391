/**
 * A progress line for slow work at a terminal (issue 11 §10): `status` over a large
 * repository (a git history walk per file) and `keys backup`/`restore` (scrypt
 * takes seconds). One line on stderr, rewritten in place (`\r`, erase line) and
 * erased when the work ends, so the output that follows reads as without it.
 *
 * Only when stderr is a terminal: a script's or CI's log gets no control
 * characters and no lines it did not ask for. (fleet/rekey-repo's `progress` is
 * different on purpose: one kept line per file re-written, a record of what
 * changed.) The line names counts and steps, never a value.
 */
import type { Io } from "../files/io.js"

export interface ProgressLine {
    /** Show `secrets: <label> <done>/<total>`; redrawn only when the percentage or the label changes. */
    count(label: string, done: number, total: number): void
    /** Show `secrets: <text>` for one long step without counts. */
    step(text: string): void
    /** Erase the line; the next update draws it again. */
    clear(): void
    /**
     * The Io to hand to the work: its stderr erases the line before each write, so a
     * warning the work prints never lands on the end of the progress text.
     */
    readonly io: Io
}

/**
 * A progress line on `io.stderr`, or one that does nothing when stderr is not a
 * terminal. Counts below `minTotal` are not shown: a small repository finishes
 * before a line could be read, and would only flicker.
 */
export function progressLine(io: Io, opts: { minTotal?: number } = {}): ProgressLine {
    const minTotal = opts.minTotal ?? 1
    const stderr = io.stderr as Io["stderr"] & { columns?: number }
    if (stderr.isTTY !== true) {
        return { count: () => undefined, step: () => undefined, clear: () => undefined, io }
    }
    let shown = false
    let last = ""
    const draw = (text: string) => {
        // Wider than the terminal, the line would wrap and `\r` would no longer erase it.
        const width = typeof stderr.columns === "number" && stderr.columns > 1 ? stderr.columns - 1 : 79
        const line = text.length > width ? `${text.slice(0, width - 1)}…` : text
        stderr.write(`\r\x1b[2K${line}`)
        shown = true
    }
    const clear = () => {
        if (!shown) return
        stderr.write("\r\x1b[2K")
        shown = false
        last = ""
    }
    return {
        count(label, done, total) {
            if (total < minTotal) return
            const key = `${label}\0${Math.floor((100 * done) / Math.max(total, 1))}`
            if (key === last && shown) return
            last = key
            draw(`secrets: ${label} ${done}/${total}`)
        },
        step(text) {
            last = ""
            draw(`secrets: ${text}`)
        },
        clear,
        // io as the prototype, not spread: spreading would call nodeIo's lazy stdin
        // getter, building a stdin stream that status never reads.
        io: Object.create(io, {
            stderr: {
                value: {
                    isTTY: true,
                    write: (chunk: string | Uint8Array) => {
                        clear()
                        return stderr.write(chunk)
                    },
                },
            },
        }) as Io,
    }
}
