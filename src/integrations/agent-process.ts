/**
 * Starting the agent (docs/agent.md): the same program with the hidden `agent
 * serve` subcommand, detached into its own session so that closing the terminal
 * does not end it, stdio on /dev/null (it must hold no terminal and print nothing
 * anyone reads), and unreferenced so that `secrets agent start` returns.
 */
import { spawn } from "node:child_process"

/** Start `node script args…` detached; its pid. The caller waits for the socket. */
export function startDetached(script: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>): number | undefined {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
        detached: true,
        stdio: "ignore",
        env: { ...env },
        // Not the caller's directory: a daemon must not keep a mount or a deleted checkout busy.
        cwd: "/",
    })
    // A spawn failure (ENOENT of node itself) shows up as the socket never answering.
    child.on("error", () => {})
    child.unref()
    return child.pid
}
