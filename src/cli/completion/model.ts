/**
 * The completion model: the commander program reduced to plain data (commands,
 * their options with flags, values and choices, their positional arguments). Shell
 * completion is computed from this and nothing else, so a command or flag added to
 * the program (issue 5's `op …` group, say) is completed without an edit here.
 *
 * The model is plain JSON on purpose: scripts/bundle.mjs writes it to
 * dist/completion-model.json at build time, and bin/secrets.cjs answers `__complete`
 * from that file without loading commander and every command module (issue 6:
 * the callback must answer well under 100 ms).
 */
import type { Argument, Command, Option } from "commander"

/** How an option takes its value: `--flag`, `--flag <v>`, `--flag [v]`. */
export type OptionValue = "none" | "required" | "optional"

export interface ModelOption {
    /** Every spelling, long first: `["--in-place", "-i"]`. */
    readonly flags: readonly string[]
    readonly value: OptionValue
    /** The placeholder without brackets: `format` for `--input-type <format>`. */
    readonly valueName?: string
    readonly choices?: readonly string[]
    readonly description: string
    /** Hidden from help (the legacy root flags): offered only once the user typed a letter of it. */
    readonly hidden: boolean
}

export interface ModelArgument {
    readonly name: string
    readonly required: boolean
    readonly variadic: boolean
    readonly choices?: readonly string[]
}

export interface ModelCommand {
    readonly name: string
    readonly aliases: readonly string[]
    readonly description: string
    readonly hidden: boolean
    readonly options: readonly ModelOption[]
    readonly arguments: readonly ModelArgument[]
    readonly commands: readonly ModelCommand[]
}

/**
 * Walk a commander program. Hidden commands (such as `__complete` itself) are left
 * out; commander's implicit help command and `-h, --help` option are put in, since
 * the user can type them. Visibility comes from commander's own Help class, the only
 * public API that knows which commands are hidden.
 */
export function buildModel(cmd: Command): ModelCommand {
    const help = cmd.createHelp()
    const visibleCommands = help.visibleCommands(cmd)
    const visibleOptions = help.visibleOptions(cmd)
    // The help option is not in cmd.options; Help lists it (as does --version, which is).
    const options = [...cmd.options, ...visibleOptions.filter((o) => !cmd.options.includes(o))]
    const subcommands = [...cmd.commands.filter((c) => visibleCommands.includes(c)), ...visibleCommands.filter((c) => !cmd.commands.includes(c))]
    return {
        name: cmd.name(),
        aliases: cmd.aliases(),
        description: cmd.description(),
        hidden: false,
        options: options.map((o) => modelOption(o, !visibleOptions.includes(o))),
        arguments: cmd.registeredArguments.map(modelArgument),
        // The implicit help command has no subcommands of its own; its argument is a command name.
        commands: subcommands.map((c) => (cmd.commands.includes(c) ? buildModel(c) : helpCommand(c))),
    }
}

function helpCommand(c: Command): ModelCommand {
    return { name: c.name(), aliases: [], description: c.description(), hidden: false, options: [], arguments: [{ name: "command", required: false, variadic: false }], commands: [] }
}

function modelOption(o: Option, hidden: boolean): ModelOption {
    const flags = [o.long, o.short].filter((f): f is string => f !== undefined && f !== "")
    const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)
    return {
        flags,
        value: o.required ? "required" : o.optional ? "optional" : "none",
        ...(placeholder?.[1] !== undefined ? { valueName: placeholder[1].replace(/\.\.\.$/, "") } : {}),
        ...(o.argChoices !== undefined ? { choices: [...o.argChoices] } : {}),
        description: o.description,
        hidden,
    }
}

function modelArgument(a: Argument): ModelArgument {
    return {
        name: a.name(),
        required: a.required,
        variadic: a.variadic,
        ...(a.argChoices !== undefined ? { choices: [...a.argChoices] } : {}),
    }
}

/** The subcommand of `cmd` called `word` (by name or alias). */
export function findCommand(cmd: ModelCommand, word: string): ModelCommand | undefined {
    return cmd.commands.find((c) => c.name === word || c.aliases.includes(word))
}

/** The option of `cmd` spelled `flag` (`--output`, `-i`). */
export function findOption(cmd: ModelCommand, flag: string): ModelOption | undefined {
    return cmd.options.find((o) => o.flags.includes(flag))
}
