/**
 * Env templates for `secrets run --env-file` (issue 13 point 1), and the
 * placeholders `run` resolves in its own environment, as `op run` does.
 *
 * An env template is a dotenv-style file: `NAME=VALUE` per line, blank lines and
 * `#` comments skipped, an optional `export ` prefix, a value in matching single
 * or double quotes taken without them. The value may hold placeholders of
 * `secrets render` (src/delivery/template.ts): `{{ secrets/app.yaml#["db"]["password"] }}`
 * or `{{ op://Vault/Item/field }}`; plain values pass through. Unlike op's env
 * files, `$VAR` is not expanded: a value is what the file says.
 *
 * In the environment, a variable is resolved only when its whole value is one
 * placeholder (`{{ … }}`) or a bare `op://` reference, so an unrelated variable
 * that merely contains `{{` (a Go template, a prompt) is left alone.
 */
import { FormatError, quote } from "../errors.js"
import { parseTemplate, type ParsedTemplate } from "../delivery/template.js"

/** One variable whose value is a template (possibly without placeholders). */
export interface TemplateVariable {
    readonly name: string
    readonly template: ParsedTemplate
    /** Characters of padding before the value in what `template` renders (see parseEnvTemplate). */
    readonly skip: number
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Parse an env template's text; `source` names it in errors. */
export function parseEnvTemplate(text: string, source: string): TemplateVariable[] {
    const out: TemplateVariable[] = []
    const lines = text.split(/\r?\n/)
    lines.forEach((raw, i) => {
        const line = raw.trim()
        if (line === "" || line.startsWith("#")) return
        const where = `${source}:${i + 1}`
        const body = line.startsWith("export ") ? line.slice(7).trimStart() : line
        const eq = body.indexOf("=")
        if (eq <= 0) throw new FormatError(`${where}: expected NAME=VALUE`, ["an env template has one NAME=VALUE per line; # starts a comment"])
        const name = body.slice(0, eq).trim()
        if (!NAME.test(name)) {
            throw new FormatError(`${where}: ${quote(name)} is not a variable name`, ["names are letters, digits and _, not starting with a digit"])
        }
        const rawValue = body.slice(eq + 1).trim()
        const value = unquote(rawValue, where)
        // Parsed behind padding that puts it at its own line and column, so an error
        // names `file:line:column` of the file itself; the padding is literal text,
        // cut off again after rendering. Names and `=` are ASCII, so the column
        // counts as the template's cursor does.
        const column = raw.trimEnd().length - rawValue.length + (value === rawValue ? 0 : 1)
        const padding = "\n".repeat(i) + " ".repeat(column)
        out.push({ name, template: parseTemplate(padding + value, source), skip: padding.length })
    })
    return out
}

function unquote(value: string, where: string): string {
    const q = value[0]
    if (q !== '"' && q !== "'") return value
    if (value.length < 2 || value[value.length - 1] !== q) {
        throw new FormatError(`${where}: unclosed ${q === '"' ? "double" : "single"} quote`, ["quote the whole value, on one line"])
    }
    return value.slice(1, -1)
}

/** The variables of `env` whose value is a placeholder or an `op://` reference, as templates. */
export function environmentTemplates(env: Readonly<Record<string, string>>): TemplateVariable[] {
    const out: TemplateVariable[] = []
    for (const [name, value] of Object.entries(env)) {
        const v = value.trim()
        const text = v.startsWith("op://") ? `{{ ${v} }}` : /^\{\{[^\n]*\}\}$/.test(v) ? v : undefined
        if (text === undefined) continue
        out.push({ name, template: parseTemplate(text, `environment variable ${name}`), skip: 0 })
    }
    return out
}
