/**
 * Run the program in the test's own process, through src/main.ts's main() (what
 * bin.ts runs), with the environment runCli (cli.ts) gives the binary.
 *
 * For the checks AROUND a command under test, not for the command itself: after a
 * `keys revoke` run through the built binary, "which identity opens which file" is
 * dozens of decrypts, and each spawned binary costs a node start-up (~0.25 s of
 * CPU on the 2-core CI machine) while proving nothing about the bundle that the
 * command under test did not already prove. The engine and the decrypt command
 * are the same code in both; only the process around them differs.
 */
import { Readable } from "node:stream"
import { join } from "node:path"
import { testAuditLog } from "./state-home.js"
import { main } from "../../src/main.js"
import type { CliResult } from "./cli.js"

export async function runInProcess(
    args: string[],
    opts: { cwd: string; env?: Record<string, string>; input?: string | Buffer; home?: string },
): Promise<CliResult> {
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: opts.home ?? opts.cwd,
        XDG_CONFIG_HOME: join(opts.home ?? opts.cwd, ".config"),
        SECRETS_AUDIT_LOG: testAuditLog(),
        ...opts.env,
    }
    const out: Buffer[] = []
    let err = ""
    const code = await main(args, {
        cwd: opts.cwd,
        env,
        // A pipe, never a terminal: what runCli gives the binary.
        stdin: Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]),
        stdout: { write: (c: string | Uint8Array) => (out.push(Buffer.from(c)), true), isTTY: false },
        stderr: { write: (c: string | Uint8Array) => ((err += Buffer.from(c).toString()), true), isTTY: false },
        // As nodeIo: SECRETS_NOW pins the clock.
        now: () => (env.SECRETS_NOW ? new Date(env.SECRETS_NOW) : new Date()),
    })
    const stdoutBytes = Buffer.concat(out)
    return { code, stdout: stdoutBytes.toString(), stderr: err, stdoutBytes }
}
