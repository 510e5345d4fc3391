/**
 * `secrets scan` (issue 15 §5): hard-coded credentials, plaintext under encrypted
 * paths and the tool's own debris, in the work tree, in given paths, or in git's
 * index (what the next commit holds).
 *
 * Rules: secretlint's recommended preset (ids as secretlint names them, with the
 * AWS rule's access key id scan on), and ours (core/scan-rules.ts). secretlint is
 * imported here only, lazily: no other command loads it.
 *
 * Encrypted sops files are scanned in their clear parts only: ciphertext, armored
 * data keys and key envelopes are blanked first (offsets kept), so random base64
 * never reads as a token, while a credential left in an `_unencrypted` value or a
 * comment is still found.
 *
 * A finding carries the file, line, column, rule and a masked excerpt; never the
 * matched text (not even in --json). `.secretsignore` at the top hides accepted
 * findings (core/ignore-file.ts), each counted.
 */
import { lstat, readdir, readFile } from "node:fs/promises"
import { isAbsolute, join, relative, resolve, sep } from "node:path"
import { IGNORE_FILE_NAME, ignoredBy, parseIgnoreFile, type IgnoreEntry } from "../core/ignore-file.js"
import {
    OWN_RULES,
    PLAINTEXT_RULE,
    TOOL_STATE_RULE,
    ageSecretKeyMatches,
    clearPartsOfSopsText,
    LineIndex,
    maskedExcerpt,
    toolStateReason,
    type TextMatch,
} from "../core/scan-rules.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { parseHolder } from "./lock-holder.js"
import { warn } from "./diagnostics.js"
import type { Io } from "./io.js"
import { sopsClassOf, encryptedPathRule, type ConfigLookup, type SopsClass } from "./scan-sops.js"

/** Files bigger than this are skipped (a build artefact, a database dump), and said so. */
export const MAX_SCAN_BYTES = 2 * 1024 * 1024
/** Directories a walk of given paths never enters. */
const SKIPPED_DIRS = new Set([".git", "node_modules"])

export interface ScanFinding {
    /** Relative to the scan's root (the repository's top), with `/`. */
    readonly file: string
    readonly line: number
    readonly column: number
    readonly ruleId: string
    /** What was found, masked. */
    readonly message: string
    /** The line with every credential on it cut to 4 characters; "" for a finding about a whole file. */
    readonly excerpt: string
}

export interface SkippedFile {
    readonly file: string
    readonly reason: "binary" | "too large" | "symbolic link" | "not a regular file" | "unreadable"
}

/** A file as scanned: where it is, its bytes (from the disk or the index), and what kind of file it is. */
export interface ScannedSource {
    readonly file: string
    readonly abs: string
    readonly bytes: Uint8Array
    readonly sops: SopsClass
}

export interface ScanResult {
    readonly root: string
    readonly findings: ScanFinding[]
    /** Findings `.secretsignore` hid. */
    readonly ignored: number
    readonly scanned: number
    readonly skipped: SkippedFile[]
    /** The sources scanned (the pre-commit hook verifies the sops files among them). */
    readonly sources: ScannedSource[]
}

export interface ScanRequest {
    /** Where the repository is looked for (its top is the scan's root); default io.cwd. Paths stay relative to io.cwd. */
    readonly root?: string
    /** Files or directories (relative to io.cwd); none: the whole work tree. */
    readonly paths?: readonly string[]
    /** Scan git's index instead of the work tree. */
    readonly staged?: boolean
}

/** Where scanned bytes come from: the disk or the index, with the top files (`.sops.yaml`, `.secretsignore`) read the same way. */
interface SourceSet {
    readonly root: string
    readonly files: { file: string; abs: string; bytes: Uint8Array }[]
    readonly skipped: SkippedFile[]
    /** A file of the repository by relative path, as this scan sees the repository. */
    readRepoFile(rel: string): Promise<string | undefined>
}

