/**
 * The .env reader of `secrets import` (src/transfer/dotenv-source.ts): each quoting
 * rule, checked against what real bash gives when it sources the same text, and
 * errors that name a line, never the text on it.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseDotenvSource } from "../../../src/transfer/dotenv-source.js"
import { SecretsError } from "../../../src/errors.js"
import { tempDir } from "../../helpers/tmp.js"
import { treeToJs } from "../../helpers/tree-to-js.js"

const parse = (text: string) => treeToJs(parseDotenvSource(text)) as Record<string, string>

/** What bash sets when it sources `text`: each name's value, read back NUL-separated. */
function bashValues(text: string, names: readonly string[]): Record<string, string> {
    const dir = tempDir()
    writeFileSync(join(dir, "in.env"), text)
    const script = `. ./in.env; for n in ${names.join(" ")}; do printf '%s\\0' "\${!n}"; done`
    const out = execFileSync("bash", ["--norc", "--noprofile", "-c", script], { cwd: dir, env: {} }).toString("utf8").split("\0")
    return Object.fromEntries(names.map((n, i) => [n, out[i] ?? ""]))
}

describe("the .env source reader agrees with bash", () => {
    const cases: [string, string][] = [
        ["export prefix", "export A=1\n"],
        ["a plain value", "A=hello\n"],
        ["single quotes are literal", "A='x $HOME \\n \"q\" \\\\'\n"],
        ["a single quote written '\\''", "A='it'\\''s'\n"],
        ["double quotes take \\\" \\\\ \\$ and \\`", 'A="say \\"hi\\" \\\\ \\$X \\`"\n'],
        ["other backslashes stay in double quotes", 'A="a\\tb\\x"\n'],
        ["a comment after a blank", "A=value # note\nB='q' # note\n"],
        ["# inside a word is not a comment", "A=x#y\n"],
        ["comment lines and blank lines", "# top\n\n  # indented\nA=1\n\n"],
        ["multi-line single-quoted value", "A='line 1\nline 2'\nB=2\n"],
        ["multi-line double-quoted value", 'A="line 1\nline 2"\n'],
        ["joined quoted and unquoted parts", "A=ab'cd'\"ef\"\\ g\n"],
        ["unicode", "A='héllo ✓ 🗝'\n"],
        ["empty values", "A=\nB=''\nC=\"\"\n"],
        ["the last assignment wins", "A=1\nA=2\n"],
        ["CRLF line ends on unquoted values", "A=1\r\nB=2\r\n"],
        ["backslash escapes outside quotes", "A=a\\$b\\\\c\n"],
    ]
    for (const [what, text] of cases) {
        it(what, () => {
            const ours = parse(text)
            // bash keeps a CR as part of an unquoted word; a .env written on Windows means no CR.
            const theirs = bashValues(text.replaceAll("\r\n", "\n"), Object.keys(ours))
            expect(ours).toEqual(theirs)
        })
    }
})

describe("the .env source reader's own rules", () => {
    it("reads \\n in double quotes as a newline (dotenv's rule; bash would keep it)", () => {
        expect(parse('A="a\\nb"\n')).toEqual({ A: "a\nb" })
    })

    it("keeps inner spaces of an unquoted value and trims the ends (bash would split the words)", () => {
        expect(parse("A=  two words  \n")).toEqual({ A: "two words" })
    })

    it("never expands $VAR or $(cmd)", () => {
        expect(parse('A=$HOME\nB="$(id)"\nC=${X}\n')).toEqual({ A: "$HOME", B: "$(id)", C: "${X}" })
    })

    it("keeps file order, a repeated name in its first place", () => {
        expect(Object.keys(parse("B=1\nA=2\nB=3\n"))).toEqual(["B", "A"])
    })

    const bad: [string, string, RegExp][] = [
        ["an unclosed single quote", "A=1\nB='s3cret-never-shown\n", /^line 2: a single quote is not closed$/],
        ["an unclosed double quote", 'A="s3cret-never-shown\n', /^line 1: a double quote is not closed$/],
        ["a space before =", "A =s3cret-never-shown\n", /^line 1: expected = right after the name$/],
        ["a line without =", "\ns3cret-never-shown\n", /^line 2: expected = right after the name$/],
        ["a name starting with a digit", "1A=s3cret-never-shown\n", /^line 1: the name is not a shell variable name$/],
        ["a line starting with a symbol", "-A=s3cret-never-shown\n", /^line 1: expected NAME=value$/],
    ]
    for (const [what, text, message] of bad) {
        it(`refuses ${what}, naming the line and not its text`, () => {
            let err: unknown
            try {
                parseDotenvSource(text)
            } catch (e) {
                err = e
            }
            expect(err).toBeInstanceOf(SecretsError)
            const e = err as SecretsError
            expect(e.message).toMatch(message)
            expect([e.message, ...e.hints].join("\n")).not.toContain("s3cret")
            expect(e.code).toBe(2)
        })
    }
})
