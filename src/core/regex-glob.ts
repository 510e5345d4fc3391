/**
 * A creation rule's `path_regex` (a Go regexp, matched UNANCHORED against the path
 * relative to the config's directory) as `.gitattributes` patterns (gitignore
 * wildmatch: `*` stays inside one path component, `/**\/` is zero or more
 * directories, a pattern with no `/` matches a basename at any depth), for
 * `secrets git setup`.
 *
 * Only patterns whose translation is EXACT are translated: the globs match a
 * relative file path (without a newline, which Go's `.` does not match) if and only
 * if the regex does. Anything else (a bare `.`, `\d`, counted repeats, flags, a
 * repeated group) gives a reason instead, and the caller lists the files the regex
 * matches today. An inexact glob would mark other files with
 * `merge=secrets` (a plain file sent through the secrets merge driver) or miss
 * encrypted ones (git's own line merge on a sops file: the mac conflicts of sops #52).
 *
 * The subset: `^` first, `$` last, literals and escaped punctuation, `.*` (any
 * string, `/` included), `.+` where it cannot be empty anyway, `[^/]*` and `[^/]+`
 * (inside one component), groups of alternatives `(a|b)` / `(?:a|b)` (spliced out:
 * `(a|b)c` is `ac|bc`), and top-level `|`. Pure: no I/O.
 */

/** What {@link pathRegexGlobs} makes of a pattern. */
export type GlobDerivation =
    | { readonly kind: "globs"; readonly globs: readonly string[] }
    /** The regex matches every path (empty, `.*`, `^`): no pattern should claim the whole repository. */
    | { readonly kind: "everything" }
    | { readonly kind: "unsupported"; readonly reason: string }

/** A regex with more alternatives than this is listed file by file. */
const MAX_GLOBS = 32

type Item = { readonly t: "lit"; readonly s: string } | { readonly t: "any"; readonly nonEmpty: boolean } | { readonly t: "comp"; readonly nonEmpty: boolean }

class Unsupported extends Error {}

/**
 * The gitattributes patterns equal to `pattern`. `base` is the config's directory
 * relative to the `.gitattributes` (`""` at the top, `infra/dev` below it): the
 * regex sees paths relative to the config, the patterns relative to the top.
 */
export function pathRegexGlobs(pattern: string, base = ""): GlobDerivation {
    try {
        const out = new Set<string>()
        for (const branch of expandAlternatives(pattern)) {
            const items = normalise(parseBranch(branch))
            if (items.length === 1 && items[0]?.t === "any") return { kind: "everything" }
            for (const g of toGlobs(items)) {
                out.add(withBase(g, base))
                if (out.size > MAX_GLOBS) throw new Unsupported(`more than ${MAX_GLOBS} alternatives`)
            }
        }
        return { kind: "globs", globs: [...out] }
    } catch (e) {
        if (e instanceof Unsupported) return { kind: "unsupported", reason: e.message }
        throw e
    }
}

/**
 * A literal path as a pattern that matches only that path: glob characters escaped,
 * anchored to the `.gitattributes` directory.
 */
export function literalPathPattern(path: string): string {
    return withBase(escapeGlob(path), "")
}

/**
 * A pattern as it can stand on a `.gitattributes` line: the line splits at
 * whitespace, so a pattern holding a blank, a quote or a control character is
 * written C-quoted (git's attr.c reads `"…"` patterns with unquote_c_style).
 */
