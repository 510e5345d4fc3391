/**
 * Choosing and running the editor for `edit` (sops-format.md §10.2 step 3).
 *
 * sops reads `$SOPS_EDITOR`, then `$EDITOR`, shlex-splits it and appends the temp
 * file's path; without either it takes the first of vim, nano, vi on PATH. We also
 * honour `$VISUAL` before that fallback, as most Unix tools do. The editor runs
 * without a shell, so `EDITOR="code --wait"` works and nothing in the variable is
 * ever interpreted by sh.
 *
 * The editor is ended with us: a SIGTERM, SIGHUP or SIGQUIT sent to `secrets` while
 * it runs is passed on to it (SIGQUIT as SIGTERM, so that the editor, which holds
 * the plaintext, does not dump core either), and once it has exited the edit is
 * abandoned with 128 + the signal's number. Otherwise a `kill` of `secrets` would
 * leave the editor running on a file whose directory is gone, its save lost.
 */
import { accessSync, constants, statSync } from "node:fs"
import { constants as osConstants } from "node:os"
import { delimiter, join } from "node:path"
import { execa } from "execa"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { shlexSplit } from "./shlex.js"

/** Environment variables consulted, in order. */
export const EDITOR_VARIABLES = ["SOPS_EDITOR", "EDITOR", "VISUAL"] as const

/** Fallback editors searched on PATH, in sops's order. */
export const FALLBACK_EDITORS = ["vim", "nano", "vi"] as const

/** Finds a program on PATH: its path, or null. */
export type Which = (name: string) => string | null

/**
 * The editor's argv (program first; the file path is appended by
 * {@link runEditor}). An empty variable counts as unset, as `os.Getenv(...) == ""`
 * does in sops. Throws SecretsError 201 (NoEditorFound) when a variable does not
 * parse or nothing is found.
 */
export function resolveEditor(env: Readonly<Record<string, string | undefined>>, which: Which): string[] {
    for (const name of EDITOR_VARIABLES) {
        const value = env[name]
        if (value === undefined || value.trim() === "") continue
        let argv: string[]
        try {
            argv = shlexSplit(value)
        } catch (e) {
            const why = e instanceof SecretsError ? e.message : "malformed command line"
            throw new SecretsError(ExitCode.NoEditorFound, `could not parse $${name}: ${why}`, [
                "quote the editor's path with \"…\" or '…' if it contains spaces",
            ])
        }
        // A variable that is only a comment splits to nothing: treat it as unset.
        if (argv.length > 0) return argv
    }
    for (const name of FALLBACK_EDITORS) {
        const found = which(name)
        if (found !== null) return [found]
    }
    throw new SecretsError(ExitCode.NoEditorFound, "no editor found: none of $SOPS_EDITOR, $EDITOR, $VISUAL is set and none of vim, nano, vi is on PATH", [
        "set SOPS_EDITOR or EDITOR, for example EDITOR=nano or EDITOR=\"code --wait\"",
    ])
}

/** A {@link Which} over `env.PATH`: the first executable regular file named `name`. */
export function whichOnPath(env: Readonly<Record<string, string | undefined>>): Which {
    const dirs = (env.PATH ?? "").split(delimiter).filter((d) => d !== "")
    return (name) => {
        for (const dir of dirs) {
            const candidate = join(dir, name)
            try {
                if (!statSync(candidate).isFile()) continue
                accessSync(candidate, constants.X_OK)
                return candidate
            } catch {
                // not here
            }
        }
        return null
    }
}

/** Signals that end the editor with us; SIGINT is not one (Ctrl-C belongs to the editor). */
const ENDING = ["SIGTERM", "SIGHUP", "SIGQUIT"] as const

/** Options for {@link runEditor}. */
export interface EditorOptions {
    /** The editor's complete environment; default ours. */
    readonly env?: Readonly<Record<string, string>>
    /** Told `true` once the editor runs (our signals are then its) and `false` once it has ended. */
    readonly onRunning?: (running: boolean) => void
}

/**
 * Run the editor on `file` with the terminal inherited and wait for it. A failure
 * to start, a non-zero exit or a signal is SecretsError 201, naming the program
 * only (not its arguments, and never the file's contents). When we were sent
 * SIGTERM, SIGHUP or SIGQUIT while it ran, it is ended too and the error's code is
 * 128 + that signal's number, whatever the editor did.
 */
export async function runEditor(editorArgv: readonly string[], file: string, opts: EditorOptions = {}): Promise<void> {
    const [program, ...args] = editorArgv
    if (program === undefined) throw new SecretsError(ExitCode.NoEditorFound, "no editor given")
    const env = opts.env === undefined ? {} : { env: opts.env, extendEnv: false }
    const sub = execa(program, [...args, file], { stdio: "inherit", shell: false, reject: false, ...env })
    let received: (typeof ENDING)[number] | undefined
    const end = (signal: (typeof ENDING)[number]): void => {
        received ??= signal
        try {
            sub.kill(signal === "SIGQUIT" ? "SIGTERM" : signal)
        } catch {
            // already gone
        }
    }
    for (const s of ENDING) process.on(s, end)
    opts.onRunning?.(true)
    let result: Awaited<typeof sub>
    try {
        result = await sub
    } finally {
        for (const s of ENDING) process.removeListener(s, end)
        opts.onRunning?.(false)
    }
    if (received !== undefined) {
        // Not in sops's table, like BrokenPipe: how a shell reports a process ended by the signal.
        const code = (128 + osConstants.signals[received]) as ExitCode
        throw new SecretsError(code, `the edit was interrupted by ${received}: the editor was ended and nothing was written`)
    }
    if (!result.failed) return
    const name = quote(program)
    const code = (result as { code?: unknown }).code
    if (result.exitCode === undefined && result.signal === undefined) {
        const hints = code === "ENOENT" ? ["check $SOPS_EDITOR / $EDITOR: the program is not on PATH"] : []
        throw new SecretsError(ExitCode.NoEditorFound, `could not start the editor ${name}${typeof code === "string" ? ` (${code})` : ""}`, hints)
    }
    if (result.signal !== undefined) {
        throw new SecretsError(ExitCode.NoEditorFound, `the editor ${name} was killed by ${result.signal}`)
    }
    throw new SecretsError(ExitCode.NoEditorFound, `the editor ${name} exited with status ${result.exitCode}`)
}
