/**
 * Where a command's result goes: stdout, `--output FILE`, or back into the input
 * file with `-i`. Files are written atomically, so a failure leaves the old content
 * (or nothing) in place; plaintext files are created 0600.
 */
import { resolve } from "node:path"
import { ExitCode, SecretsError } from "../errors.js"
import type { Io } from "./io.js"

export interface OutputTarget {
    readonly file?: string
    readonly inPlace?: boolean
    readonly output?: string
}

/** sops refuses `-i` together with `--output`, and `-i` on stdin (exit 8). */
export function checkTarget(t: OutputTarget): void {
    if (t.inPlace && t.output !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--in-place and --output cannot be used together")
    }
    if (t.inPlace && (t.file === undefined || t.file === "-")) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--in-place needs a file, not stdin")
    }
}

/**
 * Write a command's result. `plaintext` (decrypt) keeps an existing target at
 * `mode & 0600`: the file held ciphertext a moment ago, or something the user may
 * have shared, and now holds secrets.
 */
export async function writeOutput(io: Io, t: OutputTarget, data: Uint8Array | readonly Uint8Array[], opts: { readonly plaintext?: boolean } = {}): Promise<void> {
    const priv = opts.plaintext === true ? { private: true } : {}
    // fs-atomic (node:fs/promises, node:crypto) is loaded only when a file is written:
    // stdout is the common case, and each module loaded is start-up time (issue 14).
    if (t.inPlace && t.file !== undefined) return (await import("./fs-atomic.js")).writeFileAtomic(resolve(io.cwd, t.file), data, priv)
    if (t.output !== undefined) return (await import("./fs-atomic.js")).writeFileAtomic(resolve(io.cwd, t.output), data, { mode: 0o600, ...priv })
    // bin.ts sets process.exitCode instead of calling process.exit, so stdout drains.
    // A large binary file comes in pieces (files/binary-stream.ts), never joined.
    if (data instanceof Uint8Array) io.stdout.write(data)
    else for (const piece of data) io.stdout.write(piece)
}