export function attributeLinePattern(glob: string): string {
    if (!/[\s"\x00-\x1f\x7f]/.test(glob)) return glob
    let q = '"'
    for (const ch of glob) {
        const c = ch.codePointAt(0) ?? 0
        if (ch === '"' || ch === "\\") q += `\\${ch}`
        else if (ch === "\t") q += "\\t"
        else if (ch === "\n") q += "\\n"
        else if (c < 0x20 || c === 0x7f) q += `\\${c.toString(8).padStart(3, "0")}`
        else q += ch
    }
    return `${q}"`
}

/** Split top-level `|` and expand groups of literal alternatives into separate branches. */
function expandAlternatives(pattern: string): string[] {
    const top = splitTop(pattern)
    const out: string[] = []
    for (const branch of top) {
        const m = /^(.*?)\((\?:)?([^()]*)\)(.*)$/s.exec(branch)
        if (m === null) {
            if (branch.includes("(") || branch.includes(")")) throw new Unsupported("a group that is not a list of literal alternatives")
            out.push(branch)
        } else {
            const [, before = "", , inner = "", after = ""] = m
            if (isEscaped(branch, before.length)) throw new Unsupported("an escaped parenthesis")
            if (/^[*+?{]/.test(after)) throw new Unsupported("a repeated group")
            for (const alt of splitTop(inner)) out.push(...expandAlternatives(`${before}${alt}${after}`))
        }
        if (out.length > MAX_GLOBS) throw new Unsupported(`more than ${MAX_GLOBS} alternatives`)
    }
    return out
}

/** Split at `|` outside groups and classes, keeping escapes. */
function splitTop(s: string): string[] {
    const parts: string[] = []
    let depth = 0
    let inClass = false
    let cur = ""
    for (let i = 0; i < s.length; i++) {
        const ch = s[i] as string
        if (ch === "\\") {
            cur += ch + (s[i + 1] ?? "")
            i++
            continue
        }
        if (inClass) {
            if (ch === "]") inClass = false
        } else if (ch === "[") inClass = true
        else if (ch === "(") depth++
        else if (ch === ")") depth--
        else if (ch === "|" && depth === 0) {
            parts.push(cur)
            cur = ""
            continue
        }
        cur += ch
    }
    parts.push(cur)
    return parts
}

/** One branch (no `|`, no groups) as items; `^`/`$` become the absence of `any` at that end. */
function parseBranch(b: string): Item[] {
    const items: Item[] = []
    let i = 0
    const anchoredStart = b.startsWith("^")
    if (anchoredStart) i = 1
    let end = b.length
    const anchoredEnd = b.endsWith("$") && !isEscaped(b, b.length - 1)
    if (anchoredEnd) end--
    if (!anchoredStart) items.push({ t: "any", nonEmpty: false })
    const lit = (s: string) => {
        const last = items[items.length - 1]
        if (last?.t === "lit") items[items.length - 1] = { t: "lit", s: last.s + s }
        else items.push({ t: "lit", s })
    }
    while (i < end) {
        const ch = b[i] as string
        const next = i + 1 < end ? b[i + 1] : undefined
        if (ch === "\\") {
            if (next === undefined || /[A-Za-z0-9]/.test(next)) throw new Unsupported(next === undefined ? "a trailing backslash" : `the escape \\${next}`)
            lit(next)
            i += 2
        } else if (ch === ".") {
            if (next !== "*" && next !== "+") throw new Unsupported("`.` matching any one character (write `\\.` for a dot)")
            items.push({ t: "any", nonEmpty: next === "+" })
            i += 2
        } else if (b.startsWith("[^/]", i)) {
            const q = i + 4 < end ? b[i + 4] : undefined
            if (q !== "*" && q !== "+") throw new Unsupported("a character class")
            items.push({ t: "comp", nonEmpty: q === "+" })
            i += 5
        } else if ("[]{}*+?^$()|".includes(ch)) {
            throw new Unsupported(`\`${ch}\` here`)
        } else {
            lit(ch)
            i++
        }
        const after = i < end ? b[i] : undefined
        if (after !== undefined && "*+?{".includes(after)) throw new Unsupported("a repeated character")
    }
    if (!anchoredEnd) items.push({ t: "any", nonEmpty: false })
    return items
}

function isEscaped(s: string, index: number): boolean {
    let n = 0
    for (let j = index - 1; j >= 0 && s[j] === "\\"; j--) n++
    return n % 2 === 1
}

/** `.*.*` is `.*`; `.*` absorbs a neighbouring `[^/]*`. Anything nonempty beside `.*` must be kept apart. */
function normalise(items: Item[]): Item[] {
    const out: Item[] = []
    for (const it of items) {
        const last = out[out.length - 1]
        if (last !== undefined && last.t === "any" && it.t === "any") {
            out[out.length - 1] = { t: "any", nonEmpty: last.nonEmpty || it.nonEmpty }
        } else if (last !== undefined && ((last.t === "any" && it.t === "comp" && !it.nonEmpty) || (last.t === "comp" && !last.nonEmpty && it.t === "any"))) {
            out[out.length - 1] = last.t === "any" ? last : it
        } else out.push(it)
    }
    return out
}

/** Escape wildmatch's special characters in a literal. */
function escapeGlob(s: string): string {
    return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

/** A pattern starting with `#` would be a comment line, with `!` a (forbidden) negation. */
function guardStart(p: string): string {
    return /^[#!]/.test(p) ? `\\${p}` : p
}

/**
 * Items to globs. A `.*` is "zero or more characters, `/` included": next to a
 * component boundary (the start, the end, a `/`) it is exactly `**`-shaped; between
 * two partial components it is `x*y` (no `/`) or `x*\/**\/*y` (some).
 */
function toGlobs(items: readonly Item[]): string[] {
    const first = items[0]
    if (first?.t === "lit" && first.s.startsWith("/")) throw new Unsupported("an absolute path (path_regex sees paths relative to the config)")
    let globs = [""]
    const add = (...alts: string[]) => {
        globs = globs.flatMap((g) => alts.map((a) => g + a))
    }
    for (let k = 0; k < items.length; k++) {
        const it = items[k] as Item
        const prev = items[k - 1]
        const next = items[k + 1]
        if (it.t === "lit") add(escapeGlob(it.s))
        else if (it.t === "comp") add(it.nonEmpty ? "?*" : "*")
        else {
            // Boundaries: the start (a relative path never starts with `/`), a literal ending
            // in `/` before, the end or a literal starting with `/` after.
            const leftEdge = prev === undefined || (prev.t === "lit" && prev.s.endsWith("/"))
            const rightEdge = next === undefined || (next.t === "lit" && next.s.startsWith("/"))
            if (prev !== undefined && prev.t !== "lit") throw new Unsupported("`.*` beside another wildcard")
            if (next !== undefined && next.t !== "lit") throw new Unsupported("`.*` beside another wildcard")
            if (leftEdge && rightEdge) {
                // Whole components, at least one (paths have no empty components and
                // do not start or end with `/`), so `.+` is the same here.
                if (next === undefined) add("**")
                else add("*/**")
            } else if (it.nonEmpty) {
                throw new Unsupported("`.+` inside a path component")
            } else if (leftEdge) add("**/*")
            else if (rightEdge) {
                if (next === undefined) add("*", "*/**")
                else add("*/**")
            } else add("*", "*/**/*")
        }
    }
    return globs.map((g) => g.replace(/^\*\*\/\*\*$/, "**"))
}

/**
 * Anchor a glob under `base`. Without `base`, a glob with no `/` would match at any
 * depth, so it gets a leading `/`; one starting `**\/` without a further `/` is a
 * basename pattern and is written as such (`*.enc.yaml`).
 */
function withBase(glob: string, base: string): string {
    const rest = glob.startsWith("**/") ? glob.slice(3) : undefined
    if (base === "") {
        if (rest !== undefined && !rest.includes("/")) return guardStart(rest)
        if (rest !== undefined) return glob
        return glob.includes("/") ? guardStart(glob) : `/${glob}`
    }
    return guardStart(`${escapeGlob(base)}/${glob}`)
}
