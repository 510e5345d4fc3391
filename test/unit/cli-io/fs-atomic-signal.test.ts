/**
 * An atomic write interrupted by a signal between creating its temp file and the
 * rename leaves nothing behind (issue 10 §14): the temp file may hold plaintext
 * (`decrypt --output`), and a signal skips every `finally`.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runProcess } from "../../helpers/process.js"
import { tempDir } from "../../helpers/tmp.js"

const FS_ATOMIC = join(import.meta.dirname, "../../../dist/files/fs-atomic.js")

describe("writeFileAtomic and signals", () => {
    it.each(["SIGTERM", "SIGINT", "SIGHUP"])("%s while the temp file is being written: no temp file is left, no target is made", async (signal) => {
        const dir = tempDir()
        // A large write keeps the temp file there while the event loop polls for it;
        // the child signals itself as soon as it sees it, before any rename.
        const script = `
            const { readdirSync } = require("node:fs")
            import(${JSON.stringify(FS_ATOMIC)}).then(({ writeFileAtomic }) => {
                const poll = setInterval(() => {
                    if (readdirSync(${JSON.stringify(dir)}).some((n) => n.endsWith(".tmp"))) {
                        clearInterval(poll)
                        process.kill(process.pid, ${JSON.stringify(signal)})
                    }
                }, 1)
                writeFileAtomic(${JSON.stringify(join(dir, "plain.yaml"))}, Buffer.alloc(256 * 1024 * 1024, 120))
            })`
        const r = await runProcess(process.execPath, ["-e", script], { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } })
        // Ended by the signal, as the default action would (the registry re-raises it).
        expect(r.signal).toBe(signal)
        // Interrupted before the rename (else this test proves nothing)...
        expect(existsSync(join(dir, "plain.yaml"))).toBe(false)
        // ...and the temp file is gone.
        expect(readdirSync(dir)).toEqual([])
    })
})
