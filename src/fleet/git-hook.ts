/**
 * The pre-commit hook of `secrets git setup`: a small POSIX sh script that runs
 * `secrets git pre-commit`, installed where git looks for hooks (`core.hooksPath`
 * when set, relative to the top of the work tree, else `git rev-parse --git-path
 * hooks`, which is the common directory's in a linked worktree).
 *
 * A hook that was there before keeps working, as in pre-commit.com's "migration
 * mode": it is renamed to `pre-commit.secrets-chained` and our script runs it first,
 * its failure ending the commit with its own status. Our script carries a marker
 * line, so a second setup recognises it and never chains it to itself; the script
 * also refuses to call itself, should someone rename it by hand.
 *
 * The hooks directory may be the repository's content (`core.hooksPath = .githooks`,
 * committed): a committed symlink there must not make setup write or rename outside
 * the repository. So a relative hooks path that resolves outside the work tree is
 * refused, and so is a hook that is a symlink outside the repository.
 */
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, unlinkSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import type { GitRepository } from "../integrations/git-config.js"
import { refusal } from "./git-attributes.js"

export const HOOK_NAME = "pre-commit"
export const CHAINED_NAME = "pre-commit.secrets-chained"
/** The line that makes a hook ours. */
export const HOOK_MARKER = "# secrets: pre-commit hook"
const HOOK_MODE = 0o755
/** A hook bigger than this is nobody's shell script of ours. */
const MAX_HOOK_BYTES = 1 << 20

/** The script. `command` is a shell word (or words) that runs `secrets`. */
export function hookScript(command: string): string {
    return [
        "#!/bin/sh",
        `${HOOK_MARKER}, installed by \`secrets git setup\` (undo: docs/commands/git-setup.md).`,
        `# A hook that was here before is kept as ${CHAINED_NAME} and runs first;`,
        "# its failure stops the commit, as it did before.",
        'hooks_dir=$(dirname -- "$0")',
        `if [ "$(basename -- "$0")" != ${CHAINED_NAME} ] && [ -x "$hooks_dir/${CHAINED_NAME}" ]; then`,
        `    "$hooks_dir/${CHAINED_NAME}" "$@" || exit $?`,
        "fi",
        `exec ${command} git pre-commit`,
        "",
    ].join("\n")
}

/** What is at the hook's path now. */
export type HookState =
    | { readonly kind: "missing" }
    | { readonly kind: "ours"; readonly current: boolean; readonly mode: number; readonly link: boolean }
    /** Someone else's hook: setup keeps it as {@link CHAINED_NAME}. */
    | { readonly kind: "foreign" }

export interface HookInspection {
    readonly dir: string
    readonly hook: string
    readonly chained: string
    /** The hook's path as messages show it: relative to the top when inside. */
    readonly shown: string
    readonly state: HookState
    /** The directory is missing and would be created. */
    readonly createDir: boolean
    /** The hooks directory is outside the repository (an absolute core.hooksPath): other repositories run this hook too. */
    readonly shared: boolean
}

/** Where the hook goes and what is there; throws the refusals described above. */
export function inspectHook(repo: GitRepository, script: string): HookInspection {
    const setting = repo.hooksPathSetting
    const dir = setting !== undefined && setting !== "" ? resolve(repo.top, setting) : repo.defaultHooksDir
    const topReal = realpathSync(repo.top)
    const roots = [topReal, realOr(repo.commonDir)]
    let createDir = false
    const dirStat = lstatOrUndefined(dir)
    if (dirStat === undefined) {
        createDir = true
        if (setting !== undefined && !isAbsolute(setting) && !inside(nearestReal(dir), topReal)) {
            throw refusal(`core.hooksPath ${quote(setting)} leads outside the work tree`, "set core.hooksPath to a directory inside the repository, or to an absolute path")
        }
    } else {
        let real: string
        try {
            real = realpathSync(dir)
        } catch {
            throw refusal(`the hooks path ${quote(dir)} is a symbolic link that leads nowhere`, "fix core.hooksPath or the link")
        }
        if (!lstatOrUndefined(real)?.isDirectory()) throw refusal(`the hooks path ${quote(dir)} is not a directory`, "fix core.hooksPath (git config core.hooksPath), or unset it")
        // A relative hooks path is the repository's content: it may not lead out of it.
        if (setting !== undefined && !isAbsolute(setting) && !inside(real, topReal)) {
            throw refusal(`the hooks path ${quote(dir)} leads outside the work tree (to ${quote(real)})`, "replace the link with a directory, or set core.hooksPath to an absolute path")
        }
        roots.push(real)
    }
    const hook = join(dir, HOOK_NAME)
    const chained = join(dir, CHAINED_NAME)
    const shownRel = relative(repo.top, hook)
    const shown = shownRel.startsWith("..") || isAbsolute(shownRel) ? hook : shownRel.split(sep).join("/")
    const shared = !roots.slice(0, 2).some((r) => inside(nearestReal(dir), r))
    return { dir, hook, chained, shown, createDir, shared, state: hookState(hook, chained, script, roots) }
}

