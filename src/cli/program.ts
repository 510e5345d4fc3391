/**
 * The commander program, built fresh per run so tests get their own instance
 * (commander.js#1565): exitOverride so nothing calls process.exit, output through
 * our Io, suggestions after typos.
 */
import { Command } from "commander"
import { SOPS_VERSION } from "../core/metadata.js"
import type { Io } from "../files/io.js"
import { globalOptions } from "./options.js"
import { runNow, type Dispatch } from "./context.js"
import { registerDecrypt } from "./commands/decrypt.js"
import { registerEncrypt } from "./commands/encrypt.js"
import { registerFilestatus } from "./commands/filestatus.js"
import { registerEdit } from "./commands/edit.js"
import { registerSet } from "./commands/set.js"
import { registerUnset } from "./commands/unset.js"
import { registerRotate } from "./commands/rotate.js"
import { registerUpdatekeys } from "./commands/updatekeys.js"
import { registerGroups } from "./commands/groups.js"
import { registerExecEnv } from "./commands/exec-env.js"
import { registerExecFile } from "./commands/exec-file.js"
import { registerLegacyRoot } from "./legacy.js"
import { registerInit } from "./commands/init.js"
import { registerKeys } from "./commands/keys.js"
import { registerAccess } from "./commands/access.js"
import { registerStatus } from "./commands/status.js"
import { registerOp } from "./commands/op.js"
import { registerCompletion } from "./commands/completion.js"

export const VERSION = "0.1.0"

/** What a command reports back to main() besides throwing: the exit code (exec-* pass the child's through). */
export interface RunState {
    exitCode: number
}

export function createProgram(io: Io, state: RunState, dispatch: Dispatch = runNow, argv: readonly string[] = []): Command {
    const program = new Command("secrets")
    program
        .description("encrypt the values of YAML, JSON, dotenv and INI files with age, in the sops format")
        .version(`secrets ${VERSION} (sops ${SOPS_VERSION} format)`, "-v, --version", "print the version")
        .exitOverride()
        .configureOutput({
            writeOut: (s) => void io.stdout.write(s),
            writeErr: (s) => void io.stderr.write(s),
            // commander's "(Did you mean x?)" line becomes a hint in our voice.
            outputError: (s, write) =>
                write(
                    s
                        .trimEnd()
                        .split("\n")
                        .map((line) => {
                            const did = /^\(Did you mean (.+)\?\)$/.exec(line)
                            return did ? `secrets: hint: did you mean ${did[1]}?` : `secrets: error: ${line.replace(/^error: /, "")}`
                        })
                        .join("\n") + "\n",
                ),
        })
        .showSuggestionAfterError()
        // Root options only before the command, as sops' global flags: the legacy
        // form's -i/--output must not swallow a subcommand's own -i/--output.
        .enablePositionalOptions()
    for (const opt of globalOptions()) program.addOption(opt)
    const ctx = { io, state, dispatch, argv }
    registerEncrypt(program, ctx)
    registerDecrypt(program, ctx)
    registerEdit(program, ctx)
    registerSet(program, ctx)
    registerUnset(program, ctx)
    registerRotate(program, ctx)
    registerUpdatekeys(program, ctx)
    registerExecEnv(program, ctx)
    registerExecFile(program, ctx)
    registerFilestatus(program, ctx)
    registerGroups(program, ctx)
    registerInit(program, ctx)
    registerKeys(program, ctx)
    registerAccess(program, ctx)
    registerStatus(program, ctx)
    registerOp(program, ctx)
    registerCompletion(program, ctx)
    registerLegacyRoot(program, ctx)
    return program
}
