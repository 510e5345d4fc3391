/**
 * Who gets the lock and when (issue 10 §13): debris (an empty or unparsable lock)
 * and dead holders are taken over at once — checked with a zero timeout, so "at
 * once" needs no clock — a live holder is waited for without a time limit, and
 * SECRETS_LOCK_TIMEOUT bounds the wait with an error naming the holder.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"

import { lockTimeoutFromEnv, withFileLock } from "../../../src/files/file-lock.js"
import { processStartTime } from "../../../src/files/lock-holder.js"
import { caught } from "../../helpers/errors.js"
import { tempDir } from "../../helpers/tmp.js"

const holder = (pid: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ pid, hostname: hostname(), time: Date.now(), token: "theirs", ...extra })

/** A process that runs until killed, and resolves once it is gone. */
function liveProcess(): { child: ChildProcess; pid: number; stop: () => Promise<void> } {
    const child = spawn("sleep", ["600"], { stdio: "ignore" })
    if (child.pid === undefined) throw new Error("no pid")
    const gone = new Promise<void>((r) => child.once("exit", () => r()))
    // Also when the test fails half-way: no sleeper outlives it.
    onTestFinished(() => {
        child.kill("SIGKILL")
    })
    return {
        child,
        pid: child.pid,
        stop: async () => {
            child.kill("SIGKILL")
            await gone
        },
    }
}

/** Nothing of ours left in `dir` but the files named. */
function leftovers(dir: string): string[] {
    return readdirSync(dir).filter((n) => n.includes(".lock") || n.endsWith(".tmp"))
}

describe("taken over at once", () => {
    it("an empty lock", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        writeFileSync(`${file}.lock`, "")
        expect(await withFileLock(file, async () => readFileSync(`${file}.lock`, "utf8"), { timeoutMs: 0 })).toContain(`"pid":${process.pid}`)
        expect(leftovers(dir)).toEqual([])
    })

    it("a lock cut short or written by something else", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        for (const debris of ['{"pid":12', "not json\n", '{"pid":"x","hostname":"h","time":1,"token":"t"}', "[]"]) {
            writeFileSync(`${file}.lock`, debris)
            expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        }
        expect(leftovers(dir)).toEqual([])
    })

    it("a lock whose process on this host is gone", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const p = liveProcess()
        await p.stop()
        writeFileSync(`${file}.lock`, holder(p.pid))
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        expect(leftovers(dir)).toEqual([])
    })

    it.runIf(processStartTime(process.pid) !== undefined)("a lock whose pid now belongs to another process (its start time differs)", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const p = liveProcess()
        try {
            const real = processStartTime(p.pid)
            expect(real).toMatch(/^\d+$/)
            writeFileSync(`${file}.lock`, holder(p.pid, { start: `${real}1` }))
            expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
            // With its true start time, the same process is a live holder.
            writeFileSync(`${file}.lock`, holder(p.pid, { start: real }))
            const e = await caught(withFileLock(file, async () => "ran", { timeoutMs: 0 }))
            expect(e.message).toContain(`held by process ${p.pid} on this host`)
        } finally {
            await p.stop()
        }
    })
})

describe("breaking a dead lock", () => {
    it("while a live process holds the break lock, a waiter waits (bounded by the timeout) instead of spinning or breaking", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const dead = liveProcess()
        await dead.stop()
        const breaker = liveProcess()
        writeFileSync(`${file}.lock`, holder(dead.pid))
        writeFileSync(`${file}.lock.break`, holder(breaker.pid))
        const e = await caught(withFileLock(file, async () => "ran", { timeoutMs: 500 }))
        expect(e.message).toContain("within 0.5 s")
        expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).pid).toBe(dead.pid)
        expect(JSON.parse(readFileSync(`${file}.lock.break`, "utf8")).pid).toBe(breaker.pid)
        // Once the breaker is gone too, both are taken over at once.
        await breaker.stop()
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        expect(leftovers(dir)).toEqual([])
    })
})

describe("debris of killed processes", () => {
    it("a dead waiter's temp file and a dead breaker's break lock are removed by the next holder; a live waiter's stay", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const dead = liveProcess()
        await dead.stop()
        const live = liveProcess()
        writeFileSync(join(dir, ".app.yaml.lock.0123456789ab.tmp"), `${holder(dead.pid)}\n`)
        writeFileSync(join(dir, ".app.yaml.lock.abcdefabcdef.tmp"), `${holder(live.pid)}\n`)
        writeFileSync(`${file}.lock.break`, `${holder(dead.pid)}\n`)
        // Empty: a waiter's temp file between its creation and its content.
        writeFileSync(join(dir, ".app.yaml.lock.fedcba987654.tmp"), "")
        // Not lock debris: an atomic-write temp of the file itself, and another file's lock temp.
        writeFileSync(join(dir, ".app.yaml.0123456789ab.tmp"), "ciphertext")
        writeFileSync(join(dir, ".other.yaml.lock.0123456789ab.tmp"), `${holder(dead.pid)}\n`)
        expect(await withFileLock(file, async () => "ran", { timeoutMs: 0 })).toBe("ran")
        expect(readdirSync(dir).sort()).toEqual([
            ".app.yaml.0123456789ab.tmp",
            ".app.yaml.lock.abcdefabcdef.tmp",
            ".app.yaml.lock.fedcba987654.tmp",
            ".other.yaml.lock.0123456789ab.tmp",
        ])
    })
})

