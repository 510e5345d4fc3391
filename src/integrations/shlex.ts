/**
 * Shell-like word splitting for `SOPS_EDITOR`/`EDITOR`/`VISUAL` and
 * `SOPS_AGE_KEY_CMD`, with the exact rules of github.com/google/shlex, which sops
 * uses (sops-format.md §9 and §10.2). It is not POSIX sh: there is no expansion of
 * any kind, and a backslash inside double quotes escapes *every* character
 * (`"a\b"` is `ab`, where sh would keep the backslash). Matching Go here means a
 * variable set for sops splits the same way for us.
 */
import { ExitCode, SecretsError } from "../errors.js"

const SPACE = new Set([" ", "\t", "\r", "\n"])

type State = "start" | "word" | "escape" | "dquote" | "dquoteEscape" | "squote" | "comment"

/**
 * Split `input` into words. Quotes group, a backslash escapes the next character
 * (also inside double quotes, never inside single quotes), `#` at the start of a
 * word comments out the rest of the line, and `''` is an empty word.
 * Throws a SecretsError for an unterminated quote or a trailing backslash; the
 * message never quotes the input (a key command can carry a token).
 */
export function shlexSplit(input: string): string[] {
    const words: string[] = []
    let state: State = "start"
    let word = ""
    for (const ch of input) {
        switch (state) {
            case "start":
                if (SPACE.has(ch)) break
                if (ch === "#") state = "comment"
                else if (ch === "\"") state = "dquote"
                else if (ch === "'") state = "squote"
                else if (ch === "\\") state = "escape"
                else {
                    word = ch
                    state = "word"
                }
                break
            case "word":
                if (SPACE.has(ch)) {
                    words.push(word)
                    word = ""
                    state = "start"
                } else if (ch === "\"") state = "dquote"
                else if (ch === "'") state = "squote"
                else if (ch === "\\") state = "escape"
                // google/shlex: `#` inside a word is an ordinary character.
                else word += ch
                break
            case "escape":
                word += ch
                state = "word"
                break
            case "dquote":
                if (ch === "\"") state = "word"
                else if (ch === "\\") state = "dquoteEscape"
                else word += ch
                break
            case "dquoteEscape":
                word += ch
                state = "dquote"
                break
            case "squote":
                if (ch === "'") state = "word"
                else word += ch
                break
            case "comment":
                if (ch === "\n") state = "start"
                break
        }
    }
    switch (state) {
        case "word":
            words.push(word)
            break
        case "escape":
        case "dquoteEscape":
            throw new SecretsError(ExitCode.Generic, "malformed command line: it ends with an escape character")
        case "dquote":
        case "squote":
            throw new SecretsError(ExitCode.Generic, "malformed command line: a quote is not closed")
        case "start":
        case "comment":
            break
    }
    return words
}
