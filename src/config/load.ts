/**
 * Finding and parsing `.sops.yaml` (sops-format.md §8). Pure: the caller supplies
 * `exists` and the file text, so this module never touches the file system.
 */
import path from "node:path"
import { LineCounter, parseAllDocuments, type Document } from "yaml"
import type { ZodError } from "zod"
import { ConfigError } from "../errors.js"
import { formatPath, hintFor, lineOf, type IssuePath } from "./errors-format.js"
import { CREATION_RULE_KEYS, KEY_GROUP_KEYS, configSchema, type Config, type ConfigFile } from "./schema.js"

export const CONFIG_NAME = ".sops.yaml"
const ALTERNATE_NAME = ".sops.yml"
/** sops' `maxDepth`: how many directories the upward search visits. */
const MAX_DEPTH = 100
/**
 * sops-nix style configs reference one anchor from many rules, far more than the yaml
 * package's default of 100 alias expansions allows. The limit still stops
 * "billion laughs" documents: it bounds nodes produced per anchor, not alias count.
 */
const MAX_ALIAS_COUNT = 10_000

export interface FindConfigOptions {
    /** The file being encrypted (absolute, or relative to `cwd`). */
    readonly filePath?: string
    /** The working directory, absolute. */
    readonly cwd: string
    /** `--config` or `SOPS_CONFIG`, already chosen by the caller. */
    readonly explicit?: string
    readonly exists: (p: string) => boolean
    /** Receives a message when a `.sops.yml` is seen, which neither sops nor we read. */
    readonly warn?: (message: string) => void
}

/**
 * The config file to use, or undefined. An explicit path wins. Otherwise the search
 * walks up from the target file's directory, then from the working directory. sops
 * only does the second (issue #242, open since 2017): running it from the repo root on
 * `services/a/secrets.yaml` misses `services/a/.sops.yaml`. Starting at the file finds
 * the config that belongs to it; falling back to the cwd keeps every lookup sops makes.
 */
export function findConfig(opts: FindConfigOptions): string | undefined {
    if (opts.explicit !== undefined && opts.explicit !== "") return opts.explicit
    const starts: string[] = []
    if (opts.filePath !== undefined && opts.filePath !== "") starts.push(path.dirname(path.resolve(opts.cwd, opts.filePath)))
    starts.push(path.resolve(opts.cwd))
    let alternate: string | undefined
    const seen = new Set<string>()
    for (const start of starts) {
        let dir = start
        for (let i = 0; i < MAX_DEPTH; i++) {
            if (!seen.has(dir)) {
                seen.add(dir)
                const candidate = path.join(dir, CONFIG_NAME)
                if (opts.exists(candidate)) {
                    if (alternate !== undefined) opts.warn?.(alternateWarning(alternate, candidate))
                    return candidate
                }
                const alt = path.join(dir, ALTERNATE_NAME)
                if (alternate === undefined && opts.exists(alt)) alternate = alt
            }
            const parent = path.dirname(dir)
            if (parent === dir) break
            dir = parent
        }
    }
    if (alternate !== undefined) opts.warn?.(alternateWarning(alternate, undefined))
    return undefined
}

function alternateWarning(alternate: string, used: string | undefined): string {
    const base = `ignoring ${JSON.stringify(alternate)}: the config file must be called ${JSON.stringify(CONFIG_NAME)}`
    return used === undefined ? base : `${base}; using ${JSON.stringify(used)} instead`
}

/**
 * Parse and validate a config. `path` names the file in messages. Errors are
 * ConfigErrors of the form `<path>:<line>: <field>: <problem>` with a hint; they never
 * quote the file's text.
 */
export function parseConfig(text: string, path: string): Config {
    const counter = new LineCounter()
    // yaml.v3 honours `<<` merge keys when decoding into structs, and rejects
    // duplicate keys; sops reads only the first document.
    const docs = parseAllDocuments(text, { lineCounter: counter, merge: true, uniqueKeys: true, prettyErrors: false })
    const doc: Document | undefined = Array.isArray(docs) ? docs[0] : undefined
    if (doc === undefined) return { path, warnings: [] }
    const syntax = doc.errors[0]
    if (syntax !== undefined) {
        const { line, col } = counter.linePos(syntax.pos[0])
        throw new ConfigError(`${path}:${line}:${col}: invalid YAML: ${yamlProblem(syntax.code)}`, [
            "fix the YAML syntax; sops cannot read this file either",
        ])
    }

    let data: unknown
    try {
        data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (e) {
        // The yaml package throws a ReferenceError for both; its message names the alias.
        const bomb = e instanceof Error && /excessive alias count/i.test(e.message)
        throw new ConfigError(
            `${path}: YAML aliases could not be resolved`,
            bomb
                ? [`aliases expand to more than ${MAX_ALIAS_COUNT} nodes; is an anchor nested inside its own copies?`]
                : ["every *alias needs an &anchor defined earlier in the file"],
        )
    }
    if (data === null || data === undefined) return { path, warnings: [] }
    if (typeof data !== "object" || Array.isArray(data)) {
        throw new ConfigError(`${path}:1: the config must be a mapping`, ["start with creation_rules:"])
    }

    const result = configSchema.safeParse(dropNulls(data))
    if (!result.success) throw issueToError(result.error, doc, counter, path)
    return { ...result.data, path, warnings: unknownKeyWarnings(result.data, doc, counter, path) }
}

function issueToError(error: ZodError, doc: Document, counter: LineCounter, file: string): ConfigError {
    const issue = error.issues[0]
    if (issue === undefined) return new ConfigError(`${file}: invalid config`)
    const where: IssuePath = issue.path
    const line = lineOf(doc, counter, where)
    const field = formatPath(where)
    const params = "params" in issue ? (issue.params as { hint?: unknown } | undefined) : undefined
    const hint = typeof params?.hint === "string" ? params.hint : hintFor(where)
    const more = error.issues.length > 1 ? [`${error.issues.length - 1} more problem(s) after this one`] : []
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
