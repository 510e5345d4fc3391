/**
 * Failures in the middle of writeFileAtomic, injected by wrapping node:fs/promises
 * (the tests run as root, so a read-only directory would not stop a write).
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs"
import type * as FsPromises from "node:fs/promises"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"

import { writeFileAtomic } from "../../../src/files/fs-atomic.js"
import { ExitCode } from "../../../src/errors.js"
import { tempDir } from "../../helpers/tmp.js"
import { caught } from "../../helpers/errors.js"

const inject = vi.hoisted(() => ({ rename: false, write: false, sync: false, seenTemp: [] as string[] }))

vi.mock("node:fs/promises", async (importOriginal) => {
    const real = await importOriginal<typeof FsPromises>()
    const fail = (code: string) => Object.assign(new Error(`injected ${code}`), { code })
    return {
        ...real,
        rename: async (from: string, to: string) => {
            if (inject.rename) throw fail("EXDEV")
            return real.rename(from, to)
        },
        open: async (...args: Parameters<typeof real.open>) => {
            const fh = await real.open(...args)
            if (typeof args[0] === "string" && args[0].endsWith(".tmp")) {
                inject.seenTemp.push(args[0])
                if (inject.write) {
                    const realWrite = fh.write.bind(fh)
                    let calls = 0
                    // Write half, then fail as a full disk would.
                    Object.assign(fh, {
                        write: async (data: Uint8Array, off: number, len: number) => {
                            if (calls++ > 0) throw fail("ENOSPC")
                            return realWrite(data, off, Math.ceil(len / 2))
                        },
                    })
                }
                if (inject.sync) Object.assign(fh, { sync: async () => Promise.reject(fail("EIO")) })
            }
            return fh
        },
    }
})

afterEach(() => {
    inject.rename = false
    inject.write = false
    inject.sync = false
    inject.seenTemp = []
})

describe.each([
    ["rename", "EXDEV"],
    ["write", "ENOSPC"],
    ["sync", "EIO"],
] as const)("writeFileAtomic when %s fails", (step, code) => {
    it("keeps the old file and leaves no temp file behind", async () => {
        const dir = tempDir()
        const p = join(dir, "secrets.yaml")
        writeFileSync(p, "old: ciphertext\n", { mode: 0o644 })
        inject[step] = true
        const e = await caught(writeFileAtomic(p, new TextEncoder().encode("new: plaintext\n".repeat(1000))))
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
        await caught(writeFileAtomic(join(dir, "new.yaml"), new TextEncoder().encode("x: 1\n")))
        expect(readdirSync(dir)).toEqual([])
    })
})
