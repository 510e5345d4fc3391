/**
 * Running `SOPS_AGE_KEY_CMD` / `SOPS_AGE_SSH_PRIVATE_KEY_CMD` (sops-format.md §9
 * items 1 and 4; sops #1323, PR #1811, PR #2045): shlex-split, executed without a
 * shell, with `SOPS_AGE_RECIPIENT` set to the recipient being decrypted, stdout
 * read as a key file. As with Go's `exec.Command(...).Output()`, stdin is the null
 * device and stderr is captured.
 *
 * stdout is a secret: it is returned and never logged or put in an error. Errors
 * name only the program (the first word): later words may be a token or a vault path.
 */
import { execa } from "execa"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { shlexSplit } from "./shlex.js"

/** How long a key command may run: a password manager waiting for a touch is fine, a hang is not. */
export const KEY_COMMAND_TIMEOUT_MS = 30_000

const STDERR_SUMMARY_MAX = 200

/**
 * Run `cmd` and return its stdout. `env` is the complete environment of the child
 * (the caller passes its own, usually the process's), plus `SOPS_AGE_RECIPIENT`
 * when `recipient` is given. Throws a SecretsError when the command does not parse,
 * cannot start, times out or exits non-zero; the last line of its stderr (cut to
 * 200 characters) is given as a hint.
 */
export async function runKeyCommand(
    cmd: string,
    env: Readonly<Record<string, string | undefined>>,
    recipient?: string,
    opts: { readonly timeoutMs?: number } = {},
): Promise<string> {
    let argv: string[]
    try {
        argv = shlexSplit(cmd)
    } catch (e) {
        throw new SecretsError(ExitCode.Generic, `could not parse the key command: ${e instanceof SecretsError ? e.message : "malformed command line"}`)
    }
    const [program, ...args] = argv
    if (program === undefined) throw new SecretsError(ExitCode.Generic, "the key command is empty")
    const childEnv: Record<string, string | undefined> = { ...env }
    if (recipient !== undefined) childEnv.SOPS_AGE_RECIPIENT = recipient
    const timeout = opts.timeoutMs ?? KEY_COMMAND_TIMEOUT_MS
    const result = await execa(program, args, {
        env: childEnv,
        extendEnv: false,
        shell: false,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout,
        reject: false,
        stripFinalNewline: false,
        encoding: "utf8",
    })
    if (!result.failed) return result.stdout
    const name = quote(program)
    const hints = stderrSummary(result.stderr)
    if (result.timedOut) {
        throw new SecretsError(ExitCode.Generic, `key command ${name} timed out after ${timeout / 1000} s`, hints)
    }
    const code = (result as { code?: unknown }).code
    if (result.exitCode === undefined && result.signal === undefined) {
        const detail = typeof code === "string" ? ` (${code})` : ""
        throw new SecretsError(ExitCode.Generic, `could not run key command ${name}${detail}`, code === "ENOENT" ? ["the program is not on PATH"] : hints)
    }
    if (result.signal !== undefined) throw new SecretsError(ExitCode.Generic, `key command ${name} was killed by ${result.signal}`, hints)
    throw new SecretsError(ExitCode.Generic, `key command ${name} exited with status ${result.exitCode}`, hints)
}

function stderrSummary(stderr: unknown): string[] {
    if (typeof stderr !== "string") return []
    const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "")
    const last = lines.at(-1)
    if (last === undefined) return []
    const cut = last.length > STDERR_SUMMARY_MAX ? `${last.slice(0, STDERR_SUMMARY_MAX)}…` : last
    return [`its stderr ended with: ${cut}`]
}
