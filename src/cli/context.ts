/**
 * What every command gets: the Io and the run state. Commands import their heavy
 * modules inside their action, so `secrets --help` loads none of them.
 */
import type { Io } from "./io.js"

export interface CommandContext {
    readonly io: Io
    readonly state: { exitCode: number }
}
