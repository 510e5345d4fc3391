/**
 * A plaintext `.env` file as `secrets import` reads it: the dotenv that shells,
 * docker compose and dotenv libraries write, not sops' dotenv store (which takes
 * every byte after `=` literally, src/stores/dotenv.ts). The rules, documented in
 * docs/commands/import-export.md, follow what `bash` does when it sources the file,
 * with two departures that keep the import independent of the shell running it:
 *
 * - no expansion: `$HOME`, `${X}` and `$(cmd)` stay literal text (expanding would
 *   copy the importing user's environment, or a command's output, into the file);
 * - an unquoted value is the rest of the line trimmed, inner spaces kept, as
 *   dotenv libraries read `A=two words` (bash would run `words`).
 *
 * Otherwise as bash: `export ` prefix allowed; `#` starts a comment at the start of
 * a line or after whitespace outside quotes; single quotes are literal and may span
 * lines; double quotes may span lines and take the escapes `\"` `\\` `\$` and
 * `` \` `` (bash's) plus `\n` for a newline (dotenv's: bash would keep `\n`); any
 * other `\x` inside double quotes stays `\x`, as in bash; outside quotes `\x` is `x`;
 * quoted and unquoted parts next to each other join (`'it'\''s'` is `it's`).
 *
 * The input is plaintext secrets: errors name the line number, never its text.
 */
import { ExitCode, FormatError } from "../errors.js"
import { entry, str, type Branch, type MapItem } from "../core/tree.js"

/** Shell variable names: what `export NAME=…` accepts, and what `secrets export --format env` writes back. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function bad(line: number, why: string, hints: readonly string[] = []): FormatError {
    return new FormatError(`line ${line}: ${why}`, hints, ExitCode.CouldNotReadInputFile)
}

/**
 * Parse `.env` text into one mapping of string values, in file order. A name given
 * twice keeps its last value in the place of its first (the shell's last
 * assignment wins).
 */
export function parseDotenvSource(text: string): Branch {
    const src = text.startsWith("\uFEFF") ? text.slice(1) : text
    const values = new Map<string, string>()
    let i = 0
    let line = 1
    const n = src.length
    const at = (k: number) => src[k] ?? ""
    const skipBlanks = () => {
        while (i < n && (at(i) === " " || at(i) === "\t" || at(i) === "\r")) i++
    }
    const skipToEol = () => {
        while (i < n && at(i) !== "\n") i++
    }
    while (i < n) {
        skipBlanks()
        if (at(i) === "\n") {
            i++
            line++
            continue
        }
        if (i >= n) break
        if (at(i) === "#") {
            skipToEol()
            continue
        }
        const startLine = line
        const nameStart = i
        while (i < n && /[A-Za-z0-9_]/.test(at(i))) i++
        let name = src.slice(nameStart, i)
        if (name === "export" && (at(i) === " " || at(i) === "\t")) {
            skipBlanks()
            const s = i
            while (i < n && /[A-Za-z0-9_]/.test(at(i))) i++
            name = src.slice(s, i)
        }
        if (at(i) !== "=") {
            throw bad(startLine, name === "" ? "expected NAME=value" : "expected = right after the name", [
                "each line is NAME=value, export NAME=value or a # comment; no spaces around =",
            ])
        }
        if (!ENV_NAME.test(name)) throw bad(startLine, "the name is not a shell variable name", ["names are letters, digits and _, not starting with a digit"])
        i++
        values.set(name, readValue())
    }
    const items: MapItem[] = [...values].map(([k, v]) => entry(k, str(v)))
    return { kind: "map", items }

    /** The value after `=` up to the end of its line (or its closing quote's line). */
    function readValue(): string {
        let out = ""
        // Trailing unquoted blanks are trimmed; quoted ones are kept, so track where quoting ended.
        let keepUpTo = 0
        let leading = true
        while (i < n) {
            const c = at(i)
            if (c === "\n") break
            if (c === "'") {
                const close = src.indexOf("'", i + 1)
                if (close < 0) throw bad(line, "a single quote is not closed", ["close it with ' (inside single quotes nothing is escaped: write 'it'\\''s' for it's)"])
                const body = src.slice(i + 1, close)
                line += countNewlines(body)
                out += body
                keepUpTo = out.length
                i = close + 1
                leading = false
                continue
            }
            if (c === '"') {
                const quoteLine = line
                i++
                for (;;) {
                    if (i >= n) throw bad(quoteLine, "a double quote is not closed", ['close it with "; write \\" for a quote inside'])
                    const d = at(i)
                    if (d === '"') break
                    if (d === "\\") {
                        const e = at(i + 1)
                        if (e === "n") out += "\n"
                        else if (e === '"' || e === "\\" || e === "$" || e === "`") out += e
                        else if (e === "\n") line++ // bash: backslash-newline inside double quotes joins the lines
                        else out += "\\" + e
                        i += 2
                        continue
                    }
                    if (d === "\n") line++
                    out += d
                    i++
                }
                i++
                keepUpTo = out.length
                leading = false
                continue
            }
            if ((c === " " || c === "\t" || c === "\r") && leading) {
                i++
                continue
            }
            if (c === "#" && (at(i - 1) === " " || at(i - 1) === "\t")) {
                // A comment only after a blank, as in bash: `A=x#y` is the value x#y.
                skipToEol()
                break
            }
            if (c === "\\") {
                const e = at(i + 1)
                if (e === "\n") {
                    // Outside quotes a backslash-newline continues the line, as in bash.
                    i += 2
                    line++
                    continue
                }
                if (e !== "") out += e
                i += 2
                keepUpTo = out.length
                leading = false
                continue
            }
            out += c
            if (c !== " " && c !== "\t" && c !== "\r") keepUpTo = out.length
            leading = false
            i++
        }
        return out.slice(0, keepUpTo)
    }
}

function countNewlines(s: string): number {
    let k = 0
    for (const c of s) if (c === "\n") k++
    return k
}
