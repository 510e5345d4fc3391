/**
 * The textconv's fallbacks (src/files/diff-text.ts): what git is shown when the file
 * cannot be decrypted for the diff. Git needs some text either way (a failing
 * textconv breaks `git log -p` for the whole range), so each case prints the file's
 * bytes unchanged, and says why on stderr where the user would want to know.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { afterEach, describe, expect, it } from "vitest"
import { diffText } from "../../../src/files/diff-text.js"
import type { Io } from "../../../src/files/io.js"

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function captured(cwd: string): { io: Io; out: () => Buffer; err: () => string } {
    const out: Buffer[] = []
    let err = ""
    const io: Io = {
        cwd,
        env: { HOME: cwd, XDG_CONFIG_HOME: join(cwd, ".config") },
        stdin: Readable.from([]),
        stdout: { write: (c: string | Uint8Array) => (out.push(Buffer.from(c)), true) },
        stderr: { write: (c: string | Uint8Array) => ((err += Buffer.from(c).toString()), true) },
        now: () => new Date(0),
    }
    return { io, out: () => Buffer.concat(out), err: () => err }
}

function file(name: string, text: string): { dir: string; path: string } {
    const dir = mkdtempSync(join(tmpdir(), "diff-text-"))
    dirs.push(dir)
    const path = join(dir, name)
    writeFileSync(path, text)
    return { dir, path }
}

describe("diffText fallbacks", () => {
    it("shows a file over the size limit as it is, with a warning, instead of failing the diff", async () => {
        const text = "a: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\nsops:\n    mac: x\n".repeat(50)
        const { dir, path } = file("big.yaml", text)
        const c = captured(dir)
        await diffText(c.io, path, { maxBytes: 1024 })
        expect(c.out().toString()).toBe(text)
        expect(c.err()).toMatch(/big\.yaml.* is too large to decrypt for a diff \(\d+ bytes\); showing the encrypted text/)
    })

    it("says so when a file looks like a sops file but its metadata does not parse", async () => {
        const text = "a: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\nsops:\n    nonsense: true\n"
        const { dir, path } = file("broken.yaml", text)
        const c = captured(dir)
        await diffText(c.io, path)
        expect(c.out().toString()).toBe(text)
        expect(c.err()).toContain("showing the encrypted text")
    })

    it("stays quiet for a clear file a diff=secrets pattern happens to cover", async () => {
        const text = "just: yaml\n"
        const { dir, path } = file("clear.yaml", text)
        const c = captured(dir)
        await diffText(c.io, path)
        expect(c.out().toString()).toBe(text)
        expect(c.err()).toBe("")
    })
})
