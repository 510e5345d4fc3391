/**
 * The `.gitattributes` part of `secrets git setup`: one line
 * `<pattern> diff=secrets merge=secrets` per encrypted path of `.sops.yaml`, inside a
 * block of ours (`# secrets: begin` … `# secrets: end`) that is rewritten in place,
 * so the user's own lines stay as they are.
 *
 * A creation rule's `path_regex` is a Go regex matched against the path relative to
 * the config; `.gitattributes` holds globs relative to the top of the work tree. A
 * layout rule (`^secrets/hosts/web1/`) and the simple shapes (`\.enc\.yaml$`,
 * `^secrets/.*\.yaml$`) have exact globs (core/regex-glob.ts); any other regex is
 * written as the list of files it matches today, which a later file escapes until
 * setup runs again (setup says so, and `--check` then reports the block stale).
 * A rule matching every path (no `path_regex`) would send every file of the
 * repository through the secrets merge driver, so it lists only the files that are
 * sops files today.
 */
import { lstatSync, openSync, readSync, closeSync, fstatSync, constants } from "node:fs"
import { join, relative, isAbsolute } from "node:path"
import type { Config } from "../config/schema.js"
import { pathForRules } from "../config/match.js"
import { pathRegex } from "../config/path-regex.js"
import { attributeLinePattern, literalPathPattern, pathRegexGlobs } from "../core/regex-glob.js"
import { isSideFile } from "../core/side-files.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { dirFor, parseLayoutRegex } from "./layout.js"

export const BLOCK_BEGIN = "# secrets: begin"
export const BLOCK_END = "# secrets: end"
export const ATTRIBUTES = "diff=secrets merge=secrets"

/** What the block says and what the user should know about it. */
export interface AttributesBlock {
    /** The lines between the markers, markers included, each without its newline. */
    readonly lines: readonly string[]
    /** How many patterns (paths) the block lists. */
    readonly paths: number
    /** One sentence per regex that had to be listed file by file. */
    readonly notes: readonly string[]
}

/** The repository as the block needs it: paths absolute and real (symlinks resolved). */
export interface AttributesInput {
    readonly top: string
    readonly config: Config
    readonly configDir: string
    /** The repository's files relative to `top`, for the regexes without a glob. */
    readonly files: () => Promise<readonly string[]>
}

/** Each creation rule's patterns, or (for a regex without a glob) the files it matches now. */
interface RulePaths {
    readonly index: number
    readonly regex: string
    readonly globs?: readonly string[]
    readonly files?: readonly string[]
    /** Why the rule is listed by files. */
    readonly why?: string
}

async function rulePaths(input: AttributesInput): Promise<RulePaths[]> {
    const base = relative(input.top, input.configDir).split("\\").join("/")
    // A config outside the work tree sees paths that do not start at the top: every
    // regex is then listed by the files it matches.
    const outside = base.startsWith("..") || isAbsolute(base)
    const out: RulePaths[] = []
    for (const [index, rule] of (input.config.creation_rules ?? []).entries()) {
        const regex = rule.path_regex ?? ""
        const layout = parseLayoutRegex(regex)
        const derived = outside
            ? { kind: "unsupported" as const, reason: "the config is outside the work tree" }
            : layout !== undefined
              ? { kind: "globs" as const, globs: [`${base === "" ? "" : `${base}/`}${dirFor(layout.kind, layout.name)}/**`] }
              : pathRegexGlobs(regex, base)
        if (derived.kind === "globs") {
            out.push({ index, regex, globs: derived.globs })
            continue
        }
        const matched = await filesMatching(input, index, regex)
        const files = derived.kind === "everything" ? matched.filter((f) => looksLikeSopsFile(join(input.top, f))) : matched
        const why = derived.kind === "everything" ? "matches every file, so only the sops files it matches are listed" : `cannot be a .gitattributes pattern (${derived.reason}), so the ${files.length} file${files.length === 1 ? "" : "s"} it matches now are listed`
        out.push({ index, regex, files, why })
    }
    return out
}

/** The repository's files (our own files aside) that the rule's regex matches, as sops would see their paths. */
async function filesMatching(input: AttributesInput, index: number, regex: string): Promise<string[]> {
    const matcher = pathRegex(regex, `creation_rules[${index}].path_regex`)
    return (await input.files()).filter((f) => {
        const abs = join(input.top, f)
        const seen = pathForRules(input.configDir, abs)
        if (seen === abs || isOurs(f)) return false
        return regex === "" || matcher.test(seen)
    })
}

/** Our block for this config. */
export async function attributesBlock(input: AttributesInput): Promise<AttributesBlock> {
    const patterns: string[] = []
    const notes: string[] = []
    const body: string[] = []
    for (const r of await rulePaths(input)) {
        if (r.globs !== undefined) {
            patterns.push(...r.globs)
            continue
        }
        const shown = r.regex === "" ? "(no path_regex)" : `path_regex ${quote(r.regex)}`
        notes.push(`creation_rules[${r.index}] ${shown} ${r.why ?? ""}: re-run \`secrets git setup\` after adding files there`)
        body.push(`# creation_rules[${r.index}] ${shown.replace(/\n/g, " ")}: the files it matches today (re-run \`secrets git setup\` for new ones)`)
        for (const f of r.files ?? []) patterns.push(literalPathPattern(f))
    }
    const unique = [...new Set(patterns)]
    const lines = [
        `${BLOCK_BEGIN} (written by \`secrets git setup\` from ${quote(relativeOrAbsolute(input.top, join(input.configDir, ".sops.yaml")))}; edits here are replaced)`,
        ...body.filter((l, k) => body.indexOf(l) === k),
        ...unique.map((p) => `${attributeLinePattern(p)} ${ATTRIBUTES}`),
        BLOCK_END,
    ]
    return { lines, paths: unique.length, notes }
}

