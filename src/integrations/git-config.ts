/**
 * The git questions and writes of `secrets git setup` (issue 15 §1): where the
 * repository and its hooks are, reading and writing config in one scope, the
 * textconv notes ref, and the repository's file list. Every call runs git with
 * {@link gitEnv} (no prompt, no pager, C locale) and no shell: names and values are
 * argv entries, never interpolated into a command line.
 */
import { execa } from "execa"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { gitEnv } from "./git.js"

type Env = Readonly<Record<string, string | undefined>>

/** `--local` writes the repository's `.git/config`, `--global` the user's `~/.gitconfig`. */
export type GitConfigScope = "local" | "global"

/** Where a work tree's pieces are, all absolute. */
export interface GitRepository {
    /** The top of the work tree. */
    readonly top: string
    /** `core.hooksPath` as configured (after `~` expansion), or undefined. */
    readonly hooksPathSetting: string | undefined
    /** `git rev-parse --git-path hooks`: `$GIT_COMMON_DIR/hooks` in a linked worktree too. */
    readonly defaultHooksDir: string
    /** The repository's git directory shared by all worktrees. */
    readonly commonDir: string
}

async function git(cwd: string, args: readonly string[], env: Env, input?: string) {
    try {
        const stdin = input === undefined ? { stdin: "ignore" as const } : { input }
        return await execa("git", args, { cwd, env: gitEnv(env), extendEnv: false, reject: false, ...stdin, stripFinalNewline: false })
    } catch (e) {
        // execa rejects (even with reject: false) only when git cannot be started.
        throw new SecretsError(ExitCode.Generic, `cannot run git: ${(e as NodeJS.ErrnoException).code ?? "unknown error"}`, ["install git, or put it on PATH"])
    }
}

function failed(what: string, r: { exitCode?: number; stderr: string }): SecretsError {
    const line = r.stderr.trim().split("\n")[0] ?? ""
    return new SecretsError(ExitCode.Generic, `git ${what} failed (exit ${r.exitCode ?? "?"})${line === "" ? "" : `: ${line}`}`)
}

/**
 * The work tree holding `cwd`. Outside one (or in a bare repository) this is the
 * one-line error of exit 2 the setup command promises.
 */
export async function gitRepository(cwd: string, env: Env): Promise<GitRepository> {
    const r = await git(cwd, ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir", "--git-path", "hooks"], env)
    const [top, commonDir, hooks] = r.stdout.split("\n")
    if (r.exitCode !== 0 || top === undefined || top === "" || commonDir === undefined || hooks === undefined || hooks === "") {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `not in a git work tree: ${quote(cwd)}`, [
            "run `secrets git setup` inside the repository, or `secrets git setup --global` for the config part alone",
        ])
    }
    const hooksPathSetting = await gitConfigGet(top, undefined, "core.hooksPath", env, "path")
    return { top, commonDir, defaultHooksDir: hooks, hooksPathSetting }
}

/**
 * A config value as git would use it: the last one, from `scope` alone or (undefined)
 * from every scope git reads there. `type` "bool" canonicalises (`yes`, `1` -> `true`),
 * "path" expands `~`.
 */
export async function gitConfigGet(cwd: string, scope: GitConfigScope | undefined, name: string, env: Env, type?: "bool" | "path"): Promise<string | undefined> {
    const args = ["config", ...(scope === undefined ? [] : [`--${scope}`]), ...(type === undefined ? [] : [`--type=${type}`]), "--get", name]
    const r = await git(cwd, args, env)
    // 1: not set. Anything else (an unreadable config, a value --type refuses) is git's error, reported.
    if (r.exitCode === 1) return undefined
    if (r.exitCode !== 0) throw failed(`config --get ${name}`, r)
    return r.stdout.replace(/\n$/, "")
}

/** Set `name` to `value` in `scope`, replacing every value it had there. */
export async function gitConfigSet(cwd: string, scope: GitConfigScope, name: string, value: string, env: Env): Promise<void> {
    const r = await git(cwd, ["config", `--${scope}`, "--replace-all", name, value], env)
    if (r.exitCode !== 0) throw failed(`config --${scope} ${name}`, r)
}

/** Remove every value of `name` in `scope`; true when there was one. */
export async function gitConfigUnset(cwd: string, scope: GitConfigScope, name: string, env: Env): Promise<boolean> {
    const r = await git(cwd, ["config", `--${scope}`, "--unset-all", name], env)
    // 5: the key was not set in that scope.
    if (r.exitCode === 5) return false
    if (r.exitCode !== 0) throw failed(`config --${scope} --unset-all ${name}`, r)
    return true
}

/** Whether `ref` exists (`refs/notes/textconv/secrets`). */
export async function gitRefExists(cwd: string, ref: string, env: Env): Promise<boolean> {
    const r = await git(cwd, ["rev-parse", "--verify", "--quiet", ref], env)
    return r.exitCode === 0
}

/** Delete `ref`. */
export async function gitDeleteRef(cwd: string, ref: string, env: Env): Promise<void> {
    const r = await git(cwd, ["update-ref", "-d", ref], env)
    if (r.exitCode !== 0) throw failed(`update-ref -d ${ref}`, r)
}

/**
 * The repository's files relative to `top` with `/`: tracked ones and untracked ones
 * that `.gitignore` does not exclude (what a commit could hold).
 */
export async function gitListFiles(top: string, env: Env): Promise<string[]> {
    const r = await git(top, ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate"], env)
    if (r.exitCode !== 0) throw failed("ls-files", r)
    return [...new Set(r.stdout.split("\0").filter((p) => p !== ""))].sort()
}

/**
 * The values of `attrs` for each of `paths` (relative to `top`) as git sees them,
 * every attributes file counted: `set`, `unset`, `unspecified` or the value.
 */
export async function gitCheckAttr(top: string, paths: readonly string[], attrs: readonly string[], env: Env): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>()
    if (paths.length === 0) return out
    const r = await git(top, ["check-attr", "-z", "--stdin", ...attrs], env, paths.map((p) => `${p}\0`).join(""))
    if (r.exitCode !== 0) throw failed("check-attr", r)
    const f = r.stdout.split("\0")
    for (let k = 0; k + 2 < f.length; k += 3) {
        const path = f[k] as string
        const entry = out.get(path) ?? {}
        entry[f[k + 1] as string] = f[k + 2] as string
        out.set(path, entry)
    }
    return out
}
