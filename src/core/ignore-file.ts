/**
 * `.secretsignore`, the file at the top of a repository that tells `secrets scan`
 * and the pre-commit hook which findings are known and accepted. One entry a line:
 *
 *     <glob-or-path> [<rule-id>]  # reason
 *
 * The reason is required: an entry hides findings from everyone after its author,
 * so it must say why (a test vector, a documented example). A line without one is
 * an error naming the line, as is a rule id no rule has (a typo would otherwise
 * hide nothing and nobody would notice), never skipped. Blank lines and lines
 * starting with `#` are comments.
 *
 * Globs read as `.gitignore` patterns do, as far as a list of files needs: `*` and
 * `?` within one path component, `**` across components, a pattern with no `/`
 * matches a name at any depth, a leading `/` or an inner `/` anchors it at the top,
 * and a pattern naming a directory covers everything under it. No negation.
 *
 * Pure: text in, entries out.
 */
import { ExitCode, SecretsError } from "../errors.js"
import { compileGoRegex, type GoRegex } from "./go-regex.js"

export const IGNORE_FILE_NAME = ".secretsignore"

export interface IgnoreEntry {
    /** The pattern as written. */
    readonly pattern: string
    /** undefined: every rule. */
    readonly ruleId: string | undefined
    readonly reason: string
    /** 1-based line in the ignore file. */
    readonly line: number
    readonly matcher: GoRegex
}

/** A bad ignore file is a fatal error of the scan: exit 2, as secretlint's. */
function ignoreFileError(where: string, line: number, problem: string, hint: string): SecretsError {
    return new SecretsError(ExitCode.CouldNotReadInputFile, `${where}:${line}: ${problem}`, [hint])
}

/**
 * Parse an ignore file. `where` names it in errors; `knownRules`, when given, are
 * the rule ids an entry may name.
 */
export function parseIgnoreFile(text: string, where: string, knownRules?: ReadonlySet<string>): IgnoreEntry[] {
    const out: IgnoreEntry[] = []
    const lines = text.split("\n")
    for (const [i, raw] of lines.entries()) {
        const line = raw.replace(/\r$/, "").trim()
        if (line === "" || line.startsWith("#")) continue
        // The reason starts at the first `#` after a blank: a `#` inside a name stays part of it.
        const hash = /\s#/.exec(line)
        const reason = hash === null ? "" : line.slice(hash.index + 2).trim()
        if (reason === "") {
            throw ignoreFileError(where, i + 1, "an entry without a reason", "add the reason after a #: `<glob-or-path> [<rule-id>]  # why this is not a leak`")
        }
        const fields = line.slice(0, hash?.index).trim().split(/\s+/)
        const [pattern, ruleId, ...rest] = fields
        if (pattern === undefined || pattern === "" || rest.length > 0) {
            throw ignoreFileError(where, i + 1, "expected `<glob-or-path> [<rule-id>]` before the reason", "one path or glob, then optionally one rule id, then `# reason`")
        }
        if (ruleId !== undefined && knownRules !== undefined && !knownRules.has(ruleId)) {
            throw ignoreFileError(where, i + 1, `no rule is called ${JSON.stringify(ruleId)}`, "rule ids are the ones `secrets scan` prints, such as secrets/age-secret-key or @secretlint/secretlint-rule-github")
        }
        if (pattern.startsWith("!")) {
            throw ignoreFileError(where, i + 1, "negated patterns are not supported", "list the paths to ignore instead")
        }
        out.push({ pattern, ruleId, reason, line: i + 1, matcher: globMatcher(pattern) })
    }
    return out
}

/** The entry that hides a finding of `ruleId` in `path` (relative to the top, with `/`), if any. */
export function ignoredBy(entries: readonly IgnoreEntry[], path: string, ruleId: string): IgnoreEntry | undefined {
    return entries.find((e) => (e.ruleId === undefined || e.ruleId === ruleId) && e.matcher.test(path))
}

/**
 * A `.gitignore`-style pattern as a regular expression over a whole relative path.
 * RE2 (linear time), not a backtracking RegExp: the ignore file comes from the
 * repository, and `**a**a**a**b` against a long planted name must not hang a hook.
 */
export function globMatcher(pattern: string): GoRegex {
    let p = pattern.replace(/^\.\//, "")
    const dirOnly = p.endsWith("/")
    if (dirOnly) p = p.replace(/\/+$/, "")
    const anchored = p.startsWith("/") || p.includes("/")
    p = p.replace(/^\/+/, "")
    let body = ""
    for (let i = 0; i < p.length; i++) {
        const c = p[i] as string
        if (c === "*" && p[i + 1] === "*") {
            const slashAfter = p[i + 2] === "/"
            const atStart = i === 0 || p[i - 1] === "/"
            if (atStart && slashAfter) {
                body += "(?:.*/)?"
                i += 2
            } else {
                body += ".*"
                i += 1
            }
        } else if (c === "*") body += "[^/]*"
        else if (c === "?") body += "[^/]"
        else body += c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    }
    // A name matches at any depth; a directory's pattern covers what is under it.
    // (?s): a name may hold a newline, and `*` must still match it.
    return compileGoRegex(`(?s)^${anchored ? "" : "(?:.*/)?"}${body}${dirOnly ? "/.*" : "(?:/.*)?"}$`, IGNORE_FILE_NAME)
}
