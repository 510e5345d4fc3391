/**
 * Binary files through the built binary's byte path (issue 14): a tampered file
 * releases no plaintext (stdout empty, no output file), with sops' exit codes, and
 * a file outside the plain shape still decrypts through the general path.
 */
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen } from "../helpers/tmp.js"

describe("binary files on the byte path", () => {
    let dir = ""
    let env: Record<string, string> = {}
    let plain: Buffer
    let file = ""

    beforeAll(async () => {
        // One encrypted file for all the cases (tempDir() is per test).
        dir = mkdtempSync(join(tmpdir(), "secrets-test-"))
        const key = ageKeygen(dir, "k")
        env = { SOPS_AGE_KEY_FILE: key.file }
        // Over one piece (3 MiB of plaintext) so the tag is checked after several.
        plain = randomBytes((3 << 20) + 5)
        writeFileSync(join(dir, "a.bin"), plain)
        const enc = await runCli(["encrypt", "--age", key.recipient, "--output", "a.enc", "a.bin"], { cwd: dir, env })
        expect(enc.code).toBe(0)
        file = readFileSync(join(dir, "a.enc"), "latin1")
    }, 120_000)
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    function flip(text: string, field: RegExp): string {
        return text.replace(field, (m) => m.slice(0, -1) + (m.endsWith("A") ? "B" : "A"))
    }

    async function decryptBoth(name: string, contents: string): Promise<{ code: number; stdout: Buffer; written: boolean; stderr: string }> {
        writeFileSync(join(dir, name), contents, "latin1")
        const toStdout = await runCli(["decrypt", name], { cwd: dir, env })
        const toFile = await runCli(["decrypt", "--output", `${name}.out`, name], { cwd: dir, env })
        expect(toFile.code).toBe(toStdout.code)
        return { code: toStdout.code, stdout: toStdout.stdoutBytes, written: existsSync(join(dir, `${name}.out`)), stderr: toStdout.stderr }
    }

    it("round-trips", async () => {
        const r = await decryptBoth("same.enc", file)
        expect(r.code).toBe(0)
        expect(r.stdout.equals(plain)).toBe(true)
    })

    it("a flipped tag byte: exit 25, nothing on stdout, no file written", async () => {
        // The data value's tag: the first `tag:` in the file, before the metadata's.
        const r = await decryptBoth("tag.enc", flip(file, /tag:./))
        expect(r.code).toBe(25)
        expect(r.stderr).toContain("authentication failed")
        expect(r.stdout.length).toBe(0)
        expect(r.written).toBe(false)
    })

    it("a flipped byte in the ciphertext: exit 25, nothing on stdout, no file written", async () => {
        const r = await decryptBoth("data.enc", flip(file, /"data": "ENC\[AES256_GCM,data:.{5000}/))
        expect(r.code).toBe(25)
        expect(r.stdout.length).toBe(0)
        expect(r.written).toBe(false)
    })

    it("a flipped MAC: exit 51, nothing on stdout, no file written", async () => {
        const r = await decryptBoth("mac.enc", flip(file, /"mac": "ENC\[AES256_GCM,data:./))
        expect(r.code).toBe(51)
        expect(r.stderr).toContain("MAC")
        expect(r.stdout.length).toBe(0)
        expect(r.written).toBe(false)
    })

    it("a file outside the plain shape (escaped '/' in the base64) still decrypts, through the general path", async () => {
        const escaped = file.replace(/"data": "ENC\[[^"]*"/, (v) => v.replaceAll("/", "\\/"))
        expect(escaped).not.toBe(file)
        const r = await decryptBoth("escaped.enc", escaped)
        expect(r.code).toBe(0)
        expect(r.stdout.equals(plain)).toBe(true)
    })
})
