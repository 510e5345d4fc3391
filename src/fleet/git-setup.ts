/**
 * `secrets git setup` (issue 15 §1): what a repository needs so that git diffs and
 * merges encrypted files through `secrets`, as a list of items, each with what is
 * wrong (for `--check`) and how to put it right (for setup). Setup is idempotent:
 * an item in order is not listed, so a second run does nothing.
 *
 * - `.gitattributes`: the encrypted paths of `.sops.yaml` get `diff=secrets
 *   merge=secrets` (git-attributes.ts).
 * - git config: the diff driver's textconv, the merge driver and its `recursive =
 *   binary` (a virtual merge base of a criss-cross merge is not a file the driver
 *   should see: git keeps ours and marks a conflict). NEVER
 *   `diff.secrets.cachetextconv`: git would store the textconv output, the
 *   plaintext, in `refs/notes/textconv/secrets`, a ref that `git push --mirror`
 *   publishes and every clone of the directory copies. If it is set, setup removes
 *   it, and the notes ref with it.
 * - the pre-commit hook (git-hook.ts).
 *
 * `--global` is the config part alone, in the user's `~/.gitconfig`: attributes and
 * hooks are per repository.
 *
 * Every check is made before anything is written: a refusal (a symlinked
 * `.gitattributes`, a hooks path leading out of the work tree) leaves everything as
 * it was.
 */
import { accessSync, constants, realpathSync } from "node:fs"
import { delimiter, dirname, isAbsolute, join } from "node:path"
import { ExitCode, SecretsError } from "../errors.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import type { Io } from "../files/io.js"
import {
    gitConfigGet,
    gitConfigSet,
    gitConfigUnset,
    gitDeleteRef,
    gitCheckAttr,
    gitListFiles,
    gitRefExists,
    gitRepository,
    type GitConfigScope,
} from "../integrations/git-config.js"
import type { Config } from "../config/schema.js"
import { attributesBlock, blockIsCurrent, coveredFiles, readAttributesFile, withBlock, type AttributesInput } from "./git-attributes.js"
import { hookProblem, hookScript, inspectHook, installHook } from "./git-hook.js"

/** The driver name in `.gitattributes` and git config. */
export const DRIVER = "secrets"
/** Where git caches textconv output when `cachetextconv` is on. */
export const TEXTCONV_NOTES_REF = `refs/notes/textconv/${DRIVER}`

export interface GitSetupOptions {
    /** The shell words that run `secrets` (default `secrets`, which must be on PATH). */
    readonly command?: string
    /** The user's config instead of the repository's; config items only. */
    readonly global: boolean
    /** Finds and parses the repository's `.sops.yaml` (path absolute); called once the repository is known. */
    readonly loadConfig: () => Promise<{ readonly path: string; readonly config: Config }>
}

/** One thing setup takes care of. */
export interface SetupItem {
    /** `attributes`, `config`, `hook`. */
    readonly part: "attributes" | "config" | "hook"
    /** What is missing or wrong, one line. */
    readonly problem: string
    /** Put it right; the line saying what was done. */
    readonly apply: () => Promise<string>
}

export interface GitSetupPlan {
    readonly scope: GitConfigScope
    /** The top of the work tree; undefined for `--global`. */
    readonly top: string | undefined
    readonly items: readonly SetupItem[]
    /** Things the user should know that are not problems (paths listed file by file). */
    readonly notes: readonly string[]
    /** `secrets` is not on PATH and no --command was given. */
    readonly commandNotOnPath: boolean
    /**
     * The covered files whose `diff`/`merge` attributes are not `secrets` once our
     * block is in place (a later line, a deeper `.gitattributes`, `.git/info/attributes`
     * overriding ours), one line each; undefined for `--global`.
     */
    readonly overrides: (() => Promise<string[]>) | undefined
}

