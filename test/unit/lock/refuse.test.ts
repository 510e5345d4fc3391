/**
 * A lock name that is not a small regular file is refused, never followed (issue
 * 10 §14): a symbolic link planted as `app.yaml.lock` (to a file the attacker wants
 * read, emptied or removed), a FIFO (which would hang a reader), a directory, a big
 * file. The error names the path and the fix; nothing is read through, written
 * through or removed, and nothing of ours is left.
 */
import { execFileSync } from "node:child_process"
import { lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { withFileLock } from "../../../src/files/file-lock.js"
import { caught } from "../../helpers/errors.js"
import { tempDir } from "../../helpers/tmp.js"

const PRECIOUS = "root:x:0:0:precious\n"

function setup() {
    const dir = tempDir()
    const file = join(dir, "app.yaml")
    const target = join(dir, "precious.txt")
    writeFileSync(target, PRECIOUS)
    return { dir, file, lock: `${file}.lock`, target }
}

/** Our own debris: temp files and locks we might have created. */
function ours(dir: string): string[] {
    return readdirSync(dir).filter((n) => n.endsWith(".tmp") || n.endsWith(".break"))
}

async function refused(file: string, lock: string, why: string): Promise<void> {
    let ran = false
    const e = await caught(
        withFileLock(
            file,
            async () => {
                ran = true
            },
            { timeoutMs: 2000 },
        ),
    )
    expect(ran).toBe(false)
    expect(e.message).toBe(`refusing the lock ${JSON.stringify(lock)}: ${why}`)
    expect(e.hints).toEqual([`secrets only ever creates small regular lock files; if no secrets command is running on this file, remove ${JSON.stringify(lock)}`])
    expect(e.code).toBe(3)
}

describe("a lock name that is not a regular file is refused", () => {
    it("a symbolic link to a file: not read, not written through, not removed", async () => {
        const s = setup()
        symlinkSync(s.target, s.lock)
        await refused(s.file, s.lock, "it is a symbolic link")
        expect(readFileSync(s.target, "utf8")).toBe(PRECIOUS)
        expect(lstatSync(s.lock).isSymbolicLink()).toBe(true)
        expect(ours(s.dir)).toEqual([])
    })

    it("a symbolic link to /etc/passwd", async () => {
        const s = setup()
        const before = readFileSync("/etc/passwd", "utf8")
        symlinkSync("/etc/passwd", s.lock)
        await refused(s.file, s.lock, "it is a symbolic link")
        expect(readFileSync("/etc/passwd", "utf8")).toBe(before)
        expect(lstatSync(s.lock).isSymbolicLink()).toBe(true)
    })

    it("a dangling symbolic link (which O_CREAT would create the target of)", async () => {
        const s = setup()
        const where = join(s.dir, "created-through-link")
        symlinkSync(where, s.lock)
        await refused(s.file, s.lock, "it is a symbolic link")
        expect(readdirSync(s.dir)).not.toContain("created-through-link")
    })

    it("a symbolic link in place of the break lock, while a dead lock waits to be broken", async () => {
        const s = setup()
        writeFileSync(s.lock, "")
        symlinkSync(s.target, `${s.lock}.break`)
        await refused(s.file, `${s.lock}.break`, "it is a symbolic link")
        expect(readFileSync(s.target, "utf8")).toBe(PRECIOUS)
        expect(readFileSync(s.lock, "utf8")).toBe("")
    })

    it("a FIFO: refused without hanging on it", async () => {
        const s = setup()
        execFileSync("mkfifo", [s.lock])
        await refused(s.file, s.lock, "it is not a regular file")
        expect(lstatSync(s.lock).isFIFO()).toBe(true)
    })

    it("a directory", async () => {
        const s = setup()
        mkdirSync(s.lock)
        writeFileSync(join(s.lock, "inside"), "x")
        await refused(s.file, s.lock, "it is not a regular file")
        expect(readdirSync(s.lock)).toEqual(["inside"])
    })

    it("a big regular file is somebody's file, not debris: kept", async () => {
        const s = setup()
        const big = `${"x".repeat(10_000)}\n`
        writeFileSync(s.lock, big)
        await refused(s.file, s.lock, "it is 10001 bytes, far more than a lock")
        expect(readFileSync(s.lock, "utf8")).toBe(big)
    })

    it("a lock from another host is not broken while its heartbeat is fresh", async () => {
        const s = setup()
        const theirs = JSON.stringify({ pid: 1, hostname: `${hostname()}-elsewhere`, time: Date.now(), token: "t" })
        writeFileSync(s.lock, theirs)
        const e = await caught(withFileLock(s.file, async () => "ran", { timeoutMs: 0 }))
        expect(e.message).toContain(`held by process 1 on ${JSON.stringify(`${hostname()}-elsewhere`)}`)
        expect(readFileSync(s.lock, "utf8")).toBe(theirs)
        expect(ours(s.dir)).toEqual([])
    })
})
