/**
 * The one voice of the program on stderr (style.md §5, after age's tui.go):
 * `secrets: error: …`, `secrets: hint: …`, `secrets: warning: …`, lowercase, no
 * trailing period. Unexpected errors are reported in one line too — never a stack
 * trace, which could show values held in local variables of a failed parse.
 */
import { ExitCode, SecretsError } from "../errors.js"
import type { Io } from "../files/io.js"
import type { RepoRun } from "../fleet/rekey-repo.js"

// Warnings and info lines are written by the layers below too (files/, fleet/),
// which may not import the CLI; commands keep taking all three from here.
export { info, warn } from "../files/diagnostics.js"

/** Print an error and return the exit code for it. */
export function reportError(io: Io, err: unknown, verbose = false): number {
    if (err instanceof SecretsError) {
        io.stderr.write(`secrets: error: ${oneLine(err.message)}\n`)
        for (const hint of err.hints) io.stderr.write(`secrets: hint: ${oneLine(hint)}\n`)
        return err.code
    }
    const code = (err as { code?: unknown }).code
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
        // A Node system error (ENOENT, EACCES, …): its message names the path, not contents.
        io.stderr.write(`secrets: error: ${oneLine((err as Error).message)}\n`)
        return ExitCode.Generic
    }
    io.stderr.write(`secrets: error: internal error (${err instanceof Error ? err.name : typeof err})\n`)
    io.stderr.write("secrets: hint: this is a bug in secrets; run with --verbose and report it without the file's contents\n")
    if (verbose && err instanceof Error && err.stack) {
        // Frames only: the message line of a foreign error may quote the input.
        const frames = err.stack.split("\n").filter((l) => l.trimStart().startsWith("at "))
        io.stderr.write(`${frames.join("\n")}\n`)
    }
    return ExitCode.Generic
}

/** A fleet operation's run: a file that fails is reported as an error here while the others go on. */
export function repoRun(io: Io): RepoRun {
    return { io, reportFailure: (err) => reportError(io, err) }
}

function oneLine(s: string): string {
    return s.replace(/\s*\n\s*/g, " ")
}
