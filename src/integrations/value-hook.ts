/**
 * The `hook:` of a value policy (issue 16 §4): the program `rotate-value` runs to
 * put a new value into service (set the database password, register the API key)
 * before the file is written. Only when it exits 0 does the file get the value, so
 * the file never holds a value the service does not accept.
 *
 * Secrets never travel in argv or the environment (both readable by other users
 * through /proc on many systems, and copied into crash reports and `ps`): the new
 * value is the hook's stdin, exactly, with no trailing newline. The environment is
 * built from nothing: PATH and HOME, and the three names the hook may need to know
 * which value it is setting. No shell runs: the hook is split on blanks into a
 * program (relative to the config's directory unless absolute) and its arguments,
 * so a `;` or `$(…)` in `.sops.yaml` is just an argument.
 */
import { execa } from "execa"
import { isAbsolute, resolve } from "node:path"
import { ExitCode, SecretsError } from "../errors.js"

export interface ValueHookRun {
    /** The `hook:` text from `.sops.yaml`. */
    readonly hook: string
    /** The config's directory: the hook's working directory and the base of its path. */
    readonly configDir: string
    /** The new value, written to the hook's stdin. */
    readonly value: string
    /** The file, relative to the config's directory. */
    readonly file: string
    /** Index syntax, `["db"]["password"]`. */
    readonly keyPath: string
    readonly category?: string
    /** Where PATH and HOME come from. */
    readonly env: Readonly<Record<string, string | undefined>>
    /** The hook's own output (stdout and stderr), shown to the user; never the value unless the hook prints it. */
    readonly onOutput: (text: string) => void
}

/** The program and arguments of a hook, as run (for the confirmation line). */
export function hookArgv(hook: string, configDir: string): { program: string; args: string[] } {
    const words = hook.trim().split(/\s+/)
    const first = words[0] ?? ""
    return { program: isAbsolute(first) ? first : resolve(configDir, first), args: words.slice(1) }
}

/** The environment a hook gets: nothing secret, nothing inherited beyond PATH and HOME. */
export function hookEnv(run: Pick<ValueHookRun, "env" | "file" | "keyPath" | "category">): Record<string, string> {
    return {
        PATH: run.env.PATH ?? "/usr/bin:/bin",
        HOME: run.env.HOME ?? "/",
        SECRETS_FILE: run.file,
        SECRETS_KEY_PATH: run.keyPath,
        SECRETS_CATEGORY: run.category ?? "",
    }
}

/** Run the hook; throws a SecretsError (exit 1) naming the hook and how it ended unless it exited 0. */
export async function runValueHook(run: ValueHookRun): Promise<void> {
    const { program, args } = hookArgv(run.hook, run.configDir)
    const r = await execa(program, args, {
        cwd: run.configDir,
        env: hookEnv(run),
        extendEnv: false,
        shell: false,
        input: run.value,
        stdout: "pipe",
        stderr: "pipe",
        all: true,
        reject: false,
        encoding: "utf8",
    })
    if (r.all !== undefined && r.all !== "") run.onOutput(r.all.endsWith("\n") ? r.all : `${r.all}\n`)
    // Exit 0 is success even if the hook never read its stdin (execa may then report EPIPE):
    // it is the hook's word that the value is in service.
    if (r.exitCode === 0 && r.signal === undefined) return
    const how =
        r.signal !== undefined
            ? `was killed by ${r.signal}`
            : r.exitCode !== undefined
              ? `exited with status ${r.exitCode}`
              : `could not be started (${startError(r.cause)})`
    throw new SecretsError(ExitCode.Generic, `hook ${run.hook} ${how}: the file was not changed`, [
        "the old value is still in the file; fix the hook (run it by hand with the value on stdin) and run rotate-value again",
    ])
}

function startError(cause: unknown): string {
    const code = (cause as { code?: string } | undefined)?.code
    if (code === "ENOENT") return "not found"
    if (code === "EACCES") return "not executable"
    return code ?? "error"
}