/** The config setup writes, for `command`. */
export function driverConfig(command: string): [name: string, value: string][] {
    return [
        [`diff.${DRIVER}.textconv`, `${command} git diff-text`],
        [`merge.${DRIVER}.name`, "secrets: 3-way merge of the decrypted values (secrets git merge-driver)"],
        [`merge.${DRIVER}.driver`, `${command} git merge-driver %O %A %B %P`],
        [`merge.${DRIVER}.recursive`, "binary"],
    ]
}

/** Everything that is missing or wrong; nothing is written. */
export async function planGitSetup(io: Io, opts: GitSetupOptions): Promise<GitSetupPlan> {
    if (opts.command !== undefined && (/[\r\n\0]/.test(opts.command) || opts.command.trim() === "")) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--command must be one line of shell words, e.g. /usr/local/bin/secrets")
    }
    const scope: GitConfigScope = opts.global ? "global" : "local"
    const repo = opts.global ? undefined : await gitRepository(io.cwd, io.env)
    const cwd = repo?.top ?? io.cwd
    // Without --command, the command an earlier setup wrote stays: a plain re-run
    // after a .sops.yaml change must not replace `--command /opt/secrets` with a
    // `secrets` that is not on PATH.
    const command = opts.command ?? (await earlierCommand(io, cwd, scope)) ?? "secrets"
    const commandNotOnPath = command === "secrets" && !onPath("secrets", io.env)
    const items: SetupItem[] = []
    const notes: string[] = []
    let overrides: (() => Promise<string[]>) | undefined

    if (repo !== undefined) {
        const loaded = await opts.loadConfig()
        let listed: Promise<string[]> | undefined
        const input: AttributesInput = {
            top: realpathSync(repo.top),
            config: loaded.config,
            configDir: realpathSync(dirname(loaded.path)),
            files: () => (listed ??= gitListFiles(repo.top, io.env)),
        }
        const attributes = await attributesItem(input)
        notes.push(...attributes.notes)
        if (attributes.item !== undefined) items.push(attributes.item)
        overrides = () => attributeOverrides(io, input)
    }
    items.push(...(await configItems(io, cwd, scope, command)))
    if (repo !== undefined) {
        const script = hookScript(command)
        const hook = inspectHook(repo, script)
        if (hook.shared) notes.push(`core.hooksPath ${JSON.stringify(hook.dir)} is outside this repository: every repository using it runs the hook`)
        const problem = hookProblem(hook)
        if (problem !== undefined) items.push({ part: "hook", problem, apply: () => installHook(hook, script) })
    }
    return { scope, top: repo?.top, items, notes, commandNotOnPath, overrides }
}

/** How many overridden files are named before "and N more". */
const MAX_OVERRIDES_SHOWN = 10

async function attributeOverrides(io: Io, input: AttributesInput): Promise<string[]> {
    const files = await coveredFiles(input)
    const attrs = await gitCheckAttr(input.top, files, ["diff", "merge"], io.env)
    const lines: string[] = []
    for (const f of files) {
        const a = attrs.get(f) ?? {}
        const wrong = ["diff", "merge"].filter((k) => a[k] !== DRIVER).map((k) => `${k} is ${JSON.stringify(a[k] ?? "unspecified")}`)
        if (wrong.length > 0) lines.push(`${f}: ${wrong.join(", ")}, not "${DRIVER}" (another attributes line overrides setup's)`)
    }
    if (lines.length <= MAX_OVERRIDES_SHOWN) return lines
    return [...lines.slice(0, MAX_OVERRIDES_SHOWN), `and ${lines.length - MAX_OVERRIDES_SHOWN} more files whose attributes another line overrides`]
}

