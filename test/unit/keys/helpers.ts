/** Shared helpers for the key tests: temp dirs and the real age / ssh-keygen binaries. */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import { onTestFinished } from "vitest"

/** A fresh temp dir removed when the current test finishes. */
export function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "secrets-keys-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    return dir
}

/** Run a binary; returns stdout as bytes. Throws (with stderr) on a non-zero exit. */
export function run(cmd: string, args: readonly string[], input?: Uint8Array | string): Uint8Array {
    return new Uint8Array(execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] }))
}

/** `age-keygen -o <dir>/key.txt`; returns the file path, identity line and recipient. */
export function ageKeygen(dir: string): { path: string; identity: string; recipient: string } {
    const path = join(dir, "key.txt")
    run("age-keygen", ["-o", path])
    const text = readFileSync(path, "utf8")
    const identity = text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) ?? ""
    const recipient = /# public key: (age1\S+)/.exec(text)?.[1] ?? ""
    return { path, identity, recipient }
}

/** `ssh-keygen -t <type>` without passphrase (unless given); returns private path and texts. */
export function sshKeygen(dir: string, type: "ed25519" | "rsa", passphrase = ""): { path: string; priv: string; pub: string } {
    const path = join(dir, `id_${type}`)
    const args = ["-q", "-t", type, "-N", passphrase, "-C", "test@example", "-f", path]
    if (type === "rsa") args.push("-b", "2048")
    run("ssh-keygen", args)
    return { path, priv: readFileSync(path, "utf8"), pub: readFileSync(path + ".pub", "utf8") }
}

export function write(dir: string, name: string, content: string | Uint8Array): string {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
}

/** The real-sops vectors, checked into the repo (a copy of the shared interop set). */
export const INTEROP = fileURLToPath(new URL("../../fixtures/interop", import.meta.url))

export const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString("hex"))
