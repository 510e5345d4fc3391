/**
 * Failures in the middle of writeFileAtomic, injected by wrapping node:fs (the
 * tests run as root, so a read-only directory would not stop a write). The small
 * steps are synchronous calls (openSync, writeSync, renameSync), the fsync and a
 * large file's writes the callback API (fsync, write): each is wrapped where
 * writeFileAtomic calls it.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs"
import type * as Fs from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"

import { writeFileAtomic } from "../../../src/files/fs-atomic.js"
import { ExitCode } from "../../../src/errors.js"
import { tempDir } from "../../helpers/tmp.js"
import { caught } from "../../helpers/errors.js"

const inject = vi.hoisted(() => ({ rename: false, write: false, sync: false, seenTemp: [] as string[], tempFds: new Set<number>(), writes: 0 }))

vi.mock("node:fs", async (importOriginal) => {
    const real = await importOriginal<typeof Fs>()
    const fail = (code: string) => Object.assign(new Error(`injected ${code}`), { code })
    const mocked = {
        ...real,
        renameSync: (from: string, to: string) => {
            if (inject.rename) throw fail("EXDEV")
            return real.renameSync(from, to)
        },
        openSync: (...args: Parameters<typeof real.openSync>) => {
            const fd = real.openSync(...args)
            if (typeof args[0] === "string" && args[0].endsWith(".tmp")) {
                inject.seenTemp.push(args[0])
                inject.tempFds.add(fd)
            }
            return fd
        },
        // Write half, then fail as a full disk would: the synchronous write of a
        // small file and the thread-pool write of a large one alike.
        writeSync: (fd: number, data: Uint8Array, off: number, len: number) => {
            if (!inject.write || !inject.tempFds.has(fd)) return real.writeSync(fd, data, off, len)
            if (inject.writes++ > 0) throw fail("ENOSPC")
            return real.writeSync(fd, data, off, Math.ceil(len / 2))
        },
        write: (fd: number, data: Uint8Array, off: number, len: number, pos: null, cb: (e: Error | null, n: number) => void) => {
            if (!inject.write || !inject.tempFds.has(fd)) return real.write(fd, data, off, len, pos, cb)
            if (inject.writes++ > 0) return process.nextTick(() => cb(fail("ENOSPC"), 0))
            return real.write(fd, data, off, Math.ceil(len / 2), pos, cb)
        },
        fsync: (fd: number, cb: (e: Error | null) => void) => {
            if (inject.sync && inject.tempFds.has(fd)) return process.nextTick(() => cb(fail("EIO")))
            return real.fsync(fd, cb)
        },
    }
    return { ...mocked, default: mocked }
})

afterEach(() => {
    inject.rename = false
    inject.write = false
    inject.sync = false
    inject.seenTemp = []
    inject.tempFds.clear()
    inject.writes = 0
})

describe.each([
    ["rename", "EXDEV", 15_000],
    ["write", "ENOSPC", 15_000],
    ["sync", "EIO", 15_000],
    // Above 1 MiB the data is written through the thread pool, not synchronously.
    ["rename", "EXDEV", 3_000_000],
    ["write", "ENOSPC", 3_000_000],
    ["sync", "EIO", 3_000_000],
] as const)("writeFileAtomic when %s fails (%i bytes)", (step, code, size) => {
    it("keeps the old file and leaves no temp file behind", async () => {
        const dir = tempDir()
        const p = join(dir, "secrets.yaml")
        writeFileSync(p, "old: ciphertext\n", { mode: 0o644 })
        inject[step] = true
        const e = await caught(writeFileAtomic(p, new Uint8Array(size).fill(120)))
        expect(e.code).toBe(ExitCode.CouldNotWriteOutputFile)
        expect(e.message).toBe(`could not write ${JSON.stringify(p)}: ${code}`)
        // The temp file really was created (in the target's directory), then removed.
        expect(inject.seenTemp).toHaveLength(1)
        expect(inject.seenTemp[0]?.startsWith(join(dir, ".secrets.yaml."))).toBe(true)
        expect(readdirSync(dir)).toEqual(["secrets.yaml"])
        expect(readFileSync(p, "utf8")).toBe("old: ciphertext\n")
        expect(statSync(p).mode & 0o7777).toBe(0o644)
    })

    it("creates nothing when the target did not exist", async () => {
        const dir = tempDir()
        inject[step] = true
        await caught(writeFileAtomic(join(dir, "new.yaml"), new Uint8Array(size).fill(120)))
        expect(readdirSync(dir)).toEqual([])
    })
})
