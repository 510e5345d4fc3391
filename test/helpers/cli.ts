import { spawn } from "node:child_process"
import { join } from "node:path"

export const BIN = join(import.meta.dirname, "../../bin/secrets.js")

export interface CliResult {
    code: number
    stdout: string
    stderr: string
    stdoutBytes: Buffer
}

/**
 * Run the built `secrets` binary as a user would. The environment starts from a
 * clean slate (HOME pointed at `home` or the cwd) so that the developer's own keys
 * never leak into a test; pass SOPS_AGE_KEY_FILE and friends explicitly.
 */
export function runCli(
    args: string[],
    opts: { cwd: string; env?: Record<string, string>; input?: string | Buffer; home?: string },
): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
            cwd: opts.cwd,
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin",
                HOME: opts.home ?? opts.cwd,
                XDG_CONFIG_HOME: join(opts.home ?? opts.cwd, ".config"),
                ...opts.env,
            },
            stdio: ["pipe", "pipe", "pipe"],
        })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on("data", (d: Buffer) => out.push(d))
        child.stderr.on("data", (d: Buffer) => err.push(d))
        child.on("error", reject)
        child.on("close", (code) => {
            const stdoutBytes = Buffer.concat(out)
            resolve({ code: code ?? -1, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes })
        })
        child.stdin.end(opts.input ?? "")
    })
}
