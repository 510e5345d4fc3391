/**
 * The plaintext copy `edit` hands to the editor (sops-format.md §10.2 step 2): a
 * private directory (0700) holding one 0600 file named after the target, so the
 * editor picks the right syntax highlighting. It lives on /dev/shm when there is
 * one, so the plaintext never reaches a disk, and it is removed on every way out:
 * a normal return, a throw, SIGINT/SIGTERM/SIGHUP/SIGQUIT (Ctrl-C, a closed
 * terminal, Ctrl-\) and `process.exit` from inside the callback.
 */
import { rmSync } from "node:fs"
import { access, chmod, constants, mkdtemp, open, rm, stat } from "node:fs/promises"
import { constants as osConstants, tmpdir } from "node:os"
import { basename, join } from "node:path"

import { ExitCode, SecretsError } from "../errors.js"

/**
 * SIGQUIT is here because its default action is to dump core, and our core would
 * hold the plaintext (and the data key): it cleans up like SIGTERM, and the process
 * then exits with 131 (128 + 3, what a shell reports) instead of dying of it.
 */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const

/** Options for {@link withPrivateTempFile}. */
export interface PrivateTempOptions {
    /** Parent directory for the private dir; default /dev/shm if usable, else the OS temp dir. */
    readonly parent?: string
    /** Start of the private directory's name, to tell whose it is. */
    readonly prefix?: string
}

/**
 * Run `fn` with a fresh private directory (0700, on /dev/shm when there is one) and
 * remove it when `fn` settles, on SIGINT/SIGTERM/SIGHUP/SIGQUIT and on
 * `process.exit`. A signal removes the directory and is then raised again, so the
 * process ends as the signal would have ended it (exit status 128 + signal number);
 * SIGQUIT is not raised again but ends the process with exit status 131, so that
 * no core is dumped. While `fn` has
 * marked itself running (`setRunning(true)`, e.g. while exec-file's command runs
 * and signals are forwarded to it), signals are left to whoever handles them then;
 * the directory still goes when `fn` returns.
 */
export async function withPrivateDir<T>(
    fn: (dir: string, setRunning: (running: boolean) => void) => Promise<T>,
    opts: PrivateTempOptions = {},
): Promise<T> {
    const parent = opts.parent ?? (await defaultParent())
    const dir = await mkdtemp(join(parent, opts.prefix ?? "secrets-"))
    let removed = false
    let running = false
    const removeNow = (): void => {
        if (removed) return
        removed = true
        // Synchronous: in a signal or exit handler there is no later tick.
        rmSync(dir, { recursive: true, force: true })
    }
    const onSignal = (signal: NodeJS.Signals): void => {
        if (running) return
        removeNow()
        detach()
        if (signal === "SIGQUIT") {
            // Re-raised, its default action would dump a core full of plaintext.
            process.exit(128 + osConstants.signals.SIGQUIT)
        }
        // Our listener suppressed the default action; with it gone, re-raising
        // ends the process as the signal would have (or reaches other listeners).
        process.kill(process.pid, signal)
    }
    const detach = (): void => {
        for (const s of SIGNALS) process.removeListener(s, onSignal)
        process.removeListener("exit", removeNow)
    }
    for (const s of SIGNALS) process.on(s, onSignal)
    process.on("exit", removeNow)
    try {
        // mkdtemp already uses 0700; say so explicitly in case of an odd platform default.
        await chmod(dir, 0o700)
        return await fn(dir, (r) => {
            running = r
        })
    } finally {
        detach()
        if (!removed) {
            removed = true
            await rm(dir, { recursive: true, force: true })
        }
    }
}

/**
 * Write `data` to `<private dir>/<basename>` (0600) and call `fn` with that path,
 * inside {@link withPrivateDir} (`setRunning` as there: `edit` sets it while the
 * editor runs, so that a signal ends the editor first).
 */
export async function withPrivateTempFile<T>(
    name: string,
    data: Uint8Array,
    fn: (path: string, setRunning: (running: boolean) => void) => Promise<T>,
    opts: PrivateTempOptions = {},
): Promise<T> {
    return withPrivateDir(async (dir, setRunning) => {
        const file = join(dir, safeName(name))
        const fh = await open(file, "wx", 0o600)
        try {
            await fh.writeFile(data)
            await fh.sync()
        } finally {
            await fh.close()
        }
        return fn(file, setRunning)
    }, opts)
}

/** /dev/shm (RAM-backed, Linux) when it is a writable directory, else the OS temp dir. */
async function defaultParent(): Promise<string> {
    try {
        const st = await stat("/dev/shm")
        if (st.isDirectory()) {
            await access("/dev/shm", constants.W_OK | constants.X_OK)
            return "/dev/shm"
        }
    } catch {
        // not there or not writable: fall through
    }
    return tmpdir()
}

/** Only the last path component: a name like `../x` must not leave the private dir. */
function safeName(name: string): string {
    const b = basename(name.replaceAll("\\", "/"))
    if (b === "" || b === "." || b === "..") return "tmp-file"
    if (b.includes("\0")) throw new SecretsError(ExitCode.Generic, "invalid temporary file name")
    return b
}
