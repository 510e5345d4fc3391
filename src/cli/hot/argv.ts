/**
 * Which command lines the fast path (issue 14 target 2) answers, read without
 * commander: the read-only commands run on every deploy, shell prompt and CI step
 * (`decrypt`, `view`, `filestatus`, `exec-env`) in their plain forms.
 *
 * The rule is "plain or not mine": a word this parser does not fully understand
 * (any other flag, `--flag=value`, a repeated flag, `--`, `--help`, a root flag,
 * a missing or extra argument, a value that starts with `-`, an empty word) makes
 * it return undefined, and bin/secrets.cjs runs the full commander program, which
 * owns every error message and every help text. So the fast path can never answer
 * differently from the program: it only skips commander on lines where commander
 * would have called the same run function with the same options
 * (test/e2e/hot-path.test.ts compares both on a table of argv).
 */
import type { Format } from "../../stores/store.js"
import { readPlainWords, type FlagSpec } from "./plain-words.js"

/** A command line the fast path runs: the command, its positional arguments and its options as commander would pass them. */
export type HotPlan =
    | { readonly command: "decrypt" | "view"; readonly file: string; readonly opts: HotDecryptOptions }
    | { readonly command: "filestatus"; readonly file: string; readonly opts: { inputType?: Format } }
    | { readonly command: "exec-env"; readonly file: string; readonly shellCommand: string; readonly opts: HotExecEnvOptions }

export interface HotDecryptOptions {
    extract?: string
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
}

export interface HotExecEnvOptions {
    pristine?: boolean
    inputType?: Format
    ignoreMac?: boolean
}


const DECRYPT_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "--extract": { key: "extract", value: "text" },
    "--input-type": { key: "inputType", value: "format" },
    "--output-type": { key: "outputType", value: "format" },
    "--ignore-mac": { key: "ignoreMac", value: "none" },
}
const FILESTATUS_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "--input-type": { key: "inputType", value: "format" },
}
const EXEC_ENV_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "--pristine": { key: "pristine", value: "none" },
    "--input-type": { key: "inputType", value: "format" },
    "--ignore-mac": { key: "ignoreMac", value: "none" },
}

const COMMANDS: Readonly<Record<string, { flags: Readonly<Record<string, FlagSpec>>; positionals: number }>> = {
    decrypt: { flags: DECRYPT_FLAGS, positionals: 1 },
    view: { flags: DECRYPT_FLAGS, positionals: 1 },
    filestatus: { flags: FILESTATUS_FLAGS, positionals: 1 },
    "exec-env": { flags: EXEC_ENV_FLAGS, positionals: 2 },
}

/** Whether the first word names a hot command: bin/secrets.cjs asks before loading the fast path at all. */
export function isHotCommand(word: string | undefined): boolean {
    return word !== undefined && Object.hasOwn(COMMANDS, word)
}

/** The plan for `argv` (the words after the program name), or undefined when the full program must answer. */
export function hotPlan(argv: readonly string[]): HotPlan | undefined {
    const command = argv[0]
    if (command === undefined || !Object.hasOwn(COMMANDS, command)) return undefined
    const spec = COMMANDS[command]!
    const words = readPlainWords(argv, spec.flags)
    if (words === undefined) return undefined
    const { opts, positionals } = words
    if (positionals.length !== spec.positionals) return undefined
    const file = positionals[0]!
    if (command === "exec-env") return { command, file, shellCommand: positionals[1]!, opts: opts as HotExecEnvOptions }
    if (command === "filestatus") return { command, file, opts: opts as { inputType?: Format } }
    return { command: command as "decrypt" | "view", file, opts: opts as HotDecryptOptions }
}
