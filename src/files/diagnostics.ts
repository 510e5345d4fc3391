/**
 * Warnings and progress lines on stderr, in the program's one voice (style.md §5,
 * after age's tui.go): `secrets: warning: …` and `secrets: …`, lowercase, no
 * trailing period. They live below the CLI because the file services and the fleet
 * operations speak while they work (a lock being waited for, a file skipped); how
 * an error ends a command (`secrets: error: …`, the exit code) stays in
 * cli/report.ts.
 */
import type { Io } from "./io.js"

export function warn(io: Pick<Io, "stderr">, message: string): void {
    io.stderr.write(`secrets: warning: ${message}\n`)
}

export function info(io: Pick<Io, "stderr">, message: string): void {
    io.stderr.write(`secrets: ${message}\n`)
}

/** A hint after a warning: what to do about it. */
export function hint(io: Pick<Io, "stderr">, message: string): void {
    io.stderr.write(`secrets: hint: ${message}\n`)
}
