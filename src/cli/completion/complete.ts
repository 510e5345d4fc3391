/**
 * What to offer at the cursor: the words typed so far are walked against the
 * completion model as commander would parse them, then the slot under the cursor
 * (a subcommand, a flag, a flag's value, a positional argument) picks its source.
 * Pure: the dynamic sources (encrypted files, key paths, key names) are injected.
 */
import { findCommand, findOption, type ModelArgument, type ModelCommand, type ModelOption } from "./model.js"

export interface Candidate {
    readonly value: string
    readonly description?: string
}

export interface Completion {
    readonly candidates: readonly Candidate[]
    /** Let the shell complete file names too (nothing of ours fits, or the slot is any path). */
    readonly files: boolean
}

/** The candidates that need the file system; each must be fast and must never decrypt. */
export interface CompletionSources {
    /** sops files under the working directory, relative to it. */
    encryptedFiles(): Found
    /** Key paths of `file` in the `["a"]["b"]` index syntax of set/unset/--extract. */
    keyPaths(file: string): Found
    /** Named keys of the `.sops.yaml` (`--config` when given). */
    keyNames(config: string | undefined): Found
    /** Profiles declared under `secrets.profiles` of the `.sops.yaml`. */
    profileNames(config: string | undefined): Found
}

type Found = readonly Candidate[] | Promise<readonly Candidate[]>

type Source = "encrypted-file" | "path" | "key-path" | "key-name" | "profile-name" | "command" | "none"

/**
 * Slots whose meaning the argument's name alone does not tell. Keys are the command
 * path and the argument name, or the command path and the option's long flag.
 * Anything not listed falls back on the name: `file`/`files` arguments are encrypted
 * files, `<file>`/`<path>` option values any path, the rest nothing.
 */
const SOURCES: Readonly<Record<string, Source>> = {
    // encrypt takes a plaintext file, restore a backup bundle: not sops files.
    "encrypt file": "path",
    "keys restore file": "path",
    "set index": "key-path",
    "unset index": "key-path",
    // A new name is expected: offering the names already taken would only invite a
    // refusal ("already has a key named ..."), so nothing is offered, files neither.
    "keys add-user name": "none",
    "keys add-host name": "none",
    "keys remove name": "key-name",
    "keys revoke name": "key-name",
    "keys rotate name": "key-name",
    "help command": "command",
    "exec-env command": "none",
    "exec-file command": "none",
    // A template is a plain text file, not a sops file.
    "render template": "path",
    // deploy's --root is a directory tree (the name alone would offer nothing).
    "deploy --root": "path",
    // import reads a plaintext .env/YAML/JSON file into a sops file that may not exist yet;
    // --at is a key path of that file, which is not the first positional: nothing offered.
    "import source": "path",
    "import --into": "path",
    "import --at": "none",
    "groups add --file": "encrypted-file",
    "get --file": "encrypted-file",
    "run --file": "encrypted-file",
    "run --env-file": "path",
    "groups delete --file": "encrypted-file",
    "--extract": "key-path",
    "--profile": "profile-name",
}

/**
 * Complete the last word of `words` (the arguments after the program name; the last
 * one is the word under the cursor, possibly empty, with shell quoting removed).
 */
export async function complete(model: ModelCommand, words: readonly string[], sources: CompletionSources): Promise<Completion> {
    const current = words[words.length - 1] ?? ""
    const state = walk(model, words.slice(0, -1))
    const cmd = state.command
    const ctx: SlotContext = { model, state, sources }

    if (state.pendingOption !== undefined) return optionValue(ctx, state.pendingOption, current, "")
    if (!state.afterDashDash && current.startsWith("--") && current.includes("=")) {
        const eq = current.indexOf("=")
        const opt = findOption(cmd, current.slice(0, eq))
        if (opt === undefined || opt.value === "none") return none
        return optionValue(ctx, opt, current.slice(eq + 1), current.slice(0, eq + 1))
    }
    if (!state.afterDashDash && current.startsWith("-")) return { candidates: flagCandidates(cmd, current), files: false }

    const commands =
        state.positionals.length === 0 ? byPrefix(cmd.commands.filter((c) => !c.hidden).map((c) => ({ value: c.name, description: c.description })), current) : []
    const arg = argumentAt(cmd, state.positionals.length)
    // Under a command with subcommands (the root's legacy `secrets FILE`), a file
    // only once the user typed something: `secrets <TAB>` lists commands, not 200 files.
    const wantArg = arg !== undefined && (cmd.commands.length === 0 || current !== "")
    const fromArg = wantArg ? await argumentValue(ctx, arg, current) : none
    const candidates = [...commands, ...fromArg.candidates]
    if (candidates.length === 0 && arg === undefined && cmd.commands.length === 0 && current === "") {
        // Nothing positional left: the command's flags are all there is to type.
        return { candidates: flagCandidates(cmd, "--"), files: false }
    }
    return { candidates, files: candidates.length === 0 && fromArg.files }
}

const none: Completion = { candidates: [], files: false }

