import { caught } from "../../helpers/errors.js"
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { writeFileAtomic } from "../../../src/files/fs-atomic.js"
import { ExitCode } from "../../../src/errors.js"
import { tempDir } from "../../helpers/tmp.js"

const enc = (s: string) => new TextEncoder().encode(s)
const mode = (p: string) => statSync(p).mode & 0o7777

describe("writeFileAtomic", () => {
    it("creates a new file with mode 0600 by default, and nothing else", async () => {
        const dir = tempDir()
        const p = join(dir, "out.yaml")
        await writeFileAtomic(p, enc("a: b\n"))
        expect(readFileSync(p, "utf8")).toBe("a: b\n")
        expect(mode(p)).toBe(0o600)
        expect(readdirSync(dir)).toEqual(["out.yaml"])
    })

    it("uses opts.mode for a new file, exactly (no umask)", async () => {
        const dir = tempDir()
        const p = join(dir, "enc.json")
        await writeFileAtomic(p, enc("{}"), { mode: 0o644 })
        expect(mode(p)).toBe(0o644)
    })

    it("keeps an existing file's mode, even when opts.mode says otherwise", async () => {
        const dir = tempDir()
        const p = join(dir, "f.env")
        writeFileSync(p, "OLD=1\n", { mode: 0o640 })
        const inodeBefore = statSync(p).ino
        await writeFileAtomic(p, enc("NEW=2\n"), { mode: 0o600 })
        expect(readFileSync(p, "utf8")).toBe("NEW=2\n")
        expect(mode(p)).toBe(0o640)
        // Replaced by rename, not rewritten in place.
        expect(statSync(p).ino).not.toBe(inodeBefore)
        expect(readdirSync(dir)).toEqual(["f.env"])
    })

    it("writes empty and large contents whole", async () => {
        const dir = tempDir()
        const p = join(dir, "big.bin")
        const big = new Uint8Array(5_000_000).map((_, i) => i % 251)
        await writeFileAtomic(p, big)
        expect(Buffer.compare(readFileSync(p), Buffer.from(big))).toBe(0)
        await writeFileAtomic(p, new Uint8Array())
        expect(readFileSync(p).length).toBe(0)
    })

    it("refuses a symlink and leaves both the link and its target alone", async () => {
        const dir = tempDir()
        const target = join(dir, "elsewhere.txt")
        writeFileSync(target, "original\n", { mode: 0o644 })
        const link = join(dir, "secrets.yaml")
        symlinkSync(target, link)
        const e = await caught(writeFileAtomic(link, enc("plaintext secret\n")))
        expect(e.code).toBe(ExitCode.CouldNotWriteOutputFile)
        expect(e.message).toBe(`refusing to write ${JSON.stringify(link)}: it is a symbolic link`)
        expect(e.hints).toEqual(["write to the file the link points to, or remove the link first"])
        expect(readFileSync(target, "utf8")).toBe("original\n")
        expect(lstatSync(link).isSymbolicLink()).toBe(true)
        expect(readlinkSync(link)).toBe(target)
        expect(readdirSync(dir).sort()).toEqual(["elsewhere.txt", "secrets.yaml"])
    })

    it("refuses a dangling symlink too (it could point into a world-readable place)", async () => {
        const dir = tempDir()
        const link = join(dir, "out.yaml")
        symlinkSync(join(dir, "planted", "x"), link)
        const e = await caught(writeFileAtomic(link, enc("s")))
        expect(e.message).toBe(`refusing to write ${JSON.stringify(link)}: it is a symbolic link`)
        expect(readdirSync(dir)).toEqual(["out.yaml"])
    })

    it("refuses a directory", async () => {
        const dir = tempDir()
        const p = join(dir, "d")
        mkdirSync(p)
        const e = await caught(writeFileAtomic(p, enc("x")))
        expect(e.code).toBe(ExitCode.CouldNotWriteOutputFile)
        expect(e.message).toBe(`refusing to write ${JSON.stringify(p)}: it is not a regular file`)
        expect(readdirSync(dir)).toEqual(["d"])
    })

    it("fails with exit 3 and the error code when the directory does not exist", async () => {
        const dir = tempDir()
        const p = join(dir, "missing", "out.yaml")
        const e = await caught(writeFileAtomic(p, enc("x")))
        expect(e.code).toBe(ExitCode.CouldNotWriteOutputFile)
        expect(e.message).toBe(`could not write ${JSON.stringify(p)}: ENOENT`)
        expect(readdirSync(dir)).toEqual([])
    })

    it("concurrent writers never tear the file: it is one of the versions, whole", async () => {
        const dir = tempDir()
        const p = join(dir, "race.txt")
        const versions = Array.from({ length: 10 }, (_, i) => String(i).repeat(100_000))
        await Promise.all(versions.map((v) => writeFileAtomic(p, enc(v))))
        expect(versions).toContain(readFileSync(p, "utf8"))
        expect(readdirSync(dir)).toEqual(["race.txt"])
    })
})
