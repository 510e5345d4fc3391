import { join } from "node:path"
import { testAuditLog } from "./state-home.js"
import { runProcess } from "./process.js"

export const BIN = join(import.meta.dirname, "../../bin/secrets.cjs")

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
    const env = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: opts.home ?? opts.cwd,
        XDG_CONFIG_HOME: join(opts.home ?? opts.cwd, ".config"),
        SECRETS_AUDIT_LOG: testAuditLog(),
        ...opts.env,
    }
    return runProcess(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, input: opts.input }).then((r) => ({
        code: r.status ?? -1,
        stdout: r.stdout,
        stderr: r.stderr,
        stdoutBytes: r.stdoutBytes,
    }))
}
