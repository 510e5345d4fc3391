/**
 * What `secrets scan` and the pre-commit hook ask git about the files of a
 * repository (issue 15 §5): which files the work tree has (tracked, and untracked
 * but not ignored), and what the index holds, which is what the next commit will
 * contain. The index is read as blobs (`git cat-file --batch`, git-history.ts's
 * reader), never from the work tree: a file staged with a credential and then
 * cleaned in the work tree still commits the credential.
 *
 * Output is NUL-separated (`-z`) so any name reads back exactly. The caller's
 * environment is kept (gitEnv): inside a hook git sets GIT_INDEX_FILE to the
 * index the commit is made from (`git commit FILE` uses a temporary one).
 */
import { execa } from "execa"
import { blobReader } from "./git-history.js"
import { gitEnv } from "./git.js"

/** A file of the index: its path (relative to the top, with `/`), mode and blob id. */
export interface IndexEntry {
    readonly path: string
    readonly mode: string
    readonly blob: string
}

/** Pathspecs are literal: a `*` in a file name is a `*`. */
function literalEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const out = gitEnv(env)
    delete out.GIT_GLOB_PATHSPECS
    delete out.GIT_NOGLOB_PATHSPECS
    delete out.GIT_ICASE_PATHSPECS
    return { ...out, GIT_LITERAL_PATHSPECS: "1" }
}

async function gitZ(top: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
    const r = await execa("git", args, { cwd: top, env: literalEnv(env), extendEnv: false, reject: false, stdin: "ignore", encoding: "utf8", stripFinalNewline: false })
    if (r.exitCode !== 0) throw new Error(`git ${args[0] ?? ""} failed: ${r.stderr.trim().split("\n")[0] ?? ""}`)
    return r.stdout.split("\0").filter((s) => s !== "")
}

/** The work tree's files as git sees them: tracked ones and untracked ones that no ignore rule hides. */
export async function workTreeFiles(top: string, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
    const paths = await gitZ(top, ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], env)
    // A conflicted file is listed once per stage.
    return [...new Set(paths)]
}

/**
 * The files the next commit adds or changes (`git diff --cached --diff-filter=ACMR`,
 * renames as additions), with their staged blob ids. Works before the first commit
 * too (git then compares with the empty tree).
 */
export async function stagedChanges(top: string, env: Readonly<Record<string, string | undefined>>): Promise<IndexEntry[]> {
    const tokens = await gitZ(top, ["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--diff-filter=ACMR"], env)
    const out: IndexEntry[] = []
    for (let i = 0; i + 1 < tokens.length; i += 2) {
        // :oldmode newmode oldblob newblob status, then the path.
        const f = (tokens[i] as string).replace(/^\n/, "").slice(1).split(" ")
        out.push({ path: tokens[i + 1] as string, mode: f[1] ?? "", blob: f[3] ?? "" })
    }
    return out
}

/** The index entries (stage 0) of `paths`, for files read from the index by name (`.sops.yaml`, `.secretsignore`). */
export async function indexEntries(top: string, paths: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<IndexEntry[]> {
    if (paths.length === 0) return []
    const lines = await gitZ(top, ["ls-files", "--stage", "-z", "--", ...paths], env)
    const out: IndexEntry[] = []
    for (const line of lines) {
        // <mode> SP <blob> SP <stage> TAB <path>
        const m = /^(\d+) ([0-9a-f]+) (\d)\t([\s\S]*)$/.exec(line)
        if (m !== null && m[3] === "0") out.push({ mode: m[1] as string, blob: m[2] as string, path: m[4] as string })
    }
    return out
}

/** Reads staged blobs through one `git cat-file --batch`; a blob over `maxBytes` reads as undefined. */
export interface IndexReader {
    read(blobs: readonly string[]): Promise<Map<string, Uint8Array | undefined>>
    close(): Promise<void>
}

export function indexReader(top: string, env: Readonly<Record<string, string | undefined>>, maxBytes: number): IndexReader {
    return blobReader(top, env, maxBytes)
}
