/**
 * The commander program, built fresh per run so tests get their own instance
 * (commander.js#1565): exitOverride so nothing calls process.exit, output through
 * our Io, suggestions after typos.
 */
import { Command } from "commander"
import { SOPS_VERSION } from "../core/metadata.js"
import type { Io } from "./io.js"

export const VERSION = "0.1.0"

/** What a command reports back to main() besides throwing: the exit code (exec-* pass the child's through). */
export interface RunState {
    exitCode: number
}

export function createProgram(io: Io, state: RunState): Command {
    const program = new Command("secrets")
    program
        .description("encrypt the values of YAML, JSON, dotenv and INI files with age, in the sops format")
        .version(`secrets ${VERSION} (sops ${SOPS_VERSION} format)`, "-v, --version", "print the version")
        .exitOverride()
        .configureOutput({
            writeOut: (s) => void io.stdout.write(s),
            writeErr: (s) => void io.stderr.write(s),
            outputError: (s, write) => write(`secrets: error: ${s.replace(/^error: /, "")}`),
        })
        .showSuggestionAfterError()
    void state
    return program
}
