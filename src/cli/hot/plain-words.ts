/**
 * The word reader both fast paths share (argv.ts for the reads, write-argv.ts for
 * the writes): their rule is "plain or not mine", so any word it does not fully
 * understand (an unknown flag, `--flag=value`, grouped short flags, a repeated
 * flag, `--`, `--help`, a value that starts with `-` or is empty, an empty word)
 * gives undefined, and the full commander program answers the line instead.
 */
import { FORMATS } from "../../stores/store.js"

/** A flag: the option key commander gives it, and whether it is boolean or takes a value (a format when `format`). */
export type FlagSpec = { readonly key: string; readonly value: "none" | "text" | "format" }

/** What a plain command line holds: commander's option object and the positional words, in order. */
export interface PlainWords {
    readonly opts: Record<string, string | boolean>
    readonly positionals: string[]
}

/** argv[1..] (argv[0] is the command) read against `flags`, or undefined when a word is not plain. */
export function readPlainWords(argv: readonly string[], flags: Readonly<Record<string, FlagSpec>>): PlainWords | undefined {
    const opts: Record<string, string | boolean> = {}
    const positionals: string[] = []
    for (let i = 1; i < argv.length; i++) {
        const word = argv[i]!
        if (word === "") return undefined
        if (word.startsWith("-")) {
            if (!Object.hasOwn(flags, word)) return undefined
            const flag = flags[word]!
            // Short and long forms share a key, so `-i --in-place` is a repeat too.
            if (Object.hasOwn(opts, flag.key)) return undefined
            if (flag.value === "none") {
                opts[flag.key] = true
                continue
            }
            const value = argv[++i]
            if (value === undefined || value === "" || value.startsWith("-")) return undefined
            if (flag.value === "format" && !(FORMATS as readonly string[]).includes(value)) return undefined
            opts[flag.key] = value
            continue
        }
        positionals.push(word)
    }
    return { opts, positionals }
}