export async function scanFiles(io: Io, req: ScanRequest): Promise<ScanResult> {
    const { gitTopLevel } = await import("../integrations/git.js")
    const from = req.root === undefined ? io.cwd : resolve(io.cwd, req.root)
    const top = await gitTopLevel(from, io.env)
    let set: SourceSet
    if (req.staged === true) {
        if (top === undefined) {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, "--staged needs a git repository, and this directory is in none", ["run it inside the repository, or scan files: secrets scan PATH…"])
        }
        set = await stagedSources(io, top, req.paths ?? [])
    } else {
        set = await diskSources(io, top ?? from, req.paths ?? [], top !== undefined)
    }
    return scanSources(io, set)
}

async function scanSources(io: Io, set: SourceSet): Promise<ScanResult> {
    const lint = await loadSecretlint()
    const ignoreText = await set.readRepoFile(IGNORE_FILE_NAME)
    const ignore: IgnoreEntry[] = ignoreText === undefined ? [] : parseIgnoreFile(ignoreText, IGNORE_FILE_NAME, new Set([...OWN_RULES, ...lint.ruleIds]))
    const configs = configLookup(io, set)
    const findings: ScanFinding[] = []
    const sources: ScannedSource[] = []
    let ignored = 0
    for (const f of set.files) {
        const sops = await sopsClassOf(f.file, f.bytes)
        sources.push({ ...f, sops })
        const text = new TextDecoder("utf-8").decode(f.bytes)
        const matches: TextMatch[] = []
        const wholeFile: { ruleId: string; message: string }[] = []
        const state = toolStateReason(f.file, looksLikeOurLock(f.file, text))
        if (state !== undefined) wholeFile.push({ ruleId: TOOL_STATE_RULE, message: `${state}; not for a commit` })
        // A lock under an encrypted path is debris to unstage, not a secret to encrypt.
        if (sops.kind !== "sops" && state === undefined) {
            const rule = await encryptedPathRule(configs, f.file)
            if (rule !== undefined) wholeFile.push({ ruleId: PLAINTEXT_RULE, message: `not encrypted, but ${rule} says it must be` })
        }
        const scanned = sops.kind === "sops" ? clearPartsOfSopsText(text) : text
        matches.push(...ageSecretKeyMatches(scanned), ...(await lintOrFail(lint, scanned, f)))
        const lines = new LineIndex(text)
        const masks = masksByLine(lines, matches.map(widenToToken(text)))
        const own: ScanFinding[] = [
            ...wholeFile.map((w) => ({ file: f.file, line: 1, column: 1, ruleId: w.ruleId, message: w.message, excerpt: "" })),
            ...matches.map((m) => ({ file: f.file, ...lines.locate(m.start), ruleId: m.ruleId, message: m.message, excerpt: maskedExcerpt(text, m.start, masks(m.start)) })),
        ]
        for (const finding of own) {
            if (ignoredBy(ignore, finding.file, finding.ruleId) !== undefined) ignored++
            else findings.push(finding)
        }
    }
    // A binary file is never a sops file (sops writes binary files as JSON): under an
    // encrypted path it is plaintext, though its content is not scanned.
    for (const s of set.skipped) {
        if (s.reason !== "binary") continue
        const rule = await encryptedPathRule(configs, s.file)
        if (rule === undefined) continue
        const finding = { file: s.file, line: 1, column: 1, ruleId: PLAINTEXT_RULE, message: `not encrypted, but ${rule} says it must be`, excerpt: "" }
        if (ignoredBy(ignore, finding.file, finding.ruleId) !== undefined) ignored++
        else findings.push(finding)
    }
    findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column))
    return { root: set.root, findings, ignored, scanned: set.files.length, skipped: set.skipped, sources }
}

