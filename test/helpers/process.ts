import { spawn } from "node:child_process"

export interface ProcessResult {
    /** The exit status, or null when a signal (or the timeout) ended the process. */
    status: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
    stdoutBytes: Buffer
}

export interface ProcessOptions {
    cwd: string
    env: Record<string, string>
    input?: string | Buffer
    /** Kill the process (SIGTERM) after this many milliseconds. */
    timeout?: number
}

/**
 * Run a program without blocking the test worker's event loop. Vitest's worker
 * talks to the main process over an RPC with a 60 s timeout; a file whose tests
 * block in spawnSync for longer than that in total (the docs examples did) makes
 * the run fail with "Timeout calling onTaskUpdate" even though every test passed.
 */
export function runProcess(cmd: string, args: string[], opts: ProcessOptions): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"], timeout: opts.timeout })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on("data", (d: Buffer) => out.push(d))
        child.stderr.on("data", (d: Buffer) => err.push(d))
        child.on("error", reject)
        child.on("close", (status, signal) => {
            const stdoutBytes = Buffer.concat(out)
            resolve({ status, signal, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes })
        })
        // A program that exits without reading its input must not fail the run with EPIPE.
        child.stdin.on("error", () => {})
        child.stdin.end(opts.input ?? "")
    })
}
