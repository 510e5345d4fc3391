/**
 * What every command gets: the Io, the run state, and the dispatcher that connects
 * commander's parsed arguments to the command's run function. Commands import
 * their heavy modules inside their run function, so `secrets --help` loads none.
 */
import type { Io } from "../files/io.js"

/**
 * Calls `run` with the parsed options. Production runs it; the wiring test passes a
 * dispatcher that records `(command, args, options)` instead, so the argv -> options
 * table needs no mocks of module internals (changesets' cli.test.ts, by injection).
 */
export type Dispatch = (command: string, args: readonly unknown[], opts: object, run: () => Promise<void>) => Promise<void>

export interface CommandContext {
    readonly io: Io
    readonly state: { exitCode: number }
    readonly dispatch: Dispatch
    /** The arguments as given, for the legacy form's "last mode flag wins" rule. */
    readonly argv: readonly string[]
}

export const runNow: Dispatch = (_command, _args, _opts, run) => run()
