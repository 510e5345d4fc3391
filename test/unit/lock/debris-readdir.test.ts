/**
 * Through the real lock (withFileLock) and the real node:fs readdir, counted: a
 * run that locks 40 files of one directory one after the other reads the
 * directory once, not once per lock (issue 14 target 5), and the dead-process
 * debris beside each of those locks is still gone afterwards.
 */
import { spawn } from "node:child_process"
import { readdirSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"

const listed = vi.hoisted(() => [] as string[])
vi.mock("node:fs", async (importOriginal) => {
    const fs = await importOriginal<typeof import("node:fs")>()
    const readdir = ((dir: string, ...rest: unknown[]) => {
        listed.push(String(dir))
        return (fs.readdir as (...a: unknown[]) => unknown)(dir, ...rest)
    }) as typeof fs.readdir
    return { ...fs, default: { ...fs, readdir }, readdir }
})

const { withFileLock } = await import("../../../src/files/file-lock.js")
const { tempDir } = await import("../../helpers/tmp.js")

describe("the lock reads a directory once per run", () => {
    it("40 files locked in turn: one readdir of their directory, every dead waiter's temp file removed", async () => {
        const dir = tempDir()
        const child = spawn("true", { stdio: "ignore" })
        await new Promise<void>((r) => child.once("exit", () => r()))
        const dead = `${JSON.stringify({ pid: child.pid, hostname: hostname(), time: Date.now(), token: "theirs" })}\n`
        for (let i = 0; i < 40; i++) {
            writeFileSync(join(dir, `s${i}.yaml`), "x")
            writeFileSync(join(dir, `.s${i}.yaml.lock.${i.toString(16).padStart(12, "a")}.tmp`), dead)
        }
        for (let i = 0; i < 40; i++) await withFileLock(join(dir, `s${i}.yaml`), async () => undefined, { timeoutMs: 0 })
        expect(listed.filter((d) => d === dir)).toHaveLength(1)
        expect(readdirSync(dir).filter((n) => n.startsWith("."))).toEqual([])
    })
})
