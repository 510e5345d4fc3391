/**
 * Who wrote a set of commits and when, for `secrets log` (issue 15 §4): the history
 * pass (git-history.ts) lists commits with their committer dates only, and a log
 * shows the author, as `git log` does. One `git log --no-walk` for all commits.
 */
import { execa } from "execa"
import { gitEnv } from "./git.js"

/** A commit's author as `git log` shows it, and the author date. */
export interface CommitAuthor {
    readonly name: string
    readonly email: string
    readonly date: Date
}

/**
 * The author of each commit in `commits` (full ids from git's own output), by id.
 * A commit git cannot show is absent from the map; git missing or failing gives an
 * empty map, never an error: the caller falls back to what it knows.
 */
export async function commitAuthors(
    top: string,
    commits: readonly string[],
    env: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, CommitAuthor>> {
    const out = new Map<string, CommitAuthor>()
    // Ids come from git's output; anything else would be an option or a revision range.
    const ids = [...new Set(commits)].filter((c) => /^[0-9a-f]{7,64}$/.test(c))
    if (ids.length === 0) return out
    let r
    try {
        // NUL-separated: a name may hold any other character. Ids on stdin, not argv,
        // so a long history never meets the argument limit.
        r = await execa("git", ["log", "--no-walk=unsorted", "--stdin", "-z", "--format=%H%x00%an%x00%ae%x00%aI"], {
            cwd: top,
            env: gitEnv(env),
            extendEnv: false,
            reject: false,
            input: ids.join("\n") + "\n",
        })
    } catch {
        return out
    }
    if (r.exitCode !== 0) return out
    // With -z, commits are separated by NUL too: four fields per commit.
    const f = r.stdout.split("\0")
    for (let i = 0; i + 3 < f.length; i += 4) {
        const id = (f[i] ?? "").trim()
        const date = new Date(f[i + 3] ?? "")
        if (id === "" || Number.isNaN(date.getTime())) continue
        out.set(id, { name: f[i + 1] ?? "", email: f[i + 2] ?? "", date })
    }
    return out
}
