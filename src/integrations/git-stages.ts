/**
 * The versions of a conflicted file in git's index, for `secrets git resolve`: a
 * merge that stopped leaves stage 1 (the common ancestor), 2 (ours) and 3
 * (theirs) for the path until `git add` resolves it (git-read-tree(1) "3-way
 * merge"). A stage is missing when the file did not exist there: no ancestor for
 * an add/add conflict, no ours or theirs when one side deleted it.
 */
import { execa } from "execa"
import { gitEnv } from "./git.js"

export interface ConflictStages {
    /** The path as git names it, relative to the working directory. */
    readonly path: string
    readonly base: Uint8Array | undefined
    readonly ours: Uint8Array | undefined
    readonly theirs: Uint8Array | undefined
}

export type StagesAnswer =
    | { readonly kind: "stages"; readonly stages: ConflictStages }
    /** Not inside a git work tree, or git is missing. */
    | { readonly kind: "no-repository" }
    /** The path has no conflict stages (resolved, never conflicted, or untracked). */
    | { readonly kind: "no-conflict" }
    /** The path names several conflicted files (a directory). */
    | { readonly kind: "several"; readonly paths: string[] }

/** The conflict stages of `file` (relative to `cwd`), read with `git ls-files -u` and `git cat-file`. */
export async function conflictStages(cwd: string, file: string, env: Readonly<Record<string, string | undefined>>): Promise<StagesAnswer> {
    const run = (args: string[]) =>
        execa("git", args, { cwd, env: gitEnv(env), extendEnv: false, reject: false, stdin: "ignore", encoding: "buffer", stripFinalNewline: false })
    let listed
    try {
        // :(literal): a file name with * or ? in it names that file, not a pattern.
        listed = await run(["ls-files", "-u", "-z", "--", `:(literal)${file}`])
    } catch {
        return { kind: "no-repository" }
    }
    if (listed.exitCode !== 0) return { kind: "no-repository" }
    const entries: { stage: number; blob: string; path: string }[] = []
    for (const record of Buffer.from(listed.stdout).toString("utf8").split("\0")) {
        // <mode> SP <object> SP <stage> TAB <path>
        const m = /^[0-7]+ ([0-9a-f]{40,64}) ([123])\t(.+)$/s.exec(record)
        if (m !== null) entries.push({ blob: m[1]!, stage: Number(m[2]), path: m[3]! })
    }
    if (entries.length === 0) return { kind: "no-conflict" }
    const paths = [...new Set(entries.map((e) => e.path))]
    if (paths.length > 1) return { kind: "several", paths }
    const blob = async (stage: number): Promise<Uint8Array | undefined> => {
        const e = entries.find((x) => x.stage === stage)
        if (e === undefined) return undefined
        const r = await run(["cat-file", "blob", e.blob])
        if (r.exitCode !== 0) throw new Error(`git cat-file failed for stage ${stage}`)
        return r.stdout
    }
    return { kind: "stages", stages: { path: paths[0]!, base: await blob(1), ours: await blob(2), theirs: await blob(3) } }
}
