/**
 * Nothing is left behind on any way out (issue 10 §14), with real processes and
 * real signals: a child holds (or waits for) a lock, the test waits for it to say
 * so, signals it, and looks at the directory and at how the child ended.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { withFileLock } from "../../../src/files/file-lock.js"
import { tempDir } from "../../helpers/tmp.js"
import { watchProcess, type WatchedProcess } from "../../helpers/watched-process.js"
import { compileLock } from "./compiled-lock.js"

let compiled: ReturnType<typeof compileLock>
beforeAll(() => {
    compiled = compileLock()
})
afterAll(() => compiled.cleanup())

/**
 * A child that takes the lock on `file`, prints "held", and holds it until a line
 * arrives on stdin. With `handler`, it also handles SIGTERM itself, as
 * `op sync --watch` does: it finishes and releases the normal way.
 */
function holderScript(dir: string, opts: { handler?: boolean; exit?: boolean } = {}): string {
    const script = join(dir, "holder.mjs")
    writeFileSync(
        script,
        `import { withFileLock } from ${JSON.stringify(compiled.module)}
const file = process.argv[2]
let release
const released = new Promise((r) => (release = r))
process.stdin.on("data", () => release())
${opts.handler === true ? 'process.on("SIGTERM", () => { process.stdout.write("stopping\\n"); release() })' : ""}
await withFileLock(file, async () => {
    process.stdout.write("held\\n")
    await released
    ${opts.exit === true ? "process.exit(7)" : ""}
}, { noticeAfterMs: 0 })
process.stdout.write("released\\n")
process.stdin.destroy()
`,
    )
    return script
}

type Child = WatchedProcess

function start(script: string, file: string): Child {
    // ulimit -c 0: SIGQUIT's default action would otherwise write a core file.
    return watchProcess(spawn("sh", ["-c", 'ulimit -c 0; exec "$0" "$@"', process.execPath, script, file], { stdio: ["pipe", "pipe", "pipe"] }))
}

const SLOW = { timeout: 60_000 }

describe("a held lock is removed on every way out", () => {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
        it(`${signal}: the lock goes, and the process ends as the signal would`, SLOW, async () => {
            const dir = tempDir()
            const file = join(dir, "app.yaml")
            const child = start(holderScript(dir), file)
            await child.saw("held\n")
            expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).pid).toBe(child.pid)
            child.kill(signal)
            expect(await child.ended).toEqual({ code: null, signal })
            expect(readdirSync(dir)).toEqual(["holder.mjs"])
        })
    }

    it("process.exit inside the locked section", SLOW, async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const child = start(holderScript(dir, { exit: true }), file)
        await child.saw("held\n")
        child.send("go")
        expect(await child.ended).toEqual({ code: 7, signal: null })
        expect(readdirSync(dir)).toEqual(["holder.mjs"])
    })

    it("a program that handles SIGTERM itself finishes first: the lock is held until it releases", SLOW, async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const child = start(holderScript(dir, { handler: true }), file)
        await child.saw("held\n")
        child.kill("SIGTERM")
        expect(await child.ended).toEqual({ code: 0, signal: null })
        expect(child.out()).toBe("held\nstopping\nreleased\n")
        expect(readdirSync(dir)).toEqual(["holder.mjs"])
    })

    it("a waiter killed while waiting leaves nothing, and the holder's lock stays", SLOW, async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const script = holderScript(dir)
        const holder = start(script, file)
        await holder.saw("held\n")
        const waiter = start(script, file)
        await waiter.saw(`held by process ${holder.pid} on this host`)
        waiter.kill("SIGTERM")
        expect(await waiter.ended).toEqual({ code: null, signal: "SIGTERM" })
        expect(readdirSync(dir).sort()).toEqual(["app.yaml.lock", "holder.mjs"])
        expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).pid).toBe(holder.pid)
        holder.send("go")
        expect(await holder.ended).toEqual({ code: 0, signal: null })
        expect(readdirSync(dir)).toEqual(["holder.mjs"])
    })

    it("SIGKILL cannot be caught: the lock stays, and the next writer takes it over at once", SLOW, async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const child = start(holderScript(dir), file)
        await child.saw("held\n")
        child.kill("SIGKILL")
        expect(await child.ended).toEqual({ code: null, signal: "SIGKILL" })
        expect(existsSync(`${file}.lock`)).toBe(true)
        // A zero timeout: taken over without waiting at all.
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        expect(readdirSync(dir)).toEqual(["holder.mjs"])
    })
})
