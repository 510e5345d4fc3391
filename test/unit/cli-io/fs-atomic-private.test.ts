/**
 * Issue 10 §6: plaintext written over an existing file ends up private, and an
 * atomic rewrite keeps the replaced file's owner and group (a rename installs the
 * temp file's inode, which the writer owns unless it is given away).
 */
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { writeFileAtomic } from "../../../src/files/fs-atomic.js"
import { tempDir } from "../../helpers/tmp.js"

const enc = (s: string) => new TextEncoder().encode(s)
const mode = (p: string) => statSync(p).mode & 0o7777
const isRoot = process.getuid?.() === 0

describe("writeFileAtomic { private: true }", () => {
    it.each([
        [0o644, 0o600],
        [0o640, 0o600],
        [0o664, 0o600],
        [0o400, 0o400],
        [0o600, 0o600],
    ])("an existing %o file becomes %o", async (before, after) => {
        const p = join(tempDir(), "plain.yaml")
        writeFileSync(p, "old\n")
        chmodExact(p, before)
        await writeFileAtomic(p, enc("secret: x\n"), { private: true })
        expect(mode(p)).toBe(after)
        expect(readFileSync(p, "utf8")).toBe("secret: x\n")
    })

    it("a new file gets opts.mode masked to the owner's bits", async () => {
        const p = join(tempDir(), "new.yaml")
        await writeFileAtomic(p, enc("x"), { mode: 0o644, private: true })
        expect(mode(p)).toBe(0o600)
    })

    it("without it, an existing file keeps its mode (ciphertext may be shared)", async () => {
        const p = join(tempDir(), "enc.yaml")
        writeFileSync(p, "old\n")
        chmodExact(p, 0o644)
        await writeFileAtomic(p, enc("new\n"))
        expect(mode(p)).toBe(0o644)
    })
})

// Real users and groups: CI runs as root, and `daemon` (uid 1) is in every Debian base image.
describe.skipIf(!isRoot)("writeFileAtomic keeps owner and group (as root)", () => {
    it("a daemon:daemon 0640 file is still daemon:daemon 0640 after a rewrite by root", async () => {
        const p = join(tempDir(), "app.yaml")
        writeFileSync(p, "old\n")
        chownSync(p, 1, 1)
        chmodExact(p, 0o640)
        await writeFileAtomic(p, enc("new\n"))
        const st = statSync(p)
        expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1, 1, 0o640])
    })

    it("a root:daemon file keeps its group and loses the group bit when the data is private", async () => {
        const p = join(tempDir(), "app.env")
        writeFileSync(p, "old\n")
        chownSync(p, 0, 1)
        chmodExact(p, 0o640)
        await writeFileAtomic(p, enc("A=1\n"), { private: true })
        const st = statSync(p)
        expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 1, 0o600])
    })
})

/** chmod is exact; writeFileSync's mode is filtered by the umask. */
function chmodExact(p: string, m: number): void {
    chmodSync(p, m)
}