/** secretlint's findings; a rule that throws stops the scan (exit 2) naming the file, as secretlint's CLI would. */
async function lintOrFail(lint: Secretlint, text: string, f: { file: string; abs: string }): Promise<TextMatch[]> {
    try {
        return await lint.lint(text, f.abs)
    } catch (e) {
        // Only the error's first line: never the file's content.
        const why = e instanceof Error ? (e.message.split("\n")[0] ?? "") : "unknown error"
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(f.file)}: secretlint failed: ${why.slice(0, 200)}`)
    }
}

/**
 * The masks that can touch the line of an offset: those starting on it, and the
 * few that span lines (a PEM key). Grouped once per file, so that a file with
 * thousands of findings does not filter every mask for every finding.
 */
function masksByLine(lines: LineIndex, ranges: readonly { start: number; end: number }[]): (offset: number) => { start: number; end: number }[] {
    const byLine = new Map<number, { start: number; end: number }[]>()
    const spanning: { start: number; end: number }[] = []
    for (const r of ranges) {
        const line = lines.lineOf(r.start)
        if (lines.lineOf(Math.max(r.start, r.end - 1)) !== line) spanning.push(r)
        else {
            const on = byLine.get(line)
            if (on === undefined) byLine.set(line, [r])
            else on.push(r)
        }
    }
    return (offset) => [...(byLine.get(lines.lineOf(offset)) ?? []), ...spanning]
}

/** A `.lock` whose content is our lock's JSON line. */
function looksLikeOurLock(file: string, text: string): boolean {
    return file.endsWith(".lock") && text.length < 4096 && parseHolder(text.trim()) !== null
}

/**
 * A range widened to the whole token it sits in: secretlint's AWS rule reports the
 * secret's length from the start of `aws_secret_access_key = …`, which would leave
 * the secret's tail outside the mask. Masking runs over what the range touches.
 */
function widenToToken(text: string): (m: TextMatch) => { start: number; end: number } {
    // `=` only to the right (base64 padding): to the left it is `NAME=`, which stays readable.
    const before = /[A-Za-z0-9+/_.~-]/
    const after = /[A-Za-z0-9+/=_.~-]/
    return (m) => {
        let start = m.start
        let end = m.end
        while (start > 0 && before.test(text[start - 1] as string)) start--
        while (end < text.length && after.test(text[end] as string)) end++
        return { start, end }
    }
}

interface Secretlint {
    readonly ruleIds: readonly string[]
    lint(text: string, filePath: string): Promise<TextMatch[]>
}

/** secretlint's core and recommended preset, imported on first use only. */
async function loadSecretlint(): Promise<Secretlint> {
    const { lintSource } = await import("@secretlint/core")
    const { creator } = await import("@secretlint/secretlint-rule-preset-recommend")
    const ruleIds = creator.rules.map((r) => r.meta.id)
    const config = {
        rules: [
            {
                id: creator.meta.id,
                rule: creator,
                // The access key id scan is off by default in the preset; an id next to its
                // secret is half a credential, and alone it names the account to attack.
                rules: [{ id: "@secretlint/secretlint-rule-aws", options: { enableIDScanRule: true } }],
            },
        ],
    }
    return {
        ruleIds,
        async lint(text, filePath) {
            const r = await lintSource({ source: { content: text, filePath, contentType: "text" }, options: { config, maskSecrets: true } })
            return r.messages.filter((m) => m.type === "message").map((m) => ({ ruleId: m.ruleId, message: m.message, start: m.range[0], end: m.range[1] }))
        },
    }
}

/** The nearest `.sops.yaml` of each directory, read as this scan reads files; a bad one is warned about once. */
function configLookup(io: Io, set: SourceSet): ConfigLookup {
    return { root: set.root, read: (rel) => set.readRepoFile(rel), warn: (message) => warn(io, message) }
}

function toRel(root: string, abs: string): string {
    const rel = relative(root, abs)
    return rel.startsWith("..") || isAbsolute(rel) ? abs : rel.split(sep).join("/")
}

/** Whether bytes look binary: a NUL in the first 8000 bytes, as git decides. */
export function looksBinary(bytes: Uint8Array): boolean {
    return bytes.subarray(0, 8000).includes(0)
}

async function diskSources(io: Io, root: string, paths: readonly string[], inRepo: boolean): Promise<SourceSet> {
    const absList: string[] = []
    const skipped: SkippedFile[] = []
    if (paths.length === 0) {
        if (inRepo) {
            const { workTreeFiles } = await import("../integrations/git-index.js")
            for (const rel of await workTreeFiles(root, io.env)) absList.push(join(root, rel))
        } else {
            await walk(root, absList)
        }
    } else {
        for (const p of paths) {
            const abs = resolve(io.cwd, p)
            const st = await lstat(abs).catch(() => undefined)
            if (st === undefined) throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(p)}: no such file or directory`)
            if (st.isDirectory()) await walk(abs, absList)
            else absList.push(abs)
        }
    }
    const files: SourceSet["files"] = []
    for (const abs of [...new Set(absList)].sort()) {
        const file = toRel(root, abs)
        const st = await lstat(abs).catch(() => undefined)
        // A tracked file deleted from the work tree is listed by git and gone: nothing to scan.
        if (st === undefined) continue
        if (st.isSymbolicLink()) skipped.push({ file, reason: "symbolic link" })
        else if (!st.isFile()) skipped.push({ file, reason: "not a regular file" })
        else if (st.size > MAX_SCAN_BYTES) skipped.push({ file, reason: "too large" })
        else {
            const bytes = await readFile(abs).catch(() => undefined)
            if (bytes === undefined) skipped.push({ file, reason: "unreadable" })
            else if (looksBinary(bytes)) skipped.push({ file, reason: "binary" })
            else files.push({ file, abs, bytes })
        }
    }
    return {
        root,
        files,
        skipped,
        readRepoFile: (rel) => readFile(join(root, rel), "utf8").catch(() => undefined),
    }
}