interface WalkState {
    readonly command: ModelCommand
    /** Names of the commands entered, root excluded: `["keys", "remove"]`. */
    readonly path: readonly string[]
    readonly positionals: readonly string[]
    /** Option values seen, by long flag. */
    readonly values: ReadonlyMap<string, string>
    readonly pendingOption: ModelOption | undefined
    readonly afterDashDash: boolean
}

interface SlotContext {
    readonly model: ModelCommand
    readonly state: WalkState
    readonly sources: CompletionSources
}

/**
 * Commander's parse, as far as completion needs it: a subcommand only as the first
 * operand; options of the current command only (the root's options are positional,
 * `enablePositionalOptions`); `--flag value`, `--flag=value`; `--` ends options.
 */
function walk(model: ModelCommand, words: readonly string[]): WalkState {
    let command = model
    const path: string[] = []
    const positionals: string[] = []
    const values = new Map<string, string>()
    let pending: ModelOption | undefined
    let afterDashDash = false
    for (const word of words) {
        if (pending !== undefined) {
            values.set(pending.flags[0] ?? "", word)
            pending = undefined
            continue
        }
        if (!afterDashDash && word === "--") {
            afterDashDash = true
            continue
        }
        if (!afterDashDash && word.startsWith("-") && word !== "-") {
            const eq = word.startsWith("--") ? word.indexOf("=") : -1
            const opt = findOption(command, eq === -1 ? word : word.slice(0, eq))
            if (opt === undefined) continue
            if (eq !== -1) values.set(opt.flags[0] ?? "", word.slice(eq + 1))
            else if (opt.value === "required") pending = opt
            continue
        }
        const sub = positionals.length === 0 ? findCommand(command, word) : undefined
        if (sub !== undefined) {
            command = sub
            path.push(sub.name)
            continue
        }
        positionals.push(word)
    }
    return { command, path, positionals, values, pendingOption: pending, afterDashDash }
}

function argumentAt(cmd: ModelCommand, index: number): ModelArgument | undefined {
    const direct = cmd.arguments[index]
    if (direct !== undefined) return direct
    const last = cmd.arguments[cmd.arguments.length - 1]
    return last?.variadic === true ? last : undefined
}

function flagCandidates(cmd: ModelCommand, current: string): Candidate[] {
    // Hidden flags (the legacy root form) stay out of `secrets -<TAB>` but complete
    // once a letter of them is typed, so that every flag is reachable.
    const typedLetter = /^--?[^-]/.test(current)
    const out: Candidate[] = []
    for (const opt of cmd.options) {
        if (opt.hidden && !typedLetter) continue
        for (const flag of opt.flags) out.push({ value: flag, description: opt.description })
    }
    return byPrefix(out, current)
}

async function argumentValue(ctx: SlotContext, arg: ModelArgument, current: string): Promise<Completion> {
    if (arg.choices !== undefined) return { candidates: byPrefix(arg.choices.map((value) => ({ value })), current), files: false }
    const source = SOURCES[[...ctx.state.path, arg.name].join(" ")] ?? (/^files?$/.test(arg.name) ? "encrypted-file" : "none")
    return fromSource(ctx, source, current, "")
}

async function optionValue(ctx: SlotContext, opt: ModelOption, current: string, prefix: string): Promise<Completion> {
    if (opt.choices !== undefined) {
        return { candidates: byPrefix(opt.choices.map((v) => ({ value: prefix + v })), prefix + current), files: false }
    }
    const long = opt.flags[0] ?? ""
    const source =
        SOURCES[[...ctx.state.path, long].join(" ")] ?? SOURCES[long] ?? (opt.valueName !== undefined && /file|path/.test(opt.valueName) ? "path" : "none")
    return fromSource(ctx, source, current, prefix)
}

async function fromSource(ctx: SlotContext, source: Source, current: string, prefix: string): Promise<Completion> {
    const { sources, state, model } = ctx
    const add = (cs: readonly Candidate[]): Candidate[] => byPrefix(cs.map((c) => ({ ...c, value: prefix + c.value })), prefix + current)
    switch (source) {
        case "path":
            return { candidates: [], files: true }
        case "none":
            return none
        case "encrypted-file": {
            const found = add(await sources.encryptedFiles())
            // Outside the working directory (../x.yaml) or not a sops file yet: the shell's own.
            return { candidates: found, files: found.length === 0 }
        }
        case "key-path": {
            const file = state.positionals[0] ?? state.values.get("--file")
            return file === undefined ? none : { candidates: add(await sources.keyPaths(file)), files: false }
        }
        case "key-name":
            // --config is a root option (positional options): the walk saw it before the command.
            return { candidates: add(await sources.keyNames(state.values.get("--config"))), files: false }
        case "profile-name":
            return { candidates: add(await sources.profileNames(state.values.get("--config"))), files: false }
        case "command":
            return { candidates: add(model.commands.filter((c) => c.name !== "help").map((c) => ({ value: c.name, description: c.description }))), files: false }
    }
}

function byPrefix(cs: readonly Candidate[], current: string): Candidate[] {
    return cs.filter((c) => c.value.startsWith(current))
}
