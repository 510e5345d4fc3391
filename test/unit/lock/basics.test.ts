/**
 * withFileLock in one process and across processes: nothing lost, the lock file
 * and its content, a dead or stale holder broken, a live one waited for.
 */
import { caught } from "../../helpers/errors.js"
import { execFile, spawn } from "node:child_process"
import { existsSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import { hostname } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { withFileLock } from "../../../src/files/file-lock.js"
import { tempDir } from "../../helpers/tmp.js"
import { compileLock } from "./compiled-lock.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Read-modify-write with a pause in the middle, the window in which an update gets lost. */
async function increment(file: string): Promise<void> {
    const n = (JSON.parse(await readFile(file, "utf8")) as { n: number }).n
    await sleep(2 + Math.random() * 8)
    await writeFile(file, JSON.stringify({ n: n + 1 }))
}

/** A pid that is not running now (a child that has exited). */
async function deadPid(): Promise<number> {
    const child = spawn("true")
    await new Promise((r) => child.on("exit", r))
    if (child.pid === undefined) throw new Error("no pid")
    return child.pid
}

describe("withFileLock in one process", () => {
    it("the harness loses updates without the lock (so the next test means something)", async () => {
        const file = join(tempDir(), "counter.json")
        writeFileSync(file, "{\"n\":0}")
        await Promise.all(Array.from({ length: 20 }, () => increment(file)))
        expect(JSON.parse(readFileSync(file, "utf8")).n).toBeLessThan(20)
    })

    it("20 racing read-modify-writes all land", async () => {
        const file = join(tempDir(), "counter.json")
        writeFileSync(file, "{\"n\":0}")
        await Promise.all(Array.from({ length: 20 }, () => withFileLock(file, () => increment(file))))
        expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ n: 20 })
        expect(existsSync(`${file}.lock`)).toBe(false)
    })

    it("writes pid, hostname and time into the lock, and removes it after a throw", async () => {
        const file = join(tempDir(), "f.yaml")
        const err = new Error("boom")
        let inside: unknown
        await expect(
            withFileLock(file, async () => {
                inside = JSON.parse(readFileSync(`${file}.lock`, "utf8"))
                throw err
            }),
        ).rejects.toBe(err)
        expect(inside).toMatchObject({ pid: process.pid, hostname: hostname() })
        expect(typeof (inside as { time: unknown }).time).toBe("number")
        expect(existsSync(`${file}.lock`)).toBe(false)
    })

    it("breaks a lock whose pid is dead on this host at once", async () => {
        const file = join(tempDir(), "f.yaml")
        const pid = await deadPid()
        writeFileSync(`${file}.lock`, JSON.stringify({ pid, hostname: hostname(), time: Date.now(), token: "x" }))
        // No wait allowed at all: taking over a dead lock is not waiting, so it must
        // succeed with a zero timeout (no clock read; issue 10 §16).
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        expect(existsSync(`${file}.lock`)).toBe(false)
    })

    it("breaks a lock from another host once it is older than staleMs", async () => {
        const file = join(tempDir(), "f.yaml")
        const old = Date.now() - 120_000
        writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, hostname: "elsewhere", time: old, token: "x" }))
        utimesSync(`${file}.lock`, old / 1000, old / 1000)
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 2000, staleMs: 60_000 })).toBe("ran")
    })

    it("waits for a live holder, then times out naming it", async () => {
        const file = join(tempDir(), "f.yaml")
        writeFileSync(`${file}.lock`, JSON.stringify({ pid: 4242, hostname: "buildbox", time: Date.now(), token: "x" }))
        const t = Date.now()
        const e = await caught(withFileLock(file, async () => "ran", { timeoutMs: 400, noticeAfterMs: 60_000 }))
        expect(Date.now() - t).toBeGreaterThanOrEqual(400)
        expect(e.message).toBe(`could not lock ${JSON.stringify(`${file}.lock`)} within 0.4 s: held by process 4242 on "buildbox"`)
        expect(e.hints).toEqual([
            "wait for process 4242 to finish, or raise SECRETS_LOCK_TIMEOUT",
            `if process 4242 is not a secrets command working on this file, remove ${JSON.stringify(`${file}.lock`)}`,
        ])
        // A live lock is never removed by a waiter.
        expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).pid).toBe(4242)
    })

    it("a live pid on this host is not stale", async () => {
        const file = join(tempDir(), "f.yaml")
        writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), time: Date.now(), token: "x" }))
        await caught(withFileLock(file, async () => "ran", { timeoutMs: 200 }))
        expect(existsSync(`${file}.lock`)).toBe(true)
    })

    it("does not remove a lock that is no longer its own", async () => {
        const file = join(tempDir(), "f.yaml")
        const foreign = JSON.stringify({ pid: 7, hostname: "other", time: Date.now(), token: "theirs" })
        // Broken as stale and taken by someone else: a new file under the same name.
        await withFileLock(file, async () => {
            writeFileSync(`${file}.other`, foreign)
            renameSync(`${file}.other`, `${file}.lock`)
        })
        expect(readFileSync(`${file}.lock`, "utf8")).toBe(foreign)
    })

    it("refreshes the lock's mtime while held (heartbeat)", async () => {
        const file = join(tempDir(), "f.yaml")
        await withFileLock(
            file,
            async () => {
                const old = (Date.now() - 100_000) / 1000
                utimesSync(`${file}.lock`, old, old)
                // Wait for the heartbeat to move mtime forward; the test's timeout
                // bounds the wait, however slow the machine (issue 10 §16).
                const { statSync } = await import("node:fs")
                while (statSync(`${file}.lock`).mtimeMs <= old * 1000 + 1000) await sleep(20)
            },
            { staleMs: 150 },
        )
    })
})

describe("withFileLock across processes", () => {
    let compiled: ReturnType<typeof compileLock>
    beforeAll(() => {
        compiled = compileLock()
    })
    afterAll(() => compiled.cleanup())

    it("20 concurrent child processes incrementing one counter: nothing lost", async () => {
        const dir = tempDir()
        const file = join(dir, "counter.json")
        writeFileSync(file, "{\"n\":0}")
        const script = join(dir, "child.mjs")
        const lockModule = compiled.module
        writeFileSync(
            script,
            `import { readFile, writeFile } from "node:fs/promises"
import { withFileLock } from ${JSON.stringify(lockModule)}
const file = process.argv[2]
await withFileLock(file, async () => {
    const n = JSON.parse(await readFile(file, "utf8")).n
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10))
    await writeFile(file, JSON.stringify({ n: n + 1 }))
}, { timeoutMs: 60000 })
`,
        )
        const run = promisify(execFile)
        await Promise.all(Array.from({ length: 20 }, () => run(process.execPath, [script, file])))
        expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ n: 20 })
        expect(existsSync(`${file}.lock`)).toBe(false)
    })
})
