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
import { registerRotateValue } from "./commands/rotate-value.js"
import { registerUpdatekeys } from "./commands/updatekeys.js"
import { registerGroups } from "./commands/groups.js"
import { registerExecEnv } from "./commands/exec-env.js"
import { registerExecFile } from "./commands/exec-file.js"
import { registerRender } from "./commands/render.js"
import { registerRun } from "./commands/run.js"
import { registerGet } from "./commands/get.js"
import { registerCi } from "./commands/ci.js"
import { registerImport } from "./commands/import.js"
import { registerExport } from "./commands/export.js"
import { registerLs } from "./commands/ls.js"
import { registerLegacyRoot } from "./legacy.js"
import { registerInit } from "./commands/init.js"
import { registerKeys } from "./commands/keys.js"
import { registerAccess } from "./commands/access.js"
import { registerStatus } from "./commands/status.js"
import { registerOp } from "./commands/op.js"
import { registerAudit } from "./commands/audit.js"
import { registerMetrics } from "./commands/metrics.js"
import { registerCompletion } from "./commands/completion.js"
import { registerDeploy } from "./commands/deploy.js"
import { registerGit } from "./commands/git.js"
import { registerScan } from "./commands/scan.js"
import { registerLog } from "./commands/log.js"
import { registerShow } from "./commands/show.js"
import { registerRestore } from "./commands/restore.js"
import { registerAgent } from "./commands/agent.js"
import { unknownCommandHints } from "./command-suggestions.js"

export const VERSION = "0.1.0"

/** What a command reports back to main() besides throwing: the exit code (exec-* pass the child's through). */
export interface RunState {
    exitCode: number
}

/**
 * Every command of the program and its subcommands (createCommand makes them all),
 * so that an unknown subcommand (`secrets keys rm`) is answered by the same rule as
 * an unknown command (src/cli/command-suggestions.ts) instead of commander's edit
 * distance alone, which told `get` to try `set`.
 */
class SecretsCommand extends Command {
    override createCommand(name?: string): Command {
        return new SecretsCommand(name)
    }

    /** Replaces commander's own (command.js unknownCommand), which a subclass may override. */
    unknownCommand(): never {
        const word = String(this.args[0] ?? "")
        const names = this.createHelp().visibleCommands(this).map((c) => c.name())
        const hints = unknownCommandHints(word, { path: this.parent === null ? "" : this.name(), names })
        const where = this.parent === null ? "" : ` for ${JSON.stringify(`secrets ${this.name()}`)}`
        this.error([`error: unknown command ${JSON.stringify(word)}${where}`, ...hints.map((h) => `hint: ${h}`)].join("\n"), { code: "commander.unknownCommand" })
    }
}

export function createProgram(io: Io, state: RunState, dispatch: Dispatch = runNow, argv: readonly string[] = []): Command {
    const program: Command = new SecretsCommand("secrets")
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
                            if (did) return `secrets: hint: did you mean ${did[1]}?`
                            // Root flags go before the command (enablePositionalOptions below, as in sops).
                            const root = /^error: unknown option '(--config|--indent|--mac-only-encrypted|--verbose)'/.exec(line)
                            if (root) return `secrets: error: ${line.slice(7)}\nsecrets: hint: ${root[1]} goes before the command: secrets ${root[1]}${root[1] === "--config" || root[1] === "--indent" ? " …" : ""} <command> …`
                            return line.startsWith("hint: ") ? `secrets: ${line}` : `secrets: error: ${line.replace(/^error: /, "")}`
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
    registerRotateValue(program, ctx)
    registerUpdatekeys(program, ctx)
    registerExecEnv(program, ctx)
    registerExecFile(program, ctx)
    registerRender(program, ctx)
    registerRun(program, ctx)
    registerGet(program, ctx)
    registerCi(program, ctx)
    registerImport(program, ctx)
    registerExport(program, ctx)
    registerLs(program, ctx)
    registerFilestatus(program, ctx)
    registerGroups(program, ctx)
    registerInit(program, ctx)
    registerKeys(program, ctx)
    registerAccess(program, ctx)
    registerStatus(program, ctx)
    registerOp(program, ctx)
    registerDeploy(program, ctx)
    registerGit(program, ctx)
    registerScan(program, ctx)
    registerLog(program, ctx)
    registerShow(program, ctx)
    registerRestore(program, ctx)
    registerAgent(program, ctx)
    registerAudit(program, ctx)
    registerMetrics(program, ctx)
    registerCompletion(program, ctx)
    registerLegacyRoot(program, ctx)
    return program
}
