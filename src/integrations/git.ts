/**
 * The few git questions `secrets status` asks, through execa: which commits touched
 * a file, and what the file was at a commit. Git that is missing, a directory that
 * is not a work tree, or an untracked file all answer "no history", never an error:
 * the caller then falls back to the file's `lastmodified`.
 */
import { execa } from "execa"

/** One commit that touched a file: its id and its committer date. */
export interface FileCommit {
    readonly commit: string
    readonly date: Date
}

/** Environment for git: never prompt, never page. */
export function gitEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
    return { ...out, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" }
}

/** The top of the work tree holding `dir`, or undefined when it is in none (or git is missing). */
export async function gitTopLevel(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
    try {
        const r = await execa("git", ["rev-parse", "--show-toplevel"], { cwd: dir, env: gitEnv(env), extendEnv: false, reject: false, stdin: "ignore" })
        if (r.exitCode !== 0) return undefined
        const top = r.stdout.trim()
        return top === "" ? undefined : top
    } catch {
        return undefined
    }
}

/**
 * Commits that changed `relPath` (relative to `top`), newest first, following the
 * first parent of merges so a file's history reads as one line.
 */
export async function fileCommits(top: string, relPath: string, env: Readonly<Record<string, string | undefined>>): Promise<FileCommit[]> {
    const r = await execa("git", ["log", "--first-parent", "--format=%H %cI", "--", relPath], {
        cwd: top,
        env: gitEnv(env),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
    })
    if (r.exitCode !== 0) return []
    const out: FileCommit[] = []
    for (const line of r.stdout.split("\n")) {
        const m = /^([0-9a-f]{7,64}) (\S+)$/.exec(line.trim())
        if (m === null || m[1] === undefined || m[2] === undefined) continue
        const date = new Date(m[2])
        if (!Number.isNaN(date.getTime())) out.push({ commit: m[1], date })
    }
    return out
}

/**
 * The bytes of `relPath` (relative to `top`, `/`-separated) at `commit` (a full id),
 * or undefined when no file was there (absent, or a directory). `cat-file blob`,
 * not `show`: the bytes as stored, never through a textconv a repository's
 * attributes name (`secrets git diff-text` would print plaintext).
 */
export async function blobAt(top: string, commit: string, relPath: string, env: Readonly<Record<string, string | undefined>>): Promise<Uint8Array | undefined> {
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined
    // `<commit>:<path>` names the path from the top of the tree (no pathspec magic applies).
    const r = await execa("git", ["cat-file", "blob", `${commit}:${relPath}`], {
        cwd: top,
        env: gitEnv(env),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        encoding: "buffer",
        stripFinalNewline: false,
    })
    return r.exitCode === 0 ? r.stdout : undefined
}
