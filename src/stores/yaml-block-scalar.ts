/**
 * The value of a block scalar (`|`, `>`, with chomping and indentation indicators)
 * exactly as go-yaml v3's scanner (scannerc.go yaml_parser_scan_block_scalar and
 * yaml_parser_scan_block_scalar_breaks) computes it, which is what sops reads.
 *
 * The `yaml` package follows YAML 1.2 and differs where it matters for secrets: a
 * block at the end of the file without a final line break gets one there (go-yaml:
 * `multiline: |\n  multi\n  line` is "multi\nline", found by the go-yaml oracle), and
 * a line of spaces deeper than the indentation is content in go-yaml, not an empty
 * line. A different value means a different ciphertext and MAC than sops computes.
 */
import { FormatError } from "../errors.js"

// go-yaml is_break: CR, LF, NEL, LS, PS.
const isBreak = (c: string | undefined): boolean => c === "\r" || c === "\n" || c === "\u0085" || c === "\u2028" || c === "\u2029"
const isBlank = (c: string | undefined): boolean => c === " " || c === "\t"

/**
 * The value of the block scalar whose header indicator (`|` or `>`) is at `offset`
 * of `text`. `parentIndent` is go-yaml's `parser.indent` there: the column of the
 * innermost block collection holding the scalar (-1 at the top level). `line` is
 * the header's line, for messages.
 */
export function blockScalarValue(text: string, offset: number, parentIndent: number, line: number): string {
    const fail = (what: string): never => {
        throw new FormatError(`invalid YAML at line ${line}: block scalar ${what}`)
    }
    let pos = offset
    let column = 0
    const literal = text[pos] === "|"
    pos++
    // The header: chomping and indentation indicators in either order.
    let chomping = 0
    let increment = 0
    const readChomping = (): void => {
        if (text[pos] === "+" || text[pos] === "-") chomping = text[pos++] === "+" ? 1 : -1
    }
    const readIncrement = (): void => {
        const c = text[pos]
        if (c !== undefined && c >= "0" && c <= "9") {
            if (c === "0") fail("has an indentation indicator equal to 0")
            increment = Number(c)
            pos++
        }
    }
    if (text[pos] === "+" || text[pos] === "-") {
        readChomping()
        readIncrement()
    } else {
        readIncrement()
        readChomping()
    }
    while (isBlank(text[pos])) pos++
    if (text[pos] === "#") while (pos < text.length && !isBreak(text[pos])) pos++
    if (pos < text.length && !isBreak(text[pos])) fail("header is not followed by a comment or a line break")

    /** go-yaml read_line: one line break, normalised to "\n" except LS and PS; "" at the end of the text. */
    const readLine = (): string => {
        const c = text[pos]
        if (c === "\r" && text[pos + 1] === "\n") pos += 2
        else if (isBreak(c)) pos++
        else return ""
        column = 0
        return c === "\u2028" || c === "\u2029" ? c : "\n"
    }
    readLine()

    let indent = increment > 0 ? (parentIndent >= 0 ? parentIndent + increment : increment) : 0
    let trailingBreaks = ""
    /** Empty lines and the indentation of the next one; with no indicator, the first content line sets the indentation. */
    const scanBreaks = (): void => {
        let maxIndent = 0
        for (;;) {
            while ((indent === 0 || column < indent) && text[pos] === " ") {
                pos++
                column++
            }
            if (column > maxIndent) maxIndent = column
            if ((indent === 0 || column < indent) && text[pos] === "\t") fail("has a tab where an indentation space is expected")
            if (!isBreak(text[pos])) break
            trailingBreaks += readLine()
        }
        if (indent === 0) indent = Math.max(maxIndent, parentIndent + 1, 1)
    }
    scanBreaks()

    let value = ""
    let leadingBreak = ""
    let leadingBlank = false
    while (column === indent && pos < text.length) {
        const trailingBlank = isBlank(text[pos])
        // Folding: a single line break between two lines that start with no blank becomes a space.
        if (!literal && !leadingBlank && !trailingBlank && leadingBreak.startsWith("\n")) {
            if (trailingBreaks === "") value += " "
        } else {
            value += leadingBreak
        }
        leadingBreak = ""
        value += trailingBreaks
        trailingBreaks = ""
        leadingBlank = isBlank(text[pos])
        const start = pos
        while (pos < text.length && !isBreak(text[pos])) pos++
        value += text.slice(start, pos)
        leadingBreak = readLine()
        scanBreaks()
    }
    // Chomping: strip drops the last break, clip keeps it, keep also keeps the empty lines after it.
    if (chomping !== -1) value += leadingBreak
    if (chomping === 1) value += trailingBreaks
    return value
}
