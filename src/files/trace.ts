/**
 * `--verbose`: what the program does, one line at a time on stderr (issue 11 §6):
 * the config file used, the rule matched, the recipients by name, the identity
 * sources tried and the one that opened the file. Each line carries the time since
 * the process started, so a slow step shows where it is.
 *
 * Never a value: callers pass paths, names, public recipients and counts only. A
 * line is built only when tracing is on ({@link traceOn} guards costly messages).
 *
 * The tracer rides on the Io, as the identity options do (identity-options.ts):
 * every service that does something worth telling already receives the Io, and a
 * derived object (prototype = the original) keeps nodeIo's lazy getters intact.
 */
import type { Io } from "./io.js"

const TRACE = Symbol("verbose trace")

type Tracer = (message: string) => void

/** `io` with tracing on: lines go to its stderr as `secrets: verbose: [  12 ms] …`. */
export function withTrace<I extends Pick<Io, "stderr">>(io: I, clock: () => number = () => performance.now()): I {
    const traced = Object.create(io) as I
    const tracer: Tracer = (message) => {
        const ms = Math.round(clock())
        traced.stderr.write(`secrets: verbose: [${String(ms).padStart(5)} ms] ${message}\n`)
    }
    Object.defineProperty(traced, TRACE, { value: tracer })
    return traced
}

/** Whether `--verbose` is on for this Io. */
export function traceOn(io: object): boolean {
    return (io as { [TRACE]?: Tracer })[TRACE] !== undefined
}

/** One line of the trace, when tracing is on; nothing otherwise. */
export function trace(io: object, message: string | (() => string)): void {
    const tracer = (io as { [TRACE]?: Tracer })[TRACE]
    if (tracer !== undefined) tracer(typeof message === "string" ? message : message())
}

/**
 * Whether argv asks for `--verbose` before any `--` (after it, words belong to the
 * program that exec-env runs).
 */
export function verboseRequested(argv: readonly string[]): boolean {
    for (const word of argv) {
        if (word === "--") return false
        if (word === "--verbose") return true
    }
    return false
}