/** Regular files under `dir`, not entering .git or node_modules (symbolic links are listed, then skipped). */
async function walk(dir: string, out: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true })
    for (const e of entries) {
        const abs = join(dir, e.name)
        if (e.isDirectory()) {
            if (!SKIPPED_DIRS.has(e.name)) await walk(abs, out)
        } else out.push(abs)
    }
}

/**
 * The index's version of the files the next commit adds or changes. `.sops.yaml`
 * and `.secretsignore` are read from the index too when it has them (the commit
 * is judged by the rules it carries), else from the work tree.
 */
async function stagedSources(io: Io, top: string, paths: readonly string[]): Promise<SourceSet> {
    const { indexEntries, indexReader, stagedChanges } = await import("../integrations/git-index.js")
    let staged = await stagedChanges(top, io.env)
    if (paths.length > 0) {
        const wanted = paths.map((p) => toRel(top, resolve(io.cwd, p)))
        staged = staged.filter((e) => wanted.some((w) => w === "" || w === "." || e.path === w || e.path.startsWith(`${w.replace(/\/$/, "")}/`)))
    }
    const reader = indexReader(top, io.env, MAX_SCAN_BYTES)
    const files: SourceSet["files"] = []
    const skipped: SkippedFile[] = []
    try {
        const regular = staged.filter((e) => {
            // 120000: a symbolic link (its blob is the target's name); 160000: a submodule.
            if (e.mode === "120000") skipped.push({ file: e.path, reason: "symbolic link" })
            else if (!e.mode.startsWith("100")) skipped.push({ file: e.path, reason: "not a regular file" })
            else return true
            return false
        })
        const blobs = await reader.read(regular.map((e) => e.blob))
        for (const e of regular) {
            const bytes = blobs.get(e.blob)
            if (bytes === undefined) skipped.push({ file: e.path, reason: "too large" })
            else if (looksBinary(bytes)) skipped.push({ file: e.path, reason: "binary" })
            else files.push({ file: e.path, abs: join(top, e.path), bytes })
        }
    } finally {
        await reader.close()
    }
    const cache = new Map<string, Promise<string | undefined>>()
    const readRepoFile = (rel: string): Promise<string | undefined> => {
        let p = cache.get(rel)
        if (p === undefined) {
            p = (async () => {
                const [entry] = await indexEntries(top, [rel], io.env)
                if (entry === undefined) return readFile(join(top, rel), "utf8").catch(() => undefined)
                const r = indexReader(top, io.env, MAX_SCAN_BYTES)
                try {
                    const bytes = (await r.read([entry.blob])).get(entry.blob)
                    return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
                } finally {
                    await r.close()
                }
            })()
            cache.set(rel, p)
        }
        return p
    }
    return { root: top, files, skipped, readRepoFile }
}