function hookState(hook: string, chained: string, script: string, roots: readonly string[]): HookState {
    const st = lstatOrUndefined(hook)
    if (st === undefined) return { kind: "missing" }
    let target = hook
    if (st.isSymbolicLink()) {
        let real: string
        try {
            real = realpathSync(hook)
        } catch {
            throw refusal(`${quote(hook)} is a symbolic link that leads nowhere`, "remove it or fix it, then run setup again")
        }
        if (!roots.some((r) => inside(real, r))) throw refusal(`${quote(hook)} is a symbolic link outside the repository (to ${quote(real)})`, "replace it with a copy of the hook it points to, then run setup again")
        target = real
    }
    const text = readHook(target)
    if (text === undefined) throw refusal(`${quote(hook)} is not a regular file`, "move it away, then run setup again")
    if (text.includes(HOOK_MARKER)) {
        const mode = lstatOrUndefined(target)?.mode ?? 0
        return { kind: "ours", current: text === script, mode: mode & 0o7777, link: st.isSymbolicLink() }
    }
    if (lstatOrUndefined(chained) !== undefined) {
        throw refusal(`${quote(hook)} is not secrets' hook, and ${quote(chained)} exists already`, `decide which one to keep, merge them into ${quote(chained)} and remove ${quote(hook)}, then run setup again`)
    }
    return { kind: "foreign" }
}

/** What is wrong with the hook, for `--check`; undefined when nothing is. */
export function hookProblem(h: HookInspection): string | undefined {
    switch (h.state.kind) {
        case "missing":
            return `pre-commit hook: not installed (${h.shown})`
        case "foreign":
            return `pre-commit hook: ${h.shown} is another hook (setup keeps it as ${CHAINED_NAME} and runs it first)`
        case "ours":
            if (!h.state.current || h.state.link) return `pre-commit hook: ${h.shown} is out of date`
            if ((h.state.mode & 0o777) !== HOOK_MODE) return `pre-commit hook: ${h.shown} has mode ${(h.state.mode & 0o777).toString(8).padStart(4, "0")}, not 0755`
            return undefined
    }
}

/** Put the hook in place; the line saying what was done. */
export async function installHook(h: HookInspection, script: string): Promise<string> {
    const data = new TextEncoder().encode(script)
    if (h.createDir) mkdirSync(h.dir, { recursive: true, mode: 0o755 })
    if (h.state.kind === "foreign") {
        // Checked again right before the rename: rename replaces a target silently.
        if (lstatOrUndefined(h.chained) !== undefined) throw refusal(`${quote(h.chained)} appeared while setting up`, "run setup again")
        renameSync(h.hook, h.chained)
        try {
            await writeFileAtomic(h.hook, data, { mode: HOOK_MODE })
        } catch (e) {
            // Put the user's hook back: a failed setup leaves things as they were.
            renameSync(h.chained, h.hook)
            throw e
        }
        chmodSync(h.hook, HOOK_MODE)
        return `installed ${h.shown} (kept the existing hook as ${CHAINED_NAME}, run first)`
    }
    if (h.state.kind === "ours" && h.state.link) unlinkSync(h.hook)
    if (h.state.kind === "missing" || h.state.kind === "ours") {
        if (h.state.kind === "missing" || !h.state.current || h.state.link) await writeFileAtomic(h.hook, data, { mode: HOOK_MODE })
        // writeFileAtomic keeps an existing file's mode: ours must be 0755 whatever it was.
        chmodSync(h.hook, HOOK_MODE)
    }
    if (h.state.kind === "missing") return `installed ${h.shown}`
    return h.state.current && !h.state.link ? `made ${h.shown} executable (0755)` : `updated ${h.shown}`
}

function readHook(path: string): string | undefined {
    let fd: number | undefined
    try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
        const st = fstatSync(fd)
        if (!st.isFile()) return undefined
        const len = Math.min(st.size, MAX_HOOK_BYTES)
        const buf = Buffer.alloc(len)
        let off = 0
        while (off < len) {
            const n = readSync(fd, buf, off, len - off, off)
            if (n === 0) break
            off += n
        }
        return buf.subarray(0, off).toString("utf8")
    } catch (e) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `cannot read ${quote(path)}: ${(e as NodeJS.ErrnoException).code ?? "error"}`)
    } finally {
        if (fd !== undefined) closeSync(fd)
    }
}

function lstatOrUndefined(p: string) {
    try {
        return lstatSync(p)
    } catch {
        return undefined
    }
}

function realOr(p: string): string {
    try {
        return realpathSync(p)
    } catch {
        return p
    }
}

/** The real path of the nearest existing ancestor of `p`. */
function nearestReal(p: string): string {
    let cur = p
    for (;;) {
        try {
            return realpathSync(cur)
        } catch {
            const parent = dirname(cur)
            if (parent === cur) return cur
            cur = parent
        }
    }
}

function inside(p: string, root: string): boolean {
    return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep)
}