async function attributesItem(input: AttributesInput): Promise<{ item?: SetupItem; notes: readonly string[] }> {
    const current = readAttributesFile(input.top)
    const block = await attributesBlock(input)
    if (blockIsCurrent(current, block.lines)) return { notes: block.notes }
    const count = `${block.paths} path${block.paths === 1 ? "" : "s"}`
    const problem = current.block === undefined ? `.gitattributes: no secrets lines (setup writes ${count})` : `.gitattributes: the secrets lines are out of date with .sops.yaml (setup writes ${count})`
    const apply = async () => {
        // Our lines are plain text for everyone: mode 0644 for a new file, an existing one keeps its own.
        await writeFileAtomic(current.path, new TextEncoder().encode(withBlock(current, block.lines)), { mode: 0o644 })
        return `wrote .gitattributes (${count})`
    }
    return { item: { part: "attributes", problem, apply }, notes: block.notes }
}

async function configItems(io: Io, cwd: string, scope: GitConfigScope, command: string): Promise<SetupItem[]> {
    const items: SetupItem[] = []
    // In a repository what counts is the value git uses there (a global setup is
    // enough); with --global, the global file's own value.
    const readScope = scope === "global" ? "global" : undefined
    const where = scope === "global" ? "global config" : "repository config"
    for (const [name, value] of driverConfig(command)) {
        const now = await gitConfigGet(cwd, readScope, name, io.env)
        if (now === value) continue
        items.push({
            part: "config",
            problem: now === undefined ? `${name}: not set` : `${name}: is ${JSON.stringify(now)}, not ${JSON.stringify(value)}`,
            apply: async () => {
                await gitConfigSet(cwd, scope, name, value, io.env)
                return `set ${name} (${where})`
            },
        })
    }
    const cache = `diff.${DRIVER}.cachetextconv`
    if ((await gitConfigGet(cwd, readScope, cache, io.env, "bool")) === "true") {
        items.push({
            part: "config",
            problem: `${cache}: set, so git stores decrypted diffs (plaintext) in ${TEXTCONV_NOTES_REF}`,
            apply: async () => {
                await gitConfigUnset(cwd, scope, cache, io.env)
                // Still on from a wider scope (the user's or the system's file): off here.
                if (scope === "local" && (await gitConfigGet(cwd, undefined, cache, io.env, "bool")) === "true") {
                    await gitConfigSet(cwd, scope, cache, "false", io.env)
                    return `set ${cache} to false (repository config; another config file sets it to true)`
                }
                return `removed ${cache} (${where}): it would store plaintext in ${TEXTCONV_NOTES_REF}`
            },
        })
    }
    if (scope === "local" && (await gitRefExists(cwd, TEXTCONV_NOTES_REF, io.env))) {
        items.push({
            part: "config",
            problem: `${TEXTCONV_NOTES_REF}: exists, git's cache of decrypted diffs (plaintext)`,
            apply: async () => {
                await gitDeleteRef(cwd, TEXTCONV_NOTES_REF, io.env)
                return `deleted ${TEXTCONV_NOTES_REF} (cached plaintext diffs; \`git reflog expire --expire-unreachable=now --all && git gc --prune=now\` removes its objects)`
            },
        })
    }
    return items
}

/** The command word of the textconv an earlier setup wrote (`CMD git diff-text`), if any. */
async function earlierCommand(io: Io, cwd: string, scope: GitConfigScope): Promise<string | undefined> {
    const textconv = await gitConfigGet(cwd, scope === "global" ? "global" : undefined, `diff.${DRIVER}.textconv`, io.env)
    const m = textconv === undefined ? null : /^(.+) git diff-text$/.exec(textconv)
    return m?.[1] !== undefined && m[1].trim() !== "" && !/[\r\n\0]/.test(m[1]) ? m[1] : undefined
}

/** Whether an executable `name` is on PATH, as the shell that runs git's drivers would find it. */
function onPath(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
    for (const dir of (env.PATH ?? "").split(delimiter)) {
        if (dir === "" || !isAbsolute(dir)) continue
        try {
            accessSync(join(dir, name), constants.X_OK)
            return true
        } catch {
            // not here
        }
    }
    return false
}

/** Run every item's fix, in order; the lines saying what was done. */
export async function applyGitSetup(plan: GitSetupPlan): Promise<string[]> {
    const done: string[] = []
    for (const item of plan.items) done.push(await item.apply())
    return done
}
