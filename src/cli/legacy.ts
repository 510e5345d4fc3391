/**
 * The legacy root form that many scripts still call (sops-format.md §10):
 * `secrets -d FILE`, `secrets -e -i FILE`, `secrets -r FILE`,
 * `secrets --set '["a"] "v"' FILE`, and `secrets FILE` meaning edit. Each maps onto
 * the same run function as the subcommand, so there is one implementation.
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { CommandContext } from "./context.js"
import * as o from "./options.js"
import { warn } from "./report.js"

const MODES = ["encrypt", "decrypt", "rotate", "set"] as const
type Mode = (typeof MODES)[number] | "edit"

const MODE_FLAGS: Record<string, Mode> = { "-e": "encrypt", "--encrypt": "encrypt", "-d": "decrypt", "--decrypt": "decrypt", "-r": "rotate", "--rotate": "rotate", "--set": "set" }

export function registerLegacyRoot(program: Command, ctx: CommandContext): void {
    program
        .argument("[file]", "legacy form: the file to edit, or to work on with -e/-d/-r/--set")
        .addOption(new Option("-e, --encrypt", "legacy form of `secrets encrypt`").hideHelp())
        .addOption(new Option("-d, --decrypt", "legacy form of `secrets decrypt`").hideHelp())
        .addOption(new Option("-r, --rotate", "legacy form of `secrets rotate`").hideHelp())
        .addOption(new Option("--set <expr>", `legacy form of \`secrets set\`: '["key"] VALUE'`).hideHelp())
        .addOption(o.inPlace().hideHelp())
        .addOption(o.output().hideHelp())
        .addOption(o.extract().hideHelp())
        .addOption(o.inputType().hideHelp())
        .addOption(o.outputType().hideHelp())
        .addOption(o.ignoreMac().hideHelp())
        .addOption(o.age().hideHelp())
        .addOption(new Option("--add-age <recipients>").hideHelp())
        .addOption(new Option("--rm-age <recipients>").hideHelp())
        .addOption(o.filenameOverride().hideHelp())
        .addOption(o.decryptionOrder().hideHelp())
        .addOption(o.shamirThreshold().hideHelp())
    for (const opt of o.ruleOptions()) program.addOption(opt.hideHelp())
    // Excess arguments are checked in the action: `secrets get FILE KEY` is an unknown
    // command, not "too many arguments" for the legacy FILE form.
    program.allowExcessArguments(true)
    program.action(async (file: string | undefined, _opts: unknown, cmd: Command) => {
        const opts = o.withEnvDefaults(cmd.opts<Record<string, unknown> & { age?: string; decryptionOrder?: string; config?: string }>(), ctx.io.env)
        const mode = legacyMode(ctx.argv, (m) => warn(ctx.io, m))
        if (cmd.args.length > 1) {
            if (mode === "edit" && file !== undefined) await refuseCommandTypo(ctx, program, file)
            throw new SecretsError(ExitCode.Generic, `too many arguments: expected one file, got ${cmd.args.length}`, ["usage: secrets [-e|-d|-r|--set EXPR] FILE, or see secrets --help"])
        }
        if (file === undefined) {
            if (mode === "edit") cmd.help({ error: false })
            throw new SecretsError(ExitCode.NoFileSpecified, "no file given", ["usage: secrets [-e|-d|-r|--set EXPR] FILE, or see secrets --help"])
        }
        await ctx.dispatch(mode === "edit" ? "edit (legacy)" : `${mode} (legacy)`, [file], opts, () => runLegacy(ctx, program, mode, file, opts))
    })
}

/** The mode flags in argv order; several is a warning and the last one wins, as in sops. */
export function legacyMode(argv: readonly string[], onWarning: (m: string) => void): Mode {
    const seen: Mode[] = []
    for (const arg of argv) {
        if (arg === "--") break
        const flag = arg.startsWith("--set=") ? "--set" : arg
        const mode = MODE_FLAGS[flag]
        if (mode !== undefined) seen.push(mode)
    }
    if (seen.length > 1) onWarning(`several modes given (${seen.join(", ")}); using the last one, ${seen[seen.length - 1]}`)
    return seen[seen.length - 1] ?? "edit"
}

/** `'["a"]["b"] VALUE'`: the index up to the last `]` before the first space after it, then the JSON value. */
export function splitSetExpression(expr: string): { index: string; value: string } {
    const m = /^\s*((?:\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])+)\s+([\s\S]+)$/.exec(expr)
    if (!m) {
        throw new SecretsError(ExitCode.InvalidSetFormat, "invalid --set expression: expected an index and a JSON value", [
            `for example: --set '["db"]["password"] "new value"'`,
        ])
    }
    return { index: m[1]!, value: m[2]! }
}

async function runLegacy(ctx: CommandContext, program: Command, mode: Mode, file: string, opts: Record<string, unknown>): Promise<void> {
    switch (mode) {
        case "encrypt":
            return (await import("./commands/encrypt.js")).runEncrypt(ctx, file, opts)
        case "decrypt":
            return (await import("./commands/decrypt.js")).runDecrypt(ctx, file, opts)
        case "rotate":
            return (await import("./commands/rotate.js")).runRotate(ctx, file, opts)
        case "set": {
            const { index, value } = splitSetExpression(String(opts.set))
            return (await import("./commands/set.js")).runSet(ctx, file, index, value, opts)
        }
        case "edit": {
            await refuseCommandTypo(ctx, program, file)
            return (await import("./commands/edit.js")).runEdit(ctx, file, opts)
        }
    }
}

/**
 * `secrets FILE` edits FILE, creating it when missing — so `secrets decrpyt` would
 * quietly start a new file called "decrpyt". A missing file whose name looks like a
 * mistyped command gets the unknown-command error instead.
 */
async function refuseCommandTypo(ctx: CommandContext, program: Command, file: string): Promise<void> {
    if (/[./\\]/.test(file)) return
    const { existsSync } = await import("node:fs")
    const { resolve } = await import("node:path")
    if (existsSync(resolve(ctx.io.cwd, file))) return
    const { unknownCommandHints } = await import("./command-suggestions.js")
    const names = program.createHelp().visibleCommands(program).map((c) => c.name())
    throw new SecretsError(ExitCode.Generic, `unknown command ${quote(file)}`, [
        ...unknownCommandHints(file, { path: "", names }),
        "to create a new file, give it an extension: secrets NAME.yaml",
    ])
}
