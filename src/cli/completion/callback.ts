/**
 * The `__complete` protocol between the shell scripts and the binary:
 *
 *     secrets __complete SHELL -- WORD... CURRENT
 *
 * WORDs are the command line after the program name as the shell split it, CURRENT
 * the (possibly empty) word under the cursor. The answer is one candidate per line,
 * `value<TAB>description` for zsh and fish, the bare (shell-quoted) value for bash,
 * then a last line `:files` when the shell should also offer its own file names, or
 * `:` otherwise. It never fails: a completion that prints an error into the middle of
 * the user's command line is worse than none.
 */
import { complete, type Candidate, type CompletionSources } from "./complete.js"
import type { ModelCommand } from "./model.js"

export const SHELLS = ["bash", "zsh", "fish"] as const
export type Shell = (typeof SHELLS)[number]

/** The answer text for `argv` (what follows `__complete`). */
export async function answer(model: ModelCommand, argv: readonly string[], sources: CompletionSources): Promise<string> {
    const shell = argv[0]
    if (shell !== "bash" && shell !== "zsh" && shell !== "fish") return ":\n"
    const words = argv[1] === "--" ? argv.slice(2) : argv.slice(1)
    const typed = words[words.length - 1] ?? ""
    const current = unquote(typed)
    try {
        const result = await complete(model, [...words.slice(0, -1), current.text], sources)
        const lines = result.candidates.map((c) => render(shell, c, current.quote))
        return [...lines, result.files ? ":files" : ":"].join("\n") + "\n"
    } catch {
        return ":\n"
    }
}

/**
 * The word as the command will receive it. zsh and fish hand over what was typed,
 * quotes included, and bash does too: `'["db` is the start of the key path `["db`.
 */
export function unquote(word: string): { text: string; quote: "'" | '"' | "" } {
    if (word.startsWith("'")) return { text: word.slice(1).replace(/'$/, ""), quote: "'" }
    if (word.startsWith('"')) return { text: word.slice(1).replace(/"$/, "").replace(/\\(["\\$`])/g, "$1"), quote: '"' }
    return { text: word.replace(/\\(.)/g, "$1"), quote: "" }
}

function render(shell: Shell, c: Candidate, openQuote: string): string {
    if (shell === "bash") {
        // bash inserts COMPREPLY as it is, so a key path must come quoted; inside a
        // quote the user opened, readline quotes (and closes) it itself.
        if (openQuote === "'") return c.value.replace(/'/g, `'\\''`)
        return openQuote === '"' ? c.value.replace(/(["\\$`])/g, "\\$1") : bashQuote(c.value)
    }
    // zsh's compadd and fish quote a candidate themselves when they insert it.
    const description = c.description?.replace(/\s+/g, " ").trim()
    return description === undefined || description === "" ? c.value : `${c.value}\t${description}`
}

/** A word bash reads back as `value`: as is when it is plain, else single-quoted. */
export function bashQuote(value: string): string {
    if (/^[\w@%+=:,./-]+$/.test(value)) return value
    return `'${value.replace(/'/g, `'\\''`)}'`
}
