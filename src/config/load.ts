/**
 * Parsing `.sops.yaml` (sops-format.md §8); finding it is find.ts. Pure: the caller supplies
 * `exists` and the file text, so this module never touches the file system.
 */
import { LineCounter, type Document } from "yaml"
import { InputLimitError } from "../core/input-limits.js"
import { ConfigError } from "../errors.js"
import { checkAliasExpansion, parseYamlStream } from "../stores/yaml-limits.js"
import { formatPath, hintFor, lineOf, type IssuePath } from "./errors-format.js"
import { CREATION_RULE_KEYS, KEY_GROUP_KEYS, validateConfig, type Config, type ConfigFile, type ConfigIssue } from "./schema.js"

export { CONFIG_NAME, findConfig, type FindConfigOptions } from "./find.js"

/**
 * Parse and validate a config. `path` names the file in messages. Errors are
 * ConfigErrors of the form `<path>:<line>: <field>: <problem>` with a hint; they never
 * quote the file's text.
 */
export function parseConfig(text: string, path: string): Config {
    const counter = new LineCounter()
    // logLevel "error": the yaml package's warnings go to process.emitWarning, outside
    // our voice, quoting the file (a list used as a key); the key is reported below
    // as an unknown one instead. yaml.v3 honours `<<` merge keys when decoding into structs, and rejects
    // duplicate keys; sops reads only the first document.
    const doc: Document | undefined = withinLimits(path, () => parseYamlStream(text, { merge: true, uniqueKeys: true, logLevel: "error" }, { lineCounter: counter })[0])
    if (doc === undefined) return { path, warnings: [] }
    const syntax = doc.errors[0]
    if (syntax !== undefined) {
        const { line, col } = counter.linePos(syntax.pos[0])
        throw new ConfigError(`${path}:${line}:${col}: invalid YAML: ${yamlProblem(syntax.code)}`, [
            "fix the YAML syntax; sops cannot read this file either",
        ])
    }

    // sops reads .sops.yaml with yaml.Unmarshal, under go-yaml's alias budget; so do
    // we, before anything below expands an alias.
    withinLimits(path, () => checkAliasExpansion(doc, (n) => counter.linePos(n.range?.[0] ?? 0).line))
    let data: unknown
    try {
        // The expansion is bounded above, by go-yaml's rule; the yaml package's own
        // (different) alias limit would refuse sops-nix configs that sops reads.
        data = doc.toJS({ maxAliasCount: -1 })
    } catch {
        // A ReferenceError whose message names the alias.
        throw new ConfigError(`${path}: YAML aliases could not be resolved`, ["every *alias needs an &anchor defined earlier in the file"])
    }
    if (data === null || data === undefined) return { path, warnings: [] }
    if (typeof data !== "object" || Array.isArray(data)) {
        throw new ConfigError(`${path}:1: the config must be a mapping`, ["start with creation_rules:"])
    }

    const result = validateConfig(dropNulls(data))
    if (!result.ok) throw issueToError(result.issues, doc, counter, path)
    return { ...result.config, path, warnings: unknownKeyWarnings(result.config, doc, counter, path) }
}

/** Run `read`, turning a broken input bound into a ConfigError naming the config. */
function withinLimits<T>(path: string, read: () => T): T {
    try {
        return read()
    } catch (e) {
        if (e instanceof InputLimitError) throw new ConfigError(`${path}: ${e.detail}`, e.hints)
        throw e
    }
}

function issueToError(issues: readonly ConfigIssue[], doc: Document, counter: LineCounter, file: string): ConfigError {
    const issue = issues[0]
    if (issue === undefined) return new ConfigError(`${file}: invalid config`)
    const where: IssuePath = issue.path
    const line = lineOf(doc, counter, where)
    const field = formatPath(where)
    const hint = issue.hint ?? hintFor(where)
    const more = issues.length > 1 ? [`${issues.length - 1} more problem(s) after this one`] : []
    return new ConfigError(`${file}:${line}: ${field === "" ? "" : `${field}: `}${issue.message}`, [
        ...(hint === undefined ? [] : [hint]),
        ...more,
    ])
}

/**
 * A phrase for a yaml parse error code. The library's own messages can quote the
 * input (tag names, alias names, characters), and ours never do.
 */
function yamlProblem(code: string): string {
    const known: Record<string, string> = {
        BAD_INDENT: "bad indentation or an unclosed bracket",
        TAB_AS_INDENT: "tabs are not allowed for indentation",
        DUPLICATE_KEY: "a key appears twice in one mapping",
        MISSING_CHAR: "a closing quote or bracket is missing",
        MULTILINE_IMPLICIT_KEY: "a key spans several lines (is a colon or quote missing?)",
        BLOCK_AS_IMPLICIT_KEY: "a nested block is used as a key",
        UNEXPECTED_TOKEN: "unexpected character",
        BAD_ALIAS: "an alias names no earlier anchor",
        BAD_SCALAR_START: "a plain value starts with a reserved character; quote it",
        BAD_DQ_ESCAPE: "invalid escape in a double-quoted string",
    }
    return known[code] ?? code.toLowerCase().replaceAll("_", " ")
}

/** yaml.v3 leaves a Go field at its zero value for `null`, so a null key is "not set". */
function dropNulls(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(dropNulls)
    if (v !== null && typeof v === "object") {
        const out: Record<string, unknown> = {}
        for (const [k, val] of Object.entries(v)) if (val !== null) out[k] = dropNulls(val)
        return out
    }
    return v
}

/** sops ignores unknown keys in rules and key groups; a typo there silently drops a setting, so say so. */
function unknownKeyWarnings(config: ConfigFile, doc: Document, counter: LineCounter, file: string): string[] {
    const warnings: string[] = []
    const ruleKeys = new Set<string>(CREATION_RULE_KEYS)
    const groupKeys = new Set<string>(KEY_GROUP_KEYS)
    const check = (obj: object, at: IssuePath, known: Set<string>): void => {
        for (const k of Object.keys(obj)) {
            if (known.has(k)) continue
            const p = [...at, k]
            warnings.push(`${file}:${lineOf(doc, counter, p, true)}: ${formatPath(p)}: unknown field, ignored (sops ignores it too)`)
        }
    }
    const walkGroup = (g: Record<string, unknown>, at: IssuePath): void => {
        check(g, at, groupKeys)
        const merge = g["merge"]
        if (Array.isArray(merge)) merge.forEach((m: Record<string, unknown>, i) => walkGroup(m, [...at, "merge", i]))
    }
    for (const [i, rule] of (config.creation_rules ?? []).entries()) {
        check(rule, ["creation_rules", i], ruleKeys)
        for (const [j, g] of (rule.key_groups ?? []).entries()) walkGroup(g, ["creation_rules", i, "key_groups", j])
    }
    return warnings
}
