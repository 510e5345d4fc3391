/**
 * The Io the file services want, built for a library call instead of a command:
 * the caller's cwd and environment (process's by default), no stdout (opening a
 * file prints nothing), warnings handed to the caller, and a stdin that is never
 * a terminal, so that the identity lookup never prompts for a passphrase: a
 * program that loads its secrets at start-up must not stop and read the
 * terminal it shares with its user (a passphrase-protected key is reported with
 * the other places looked in instead, exit 128).
 */
import { resolve } from "node:path"
import { Readable } from "node:stream"
import type { Io } from "../files/io.js"
import { withIdentityOptions } from "../files/identity-options.js"
import type { IoOptions } from "./options.js"

export function apiIo(opts: IoOptions): Io {
    const onWarning = opts.onWarning ?? ((line: string) => void process.stderr.write(`${line}\n`))
    let stdin: Readable | undefined
    return {
        cwd: resolve(opts.cwd ?? process.cwd()),
        env: opts.env ?? process.env,
        // Never read (the API opens named files only); made on demand, never a TTY.
        get stdin() {
            stdin ??= Readable.from([])
            return stdin
        },
        stdout: { write: () => true, isTTY: false },
        stderr: {
            write: (chunk: string | Uint8Array) => {
                const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")
                for (const line of text.split("\n")) if (line !== "") onWarning(line)
                return true
            },
            isTTY: false,
        },
        now: () => new Date(),
    }
}

/**
 * `io` for opening `file`: the `.sops.yaml` search for `secrets.age_key_op` starts
 * at the file's directory, and SOPS_CONFIG names the config as it does for the CLI.
 */
export function ioForFile(io: Io, file: string): Io {
    const config = io.env.SOPS_CONFIG
    return withIdentityOptions({ io }, config !== undefined && config !== "" ? { config } : {}, file).io
}