/**
 * The files the block is for: what the creation rules match in the repository now
 * (the sops files only, for a rule that matches everything). setup asks git which
 * attributes they really get, since a later line, a `.gitattributes` deeper down or
 * `.git/info/attributes` overrides ours.
 */
export async function coveredFiles(input: AttributesInput): Promise<string[]> {
    const out = new Set<string>()
    for (const r of await rulePaths(input)) {
        const files = r.files ?? (await filesMatching(input, r.index, r.regex))
        for (const f of files) out.add(f)
    }
    return [...out].sort()
}

function relativeOrAbsolute(top: string, p: string): string {
    const r = relative(top, p)
    return r.startsWith("..") || isAbsolute(r) ? p : r.split("\\").join("/")
}

/** Our own files: the config, the attributes, locks and temp files. */
function isOurs(rel: string): boolean {
    const name = rel.slice(rel.lastIndexOf("/") + 1)
    return name === ".sops.yaml" || name === ".gitattributes" || isSideFile(name)
}

/** sops puts its metadata last in every format: this much of a file's end holds it. */
const TAIL_BYTES = 64 * 1024

/** Whether a file ends in sops metadata (the same test as shell completion's, on the file's tail). */
function looksLikeSopsFile(abs: string): boolean {
    let fd: number | undefined
    try {
        fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
        const st = fstatSync(fd)
        if (!st.isFile()) return false
        const len = Math.min(st.size, TAIL_BYTES)
        const buf = Buffer.alloc(len)
        readSync(fd, buf, 0, len, st.size - len)
        const tail = buf.toString("utf8")
        if (/^sops:[ \t]*\r?$/m.test(tail) && /^[ \t]+(mac|lastmodified):/m.test(tail)) return true
        if (/"sops"\s*:\s*\{/.test(tail) && /"(mac|lastmodified)"\s*:/.test(tail)) return true
        if (/^sops_(mac|version|lastmodified)=/m.test(tail)) return true
        return /^\[sops\][ \t]*\r?$/m.test(tail) && /^(mac|lastmodified)[ \t]*=/m.test(tail)
    } catch {
        return false
    } finally {
        if (fd !== undefined) closeSync(fd)
    }
}

/** The current `.gitattributes`, split around our block. */
export interface AttributesFile {
    readonly path: string
    /** The file's text, or undefined when there is none. */
    readonly text: string | undefined
    /** Our block's lines as they are (markers included), or undefined. */
    readonly block: readonly string[] | undefined
}

/**
 * Read the top's `.gitattributes`. A symlink is refused: the file is the
 * repository's content, and a committed link to `~/.bashrc` must not make setup
 * write there (writeFileAtomic would replace the link, not follow it, but a
 * replaced link is not what the user asked for either). So is anything that is not
 * a regular file, and a block whose end marker is missing (we would not know where
 * our lines stop).
 */
export function readAttributesFile(top: string): AttributesFile {
    const path = join(top, ".gitattributes")
    let st
    try {
        st = lstatSync(path)
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return { path, text: undefined, block: undefined }
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `cannot read ${quote(path)}: ${(e as NodeJS.ErrnoException).code ?? "error"}`)
    }
    if (st.isSymbolicLink()) throw refusal(`${quote(path)} is a symbolic link`, "replace it with a regular file (or remove it), then run setup again")
    if (!st.isFile()) throw refusal(`${quote(path)} is not a regular file`, "remove it, then run setup again")
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    let text: string
    try {
        const buf = Buffer.alloc(fstatSync(fd).size)
        let off = 0
        while (off < buf.length) {
            const n = readSync(fd, buf, off, buf.length - off, off)
            if (n === 0) break
            off += n
        }
        text = buf.subarray(0, off).toString("utf8")
    } finally {
        closeSync(fd)
    }
    const lines = text.split("\n")
    const begin = lines.findIndex((l) => l.startsWith(BLOCK_BEGIN))
    if (begin < 0) return { path, text, block: undefined }
    const end = lines.findIndex((l, k) => k > begin && l.trimEnd() === BLOCK_END)
    if (end < 0) throw refusal(`${quote(path)} has a ${quote(BLOCK_BEGIN)} line without a ${quote(BLOCK_END)} line`, `add the ${quote(BLOCK_END)} line after secrets' lines (or remove them), then run setup again`)
    return { path, text, block: lines.slice(begin, end + 1) }
}

/** The file with our block replaced (or appended), every other line kept. */
export function withBlock(current: AttributesFile, block: readonly string[]): string {
    if (current.text === undefined || current.text === "") return `${block.join("\n")}\n`
    const lines = current.text.split("\n")
    const begin = lines.findIndex((l) => l.startsWith(BLOCK_BEGIN))
    if (begin >= 0 && current.block !== undefined) {
        lines.splice(begin, current.block.length, ...block)
        return lines.join("\n")
    }
    const sep = current.text.endsWith("\n") ? "" : "\n"
    return `${current.text}${sep}${block.join("\n")}\n`
}

/** Whether the file's block is the one we would write. */
export function blockIsCurrent(current: AttributesFile, block: readonly string[]): boolean {
    // A CRLF file's lines end in \r: the same block all the same.
    return current.block !== undefined && current.block.length === block.length && current.block.every((l, k) => l.replace(/\r$/, "") === block[k])
}

export function refusal(message: string, hint: string): SecretsError {
    return new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to set up: ${message}`, [hint])
}
