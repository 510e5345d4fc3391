import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { execFileSync } from "node:child_process"
import { onTestFinished } from "vitest"

/** A private temp dir removed when the current test ends. */
export function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "secrets-test-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    return dir
}

/** Run a real program and return its stdout as bytes; throws with its stderr on failure. */
export function run(cmd: string, args: string[], opts: { input?: string | Uint8Array; cwd?: string } = {}): Buffer {
    return execFileSync(cmd, args, { input: opts.input, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] })
}

/** A fresh X25519 key made by Debian's age-keygen: the key file path and its recipient. */
export function ageKeygen(dir: string, name: string): { file: string; recipient: string; text: string } {
    const file = join(dir, `${name}.txt`)
    run("age-keygen", ["-o", file])
    const recipient = run("age-keygen", ["-y", file]).toString().trim()
    return { file, recipient, text: run("cat", [file]).toString() }
}
