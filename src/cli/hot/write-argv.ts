/**
 * Which write command lines the writes' fast path (issue 14 target 4) answers, read
 * without commander: `encrypt`, `updatekeys` and `rotate` of a file in their plain
 * forms, as run from scripts, CI and the shell.
 *
 * The rule is argv.ts's, "plain or not mine": a word this parser does not fully
 * understand (any other flag, `--flag=value`, grouped short flags such as `-iy`, a
 * repeated flag, `--`, `--help`, a root flag, stdin as `-`, a missing or extra
 * argument, a value that starts with `-`, an empty word) makes it return
 * undefined, and bin/secrets.cjs runs the full commander program, which owns every
 * error message and help text. So the fast path only skips commander on lines where
 * commander would have called the same run function with the same options
 * (test/e2e/hot-write-path.test.ts compares both on a table of argv).
 *
 * `updatekeys` without `-y` or `--dry-run` is left to the full program: it asks on a
 * terminal, and the prompt package is the program's business.
 */
import type { Format } from "../../stores/store.js"
import { readPlainWords, type FlagSpec } from "./plain-words.js"

/** A write command line the fast path runs: the command, its files and its options as commander would pass them. */
export type HotWritePlan =
    | { readonly command: "encrypt"; readonly file: string; readonly opts: HotEncryptOptions }
    | { readonly command: "updatekeys"; readonly files: readonly string[]; readonly opts: HotUpdatekeysOptions }
    | { readonly command: "rotate"; readonly file: string; readonly opts: HotRotateOptions }

export interface HotEncryptOptions {
    inPlace?: boolean
    output?: string
    inputType?: Format
    outputType?: Format
    age?: string
}

export interface HotUpdatekeysOptions {
    yes?: boolean
    dryRun?: boolean
    inputType?: Format
}

export interface HotRotateOptions {
    inPlace?: boolean
    output?: string
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
}


const IN_PLACE: FlagSpec = { key: "inPlace", value: "none" }
const OUTPUT: FlagSpec = { key: "output", value: "text" }
const INPUT_TYPE: FlagSpec = { key: "inputType", value: "format" }
const OUTPUT_TYPE: FlagSpec = { key: "outputType", value: "format" }

// Short and long forms map to one key, so `-i --in-place` is a repeat (no plan), as
// argv.ts treats a repeated flag.
const ENCRYPT_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "-i": IN_PLACE,
    "--in-place": IN_PLACE,
    "--output": OUTPUT,
    "--input-type": INPUT_TYPE,
    "--output-type": OUTPUT_TYPE,
    "-a": { key: "age", value: "text" },
    "--age": { key: "age", value: "text" },
}
const UPDATEKEYS_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "-y": { key: "yes", value: "none" },
    "--yes": { key: "yes", value: "none" },
    "--dry-run": { key: "dryRun", value: "none" },
    "--input-type": INPUT_TYPE,
}
const ROTATE_FLAGS: Readonly<Record<string, FlagSpec>> = {
    "-i": IN_PLACE,
    "--in-place": IN_PLACE,
    "--output": OUTPUT,
    "--input-type": INPUT_TYPE,
    "--output-type": OUTPUT_TYPE,
    "--ignore-mac": { key: "ignoreMac", value: "none" },
}

/** Each command's flags and how many files it takes (`many`: one or more). */
const COMMANDS: Readonly<Record<string, { flags: Readonly<Record<string, FlagSpec>>; files: "one" | "many" }>> = {
    encrypt: { flags: ENCRYPT_FLAGS, files: "one" },
    updatekeys: { flags: UPDATEKEYS_FLAGS, files: "many" },
    rotate: { flags: ROTATE_FLAGS, files: "one" },
}

/** The plan for `argv` (the words after the program name), or undefined when the full program must answer. */
export function hotWritePlan(argv: readonly string[]): HotWritePlan | undefined {
    const command = argv[0]
    if (command === undefined || !Object.hasOwn(COMMANDS, command)) return undefined
    const spec = COMMANDS[command]!
    const words = readPlainWords(argv, spec.flags)
    if (words === undefined) return undefined
    const { opts, positionals: files } = words
    if (files.length === 0 || (spec.files === "one" && files.length !== 1)) return undefined
    if (command === "updatekeys") {
        if (opts["yes"] !== true && opts["dryRun"] !== true) return undefined
        return { command, files, opts: opts as HotUpdatekeysOptions }
    }
    if (command === "encrypt") return { command, file: files[0]!, opts: opts as HotEncryptOptions }
    return { command: "rotate", file: files[0]!, opts: opts as HotRotateOptions }
}
