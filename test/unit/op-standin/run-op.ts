import { spawn } from "node:child_process"
import { join } from "node:path"
import { makeOpStandin, type OpStandin, type StandinStore } from "../../helpers/op-standin.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { afterAll } from "vitest"

export interface OpResult {
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
}

/** op's stderr line prefix: `[ERROR] YYYY/MM/DD HH:MM:SS ` (Go log, local time). */
export const ERR = String.raw`\[ERROR\] \d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `

/** The exact one-line error `msg` with op's timestamp prefix. */
export function errLine(msg: string): RegExp {
    return new RegExp(`^${ERR}${msg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n$`)
}

/**
 * Run the stand-in through bin/op, found on the stand-in's PATH as `secrets` would.
 * `stdin`: undefined = /dev/null (what op.ts does), a string = piped then closed,
 * "open" = a pipe left open. `killAfterMs` kills a hung process.
 */
export function op(
    standin: OpStandin,
    args: string[],
    opts: { env?: Record<string, string>; stdin?: string | { open: true }; cwd?: string; killAfterMs?: number } = {},
): Promise<OpResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("op", args, {
            cwd: opts.cwd,
            env: { ...standin.env, ...opts.env },
            stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout?.on("data", (d: Buffer) => out.push(d))
        child.stderr?.on("data", (d: Buffer) => err.push(d))
        child.on("error", reject)
        const timer = opts.killAfterMs !== undefined ? setTimeout(() => child.kill("SIGTERM"), opts.killAfterMs) : undefined
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer)
            resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })
        })
        if (typeof opts.stdin === "string") child.stdin?.end(opts.stdin)
    })
}

const roots: string[] = []
afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true })
})

/**
 * A fresh temp dir with a stand-in on `store`. Safe in concurrent tests (vitest's
 * onTestFinished is not): every dir is removed after the file's tests.
 */
export async function standinWith(store: StandinStore): Promise<{ dir: string; standin: OpStandin }> {
    const dir = mkdtempSync(join(tmpdir(), "op-standin-test-"))
    roots.push(dir)
    return { dir, standin: await makeOpStandin(dir, store) }
}
