/**
 * One revision of one file, for `secrets show --rev` and `secrets restore --rev`
 * (issue 15 §4): the user's REV in git's own syntax (a hash, `HEAD~3`, a tag,
 * `main@{2 weeks ago}`) resolved to a commit, and the file's bytes there. Bytes
 * come from the object store straight into memory: nothing is checked out.
 */
import { execa } from "execa"
import { gitEnv } from "./git.js"

export { blobAt } from "./git.js"

/** A commit the user named, resolved. */
export interface ResolvedRevision {
    /** The full id. */
    readonly commit: string
    /** git's abbreviation (unique in this repository). */
    readonly short: string
    /** The author date, as `git log` shows it. */
    readonly date: Date
}

/**
 * The commit `rev` names in the repository at `top`, or undefined when git knows no
 * such commit. A `rev` starting with `-` is refused here (undefined) whatever git
 * would make of it: it must never be read as an option (`--output=…`).
 */
export async function resolveRevision(top: string, rev: string, env: Readonly<Record<string, string | undefined>>): Promise<ResolvedRevision | undefined> {
    if (rev === "" || rev.startsWith("-") || /[\0\n]/.test(rev)) return undefined
    let r
    try {
        // `^{commit}`: a tag peels to its commit; a tree or blob id is no revision of a file.
        // `--end-of-options` (git 2.24) keeps the argument a revision whatever it says.
        r = await execa("git", ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], {
            cwd: top,
            env: gitEnv(env),
            extendEnv: false,
            reject: false,
            stdin: "ignore",
        })
    } catch {
        return undefined
    }
    const commit = r.exitCode === 0 ? r.stdout.trim() : ""
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined
    const shown = await execa("git", ["show", "-s", "--no-show-signature", "--format=%h%x00%aI", commit], {
        cwd: top,
        env: gitEnv(env),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
    })
    const [short = "", iso = ""] = shown.exitCode === 0 ? shown.stdout.trim().split("\0") : []
    const date = new Date(iso)
    return { commit, short: short === "" ? commit.slice(0, 7) : short, date: Number.isNaN(date.getTime()) ? new Date(0) : date }
}