describe("a live holder is waited for", () => {
    it("with no time limit by default, saying once who holds it, until the holder is gone", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const p = liveProcess()
        writeFileSync(`${file}.lock`, holder(p.pid))
        let stderr = ""
        let ran = false
        let noticed: () => void = () => undefined
        const notice = new Promise<void>((r) => (noticed = r))
        const waiting = withFileLock(
            file,
            async () => {
                ran = true
            },
            {
                env: {},
                noticeAfterMs: 0,
                stderr: {
                    write: (s: string) => {
                        stderr += s
                        noticed()
                    },
                },
            },
        )
        await notice
        expect(ran).toBe(false)
        // The notice names the holder; the wait goes on until it is gone.
        await p.stop()
        await waiting
        expect(ran).toBe(true)
        expect(stderr).toBe(`secrets: waiting for the lock ${JSON.stringify(`${file}.lock`)}, held by process ${p.pid} on this host\n`)
        expect(leftovers(dir)).toEqual([])
    })

    it("the notice comes after a second at a terminal; in a log a short wait says nothing", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const p = liveProcess()
        writeFileSync(`${file}.lock`, holder(p.pid))
        let logged = ""
        const e = await caught(withFileLock(file, async () => "ran", { env: { SECRETS_LOCK_TIMEOUT: "1.5" }, stderr: { write: (s: string) => (logged += s), isTTY: false } }))
        expect(e.message).toContain("within 1.5 s")
        expect(logged).toBe("")
        let shown = ""
        let noticed: () => void = () => undefined
        const notice = new Promise<void>((r) => (noticed = r))
        const tty = { write: (s: string) => ((shown += s), noticed()), isTTY: true }
        const waiting = withFileLock(file, async () => "ran", { env: {}, stderr: tty })
        await notice
        await p.stop()
        expect(await waiting).toBe("ran")
        expect(shown).toBe(`secrets: waiting for the lock ${JSON.stringify(`${file}.lock`)}, held by process ${p.pid} on this host\n`)
    })

    it("SECRETS_LOCK_TIMEOUT bounds the wait: an error naming the holder's pid, its lock kept", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const p = liveProcess()
        try {
            writeFileSync(`${file}.lock`, holder(p.pid))
            const e = await caught(withFileLock(file, async () => "ran", { env: { SECRETS_LOCK_TIMEOUT: "0.3" }, noticeAfterMs: 60_000 }))
            expect(e.message).toBe(`could not lock ${JSON.stringify(`${file}.lock`)} within 0.3 s: held by process ${p.pid} on this host`)
            expect(e.hints[0]).toBe(`wait for process ${p.pid} to finish, or raise SECRETS_LOCK_TIMEOUT`)
            expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).pid).toBe(p.pid)
            expect(leftovers(dir)).toEqual(["app.yaml.lock"])
        } finally {
            await p.stop()
        }
    })

    it("SECRETS_LOCK_TIMEOUT is checked before anything is created", async () => {
        const dir = tempDir()
        for (const bad of ["soon", "-1", "1e3", "10s", "0x10"]) {
            const e = await caught(withFileLock(join(dir, "app.yaml"), async () => "ran", { env: { SECRETS_LOCK_TIMEOUT: bad } }))
            expect(e.message).toBe(`SECRETS_LOCK_TIMEOUT must be a number of seconds, not ${JSON.stringify(bad)}`)
            expect(e.code).toBe(1)
        }
        expect(readdirSync(dir)).toEqual([])
        expect(lockTimeoutFromEnv({})).toBeUndefined()
        expect(lockTimeoutFromEnv({ SECRETS_LOCK_TIMEOUT: "" })).toBeUndefined()
        expect(lockTimeoutFromEnv({ SECRETS_LOCK_TIMEOUT: "0" })).toBe(0)
        expect(lockTimeoutFromEnv({ SECRETS_LOCK_TIMEOUT: "2.5" })).toBe(2500)
    })

    it("taking the same lock again inside its own holder is a bug, not a wait for ourselves", async () => {
        const file = join(tempDir(), "app.yaml")
        await expect(withFileLock(file, () => withFileLock(file, async () => "ran"))).rejects.toThrow("locked again by its own holder")
        expect(existsSync(`${file}.lock`)).toBe(false)
    })
})
