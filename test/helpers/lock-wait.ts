import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"

/**
 * Resolves once `run` waits for the lock: its lock-to-be, a temp file beside the
 * lock naming its pid, exists only while it tries. Polls the directory.
 */
export async function waitingForLock(dir: string, lockName: string, run: { pid: number; ended: Promise<unknown> }): Promise<void> {
    let ended = false
    void run.ended.then(() => (ended = true))
    while (!ended) {
        for (const n of readdirSync(dir).filter((n) => n.startsWith(`.${lockName}.`) && n.endsWith(".tmp"))) {
            try {
                if ((JSON.parse(readFileSync(join(dir, n), "utf8")) as { pid?: number }).pid === run.pid) return
            } catch {
                // gone, or being written
            }
        }
        await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error("ended before it waited for the lock")
}
