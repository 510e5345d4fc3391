/**
 * Progress lines of a repo-wide command, written a batch at a time when nobody
 * watches them live (issue 14 target 5): a re-key of 1,000 files printed 1,000
 * lines one write each, and a write to a pipe cost 40-250 µs of the main thread on
 * the bench machine, up to a tenth of the run. At a terminal every line is written
 * at once, as before. Elsewhere lines wait until 64 are collected or 200 ms have
 * passed, and `flush` writes them before anything else is said (an error report,
 * the summary), so the order of everything on stderr is the order it was said in.
 */
import type { Io } from "../files/io.js"

const MAX_LINES = 64
const MAX_DELAY_MS = 200

export interface ProgressLines {
    /** A stand-in for `io` to hand to progress(); its stderr collects the lines. */
    readonly io: Pick<Io, "stderr">
    /** Write what was collected. */
    flush(): void
}

export function progressLines(io: Pick<Io, "stderr">): ProgressLines {
    if (io.stderr.isTTY === true) return { io, flush: () => undefined }
    let lines: string[] = []
    let timer: NodeJS.Timeout | undefined
    const flush = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        timer = undefined
        if (lines.length === 0) return
        const text = lines.join("")
        lines = []
        io.stderr.write(text)
    }
    const write = (chunk: string | Uint8Array): boolean => {
        lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
        if (lines.length >= MAX_LINES) flush()
        else if (timer === undefined) {
            timer = setTimeout(flush, MAX_DELAY_MS)
            // A pending batch must not keep a finished command alive; the command flushes before it ends.
            timer.unref()
        }
        return true
    }
    return { io: { stderr: { write, isTTY: false } }, flush }
}
