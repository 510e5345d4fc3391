/**
 * Templates for `secrets render` and the `template:`/`content:` entries of
 * `secrets deploy` (issue 12 point 3): text with placeholders that name one
 * decrypted value each. Pure: parsing and substitution, nothing read or run here;
 * template-values.ts resolves the references.
 *
 * Syntax (docs/commands/render.md):
 * - `{{ secrets/app.yaml#["db"]["password"] }}`: a file (relative to the caller's
 *   base directory), `#`, a key path in sops index syntax (core/tree-path.ts);
 * - `{{ op://Vault/Item/field }}`: a 1Password secret reference, read as `op inject`
 *   reads an enclosed one;
 * - `{{ "text" }}`: `text` itself, with `\"` and `\\` unescaped, op inject's escape,
 *   for a file that needs a literal `{{` (a Go or Jinja template shipped as a secret);
 * - spaces and tabs inside the braces are optional; everything else is literal.
 *
 * Every `{{` opens a placeholder, and one that is malformed (not closed on its line,
 * empty, without `#`, a key path tree-path refuses, a bad op reference) is a
 * FormatError naming `source:line:column`: a typo must fail the render, not ship a
 * config file holding the placeholder instead of the password. Unlike op inject, a
 * bare `op://…` outside braces stays literal and `$VAR` is not expanded.
 *
 * Substitution is one pass over the parsed parts: a value is appended, never scanned,
 * so a secret that contains `{{ op://… }}` is written as it is (sops-nix's ReplaceAll
 * over a map would expand it, depending on map order: deploy-anchors.md §1.9).
 * The parser is a scanner, not a regex: every character is looked at a bounded
 * number of times, so a hostile template (100,000 `{{`, an unclosed quote) costs
 * linear time. A placeholder ends at its line, which also keeps a stray `{{` from
 * swallowing the rest of the file before the error names it.
 *
 * API (the contract of i12-contract.md, refined):
 * - {@link parseTemplate}(text, source) → {@link ParsedTemplate}: `references` (each
 *   distinct reference once, with where it first appears) and `render(values)`;
 * - {@link referenceKey}(ref): the key of `values`, equal for placeholders that name
 *   the same value however they are spaced;
 * - `resolveReferences(io, refs, opts)` lives in template-values.ts (it opens files).
 */
import { ExitCode, FormatError, SecretsError, quote } from "../errors.js"
import { parseTreePath, type PathStep } from "../core/tree-path.js"
import { parseOpReference } from "../integrations/op-reference.js"

/** Where a placeholder starts: 1-based line and column (in characters). */
export interface TemplateLocation {
    readonly source: string
    readonly line: number
    readonly column: number
}

/** A value a template names. */
export type TemplateReference =
    | {
          readonly kind: "file"
          /** The file as written, relative to the base directory the caller resolves it against. */
          readonly file: string
          /** The key path as written (index syntax, trimmed). */
          readonly path: string
          /** The key path parsed. */
          readonly steps: readonly PathStep[]
          readonly at: TemplateLocation
      }
    | {
          readonly kind: "op"
          /** The `op://…` reference as written (trimmed). */
          readonly reference: string
          readonly at: TemplateLocation
      }

export interface ParsedTemplate {
    readonly source: string
    /** Each distinct reference once (by {@link referenceKey}), in order of first appearance. */
    readonly references: readonly TemplateReference[]
    /** The text with each placeholder replaced by `values.get(referenceKey(ref))`, in one pass. */
    render(values: ReadonlyMap<string, string>): string
}

/** The key under which a reference's value is looked up: the same for `["a"]` and `[ 'a' ]`. */
export function referenceKey(ref: TemplateReference): string {
    // JSON of the parsed steps, not describePath: a key may hold `"]["`, which would
    // make two different paths print alike.
    return ref.kind === "file" ? JSON.stringify(["file", ref.file, ref.steps]) : JSON.stringify(["op", ref.reference])
}

/** `source:line:column`, as compilers print it. */
export function locationOf(ref: TemplateReference): string {
    return `${ref.at.source}:${ref.at.line}:${ref.at.column}`
}

