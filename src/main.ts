/**
 * The program as a function: argv in, exit code out. Only bin.ts ends the process.
 */
import { CommanderError } from "commander"
import { ExitCode } from "./errors.js"
import { createProgram, type RunState } from "./cli/program.js"
import type { Io } from "./files/io.js"
import type { Dispatch } from "./cli/context.js"
import { reportError } from "./cli/report.js"
import { trace, verboseRequested, withTrace } from "./files/trace.js"

export async function main(argv: readonly string[], plainIo: Io, dispatch?: Dispatch): Promise<number> {
    const verbose = verboseRequested(argv)
    const io = verbose ? withTrace(plainIo) : plainIo
    const code = await run(argv, io, verbose, dispatch)
    trace(io, `done: exit status ${code}`)
    return code
}

async function run(argv: readonly string[], io: Io, verbose: boolean, dispatch?: Dispatch): Promise<number> {
    const state: RunState = { exitCode: ExitCode.Ok }
    const program = createProgram(io, state, dispatch, argv)
    try {
        await program.parseAsync([...argv], { from: "user" })
        return state.exitCode
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and --version end with exit code 0. Usage errors were printed by
            // commander through configureOutput; sops exits 1 for them (urfave/cli's
            // error reaches log.Fatal), and 2 already means "could not read input".
            return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Generic
        }
        return reportError(io, err, verbose)
    }
}
