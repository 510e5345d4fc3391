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
import { attachAuditCollector } from "./files/audit-collector.js"
import { isAudited, recordRun, type DispatchedCommand } from "./cli/audit-record.js"

export async function main(argv: readonly string[], plainIo: Io, dispatch?: Dispatch): Promise<number> {
    const verbose = verboseRequested(argv)
    const io = verbose ? withTrace(plainIo) : plainIo
    const code = await run(argv, io, verbose, dispatch)
    trace(io, `done: exit status ${code}`)
    return code
}

async function run(argv: readonly string[], plainIo: Io, verbose: boolean, dispatch?: Dispatch): Promise<number> {
    const state: RunState = { exitCode: ExitCode.Ok }
    // The audit record (issue 16 §1): the dispatched command is noted, run, and
    // recorded with its exit status once that is known (cli/audit-record.ts).
    const io = Object.create(plainIo) as Io
    const collector = attachAuditCollector(io)
    let dispatched: DispatchedCommand | undefined
    const inner = dispatch ?? ((_c, _a, _o, go) => go())
    const noting: Dispatch = (command, args, opts, go) => {
        dispatched = { command, args, opts, startedMs: performance.now() }
        return inner(command, args, opts, go)
    }
    const program = createProgram(io, state, noting, argv)
    let code: number
    try {
        await program.parseAsync([...argv], { from: "user" })
        code = state.exitCode
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and --version end with exit code 0. Usage errors were printed by
            // commander through configureOutput; sops exits 1 for them (urfave/cli's
            // error reaches log.Fatal), and 2 already means "could not read input".
            return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Generic
        }
        code = reportError(io, err, verbose)
    }
    // Only a command that really ran (a test's recording dispatcher runs nothing).
    if (dispatched !== undefined && dispatch === undefined && isAudited(dispatched.command)) await recordRun(io, dispatched, collector, code)
    return code
}