/** The placeholder as the user would recognise it, for messages (never a value). */
export function describeReference(ref: TemplateReference): string {
    return ref.kind === "file" ? `{{ ${ref.file}#${ref.path} }}` : `{{ ${ref.reference} }}`
}

type Part = string | { readonly key: string; readonly ref: TemplateReference }

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const BRACE_OPEN = 0x7b
const BRACE_CLOSE = 0x7d
const HASH = 0x23
const DQUOTE = 0x22
const SQUOTE = 0x27
const BACKSLASH = 0x5c

const SYNTAX_HINT = `a placeholder is {{ FILE#["key"] }} or {{ op://vault/item/field }}; write {{ "{{" }} for a literal {{`

/**
 * A template file's bytes as text. Strictly UTF-8: a template whose bytes are not
 * text would otherwise be rendered with U+FFFD in place of what it held.
 */
export function templateText(bytes: Uint8Array, source: string): string {
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes)
    } catch {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(source)} is not UTF-8 text`, ["a template is a text file"])
    }
}

/** Parse `text`; `source` names it in errors (a file name, or a manifest entry). */
export function parseTemplate(text: string, source: string): ParsedTemplate {
    const parts: Part[] = []
    const refs = new Map<string, TemplateReference>()
    const locate = lineCursor(text, source)
    let literal = ""
    let pos = 0
    for (;;) {
        const open = text.indexOf("{{", pos)
        if (open === -1) break
        literal += text.slice(pos, open)
        const at = locate(open)
        const found = scanPlaceholder(text, open + 2, at)
        if (typeof found.value === "string") {
            literal += found.value
        } else {
            if (literal !== "") parts.push(literal)
            literal = ""
            const key = referenceKey(found.value)
            if (!refs.has(key)) refs.set(key, found.value)
            parts.push({ key, ref: found.value })
        }
        pos = found.end
    }
    literal += text.slice(pos)
    if (literal !== "") parts.push(literal)
    return {
        source,
        references: [...refs.values()],
        render(values) {
            const out: string[] = []
            for (const part of parts) {
                if (typeof part === "string") {
                    out.push(part)
                    continue
                }
                const value = values.get(part.key)
                if (value === undefined) {
                    throw new SecretsError(ExitCode.Generic, `${locationOf(part.ref)}: ${describeReference(part.ref)} was not resolved`)
                }
                out.push(value)
            }
            return out.join("")
        },
    }
}

/** Line and column of positions asked for in increasing order, counted once over the text. */
function lineCursor(text: string, source: string): (target: number) => TemplateLocation {
    let pos = 0
    let line = 1
    let column = 1
    return (target) => {
        while (pos < target) {
            const c = text.charCodeAt(pos)
            if (c === LF) {
                line++
                column = 1
                pos++
                continue
            }
            // A surrogate pair is one character, as an editor counts it.
            const pair = c >= 0xd800 && c <= 0xdbff && pos + 1 < target && (text.charCodeAt(pos + 1) & 0xfc00) === 0xdc00
            pos += pair ? 2 : 1
            column++
        }
        return { source, line, column }
    }
}

interface Scanned {
    /** A literal's text, or the reference. */
    readonly value: string | TemplateReference
    /** Just past the closing `}}`. */
    readonly end: number
}

function scanPlaceholder(text: string, from: number, at: TemplateLocation): Scanned {
    const fail = (why: string, hints: readonly string[] = [SYNTAX_HINT]): FormatError =>
        new FormatError(`${at.source}:${at.line}:${at.column}: ${why}`, hints)
    const unclosed = (): FormatError => fail(`unclosed placeholder: no "}}" after "{{" on the same line`)
    const closesAt = (i: number): boolean => text.charCodeAt(i) === BRACE_CLOSE && text.charCodeAt(i + 1) === BRACE_CLOSE
    const endsLine = (c: number): boolean => c === LF || c === CR || Number.isNaN(c)
    const skipBlanks = (i: number): number => {
        while (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB) i++
        return i
    }

    const start = skipBlanks(from)
    const first = text.charCodeAt(start)
    if (endsLine(first)) throw unclosed()
    if (closesAt(start)) throw fail("empty placeholder")

    if (first === DQUOTE) {
        let out = ""
        let i = start + 1
        for (;;) {
            const c = text.charCodeAt(i)
            if (endsLine(c)) throw fail(`unclosed quoted text in a placeholder: no closing '"' on the same line`, [`write {{ "text" }}, with \\" for a quote inside`])
            if (c === DQUOTE) break
            if (c === BACKSLASH && (text.charCodeAt(i + 1) === DQUOTE || text.charCodeAt(i + 1) === BACKSLASH)) {
                out += text[i + 1]
                i += 2
                continue
            }
            out += text[i]
            i++
        }
        const close = skipBlanks(i + 1)
        if (!closesAt(close)) throw fail(`expected "}}" after the quoted text`, [`a literal is written {{ "text" }}, alone in its braces`])
        return { value: out, end: close + 2 }
    }

    if (text.startsWith("op://", start)) {
        let i = start
        while (!closesAt(i)) {
            if (endsLine(text.charCodeAt(i))) throw unclosed()
            i++
        }
        const reference = text.slice(start, i).replace(/[ \t]+$/, "")
        checkOpReference(reference, fail)
        return { value: { kind: "op", reference, at }, end: i + 2 }
    }

    // FILE#PATH: the file ends at the first '#'; the path may quote keys holding
    // '}}' or '#', so quotes are honoured from there on, as tree-path reads them.
    let hash = start
    for (;;) {
        const c = text.charCodeAt(hash)
        if (endsLine(c)) throw unclosed()
        if (c === HASH) break
        if (closesAt(hash)) {
            throw fail(`${quote(text.slice(start, hash).replace(/[ \t]+$/, ""))} is not a placeholder: expected FILE#["key"] or op://vault/item/field`)
        }
        if (c === BRACE_OPEN && text.charCodeAt(hash + 1) === BRACE_OPEN) throw fail(`"{{" inside a placeholder`)
        hash++
    }
    const file = text.slice(start, hash).replace(/[ \t]+$/, "")
    if (file === "") throw fail(`no file before "#"`)
    if (/[\u0000-\u001f\u007f]/.test(file)) throw fail("the file name contains a control character")
    let i = hash + 1
    let inQuote = 0
    for (;;) {
        const c = text.charCodeAt(i)
        if (endsLine(c)) {
            throw inQuote !== 0 ? fail(`unclosed quote in the key path of a placeholder`, [`write key paths like ["db"]["password"]`]) : unclosed()
        }
        if (inQuote !== 0) {
            if (c === inQuote) inQuote = 0
        } else if (c === DQUOTE || c === SQUOTE) {
            inQuote = c
        } else if (closesAt(i)) {
            break
        }
        i++
    }
    const path = text.slice(hash + 1, i).trim()
    if (path === "") throw fail(`no key path after "#"`, [`write the key path in sops index syntax: ${file}#["key"]`])
    let steps: PathStep[]
    try {
        steps = parseTreePath(path)
    } catch (e) {
        if (e instanceof SecretsError) throw fail(e.message, e.hints)
        throw e
    }
    return { value: { kind: "file", file, path, steps, at }, end: i + 2 }
}

/**
 * op's own checks (op-reference.ts), plus one of ours: op inject expands `$VAR` in
 * a template but we do not, so a `$` would reach `op read` verbatim and fail there
 * with a vault-not-found that hides the reason.
 */
function checkOpReference(reference: string, fail: (why: string, hints?: readonly string[]) => FormatError): void {
    try {
        parseOpReference(reference)
    } catch (e) {
        if (e instanceof SecretsError) throw fail(e.message, e.hints)
        throw e
    }
    if (reference.includes("$")) {
        throw fail(`${quote(reference)}: variables ($VAR) are not expanded in references`, ["write the vault, item and field names themselves"])
    }
}
