/**
 * Where an interrupted `keys rotate` keeps its progress, and how that progress is
 * read back (issue 10 §1).
 *
 * The threat: the state names the new recipient and, at the end, which identity
 * leaves the key file. When it lived in the repository (`.secrets/rotate-NAME.json`),
 * anyone who could get a file into a clone (a pull request, a compromised
 * collaborator) could plant a state that made the victim's next `keys rotate`
 * re-wrap every file to the attacker's key. So the state lives in the user's own
 * state directory, `$XDG_STATE_HOME/secrets/rotations/<hash>.json` (default
 * `~/.local/state`), where the hash is SHA-256 of the config directory's real path,
 * a NUL and the key's anchor; a repository cannot write there. A legacy file in the
 * repository is never read: its presence is only reported.
 *
 * The state is still input (another program of the user's could have written it),
 * so it is validated strictly: its exact shape, both recipients parse, it belongs
 * to this directory and this anchor, files are plain relative paths and `done` is a
 * subset of `files`. What it may do on resume is decided by the caller
 * (rotate-identity.ts): show the new recipient and ask, and find the new identity
 * in the key file.
 */
import { createHash } from "node:crypto"
import { chmod, lstat, mkdir, readFile, realpath, rm } from "node:fs/promises"
import { homedir } from "node:os"
import { isAbsolute, join, normalize, posix, relative, win32 } from "node:path"
import { z } from "zod"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { parseRecipient } from "../keys/recipient.js"
import type { Io } from "../files/io.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import { readNamedKeys, type NamedKey } from "../config/named-keys.js"
import type { LoadedFleetConfig } from "./rekey-repo.js"

/** What a rotation state file holds: public recipients and file names, never a private key. */
export interface RotationState {
    readonly version: 2
    /** The real path of the directory of `.sops.yaml`: shown, and checked against the hash's input. */
    readonly configDir: string
    readonly anchor: string
    readonly oldRecipient: string
    readonly newRecipient: string
    /** The local key file the new identity was added to (the old one is retired there at the end). */
    readonly keyFile?: string
    /** Files to re-wrap, relative to the config's directory, with `/`. */
    readonly files: string[]
    readonly done: string[]
}

const enc = (s: string) => new TextEncoder().encode(s)

/** A relative path inside the config's directory: no `..`, not absolute, no NUL, normalized. */
const repoPath = z.string().refine((p) => p !== "" && !p.includes("\0") && !isAbsolute(p) && !p.startsWith("\\") && posix.normalize(p) === p && !p.split("/").includes(".."), {
    message: "not a plain relative path",
})

const recipient = z.string().refine((r) => {
    try {
        parseRecipient(r)
        return r === r.trim()
    } catch {
        return false
    }
}, { message: "not a recipient" })

const stateSchema = z.strictObject({
    version: z.literal(2),
    configDir: z.string().refine(isAbsolute),
    anchor: z.string().min(1),
    oldRecipient: recipient,
    newRecipient: recipient,
    keyFile: z.string().refine(isAbsolute).optional(),
    files: z.array(repoPath),
    done: z.array(repoPath),
})

/** The rotations directory: `$XDG_STATE_HOME/secrets/rotations`, default `~/.local/state/secrets/rotations`. */
export function rotationsDir(env: Readonly<Record<string, string | undefined>>, home: string, platform: string = process.platform): string {
    if (platform === "win32") {
        const local = env.LOCALAPPDATA ?? ""
        if (local === "") throw new SecretsError(ExitCode.Generic, "cannot keep the rotation state: %LOCALAPPDATA% is not set")
        return win32.join(local, "secrets", "rotations")
    }
    // The XDG spec says a relative $XDG_STATE_HOME is invalid and must be ignored.
    const xdg = env.XDG_STATE_HOME ?? ""
    if (xdg.startsWith("/")) return posix.join(xdg, "secrets", "rotations")
    if (home === "") throw new SecretsError(ExitCode.Generic, "cannot keep the rotation state: the home directory is unknown", ["set XDG_STATE_HOME to an absolute path"])
    return posix.join(home, ".local", "state", "secrets", "rotations")
}

/** Where the rotation of `anchor` for the config in `configDir` (a real path) keeps its state. */
export function statePath(dir: string, configDir: string, anchor: string): string {
    const hash = createHash("sha256").update(`${configDir}\0${anchor}`).digest("hex")
    return join(dir, `${hash}.json`)
}

/** The place of one rotation's state: the file, and the config directory's real path it is keyed by. */
export interface StateLocation {
    readonly path: string
    readonly configDir: string
    readonly anchor: string
    /** The key as the user names it on the command line, for hints. */
    readonly name: string
}

export async function locateState(io: Io, configDir: string, anchor: string, name: string): Promise<StateLocation> {
    const real = await realpath(configDir)
    return { path: statePath(rotationsDir(io.env, homedir()), real, anchor), configDir: real, anchor, name }
}

function damaged(at: StateLocation, why: string): SecretsError {
    return new SecretsError(ExitCode.Generic, `the rotation state of ${at.anchor} (${quote(at.path)}) is not usable: ${why}`, [
        `drop it with \`secrets keys rotate ${at.name} --abort\` and start again`,
    ])
}

/** The state at `at`, validated; undefined when there is none. */
export async function readState(at: StateLocation): Promise<RotationState | undefined> {
    let text: string
    try {
        const st = await lstat(at.path)
        if (!st.isFile()) throw damaged(at, "not a regular file")
        text = await readFile(at.path, "utf8")
    } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined
        throw e
    }
    let raw: unknown
    try {
        raw = JSON.parse(text)
    } catch {
        throw damaged(at, "not JSON")
    }
    const parsed = stateSchema.safeParse(raw)
    if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw damaged(at, `${issue?.path.join(".") || "the document"}: ${issue?.message ?? "invalid"}`)
    }
    const s = parsed.data
    if (s.configDir !== at.configDir) throw damaged(at, `it belongs to ${quote(s.configDir)}`)
    if (s.anchor !== at.anchor) throw damaged(at, `it belongs to ${s.anchor}`)
    if (s.oldRecipient === s.newRecipient) throw damaged(at, "the new recipient is the old one")
    if (new Set(s.files).size !== s.files.length) throw damaged(at, "a file is listed twice")
    const files = new Set(s.files)
    if (new Set(s.done).size !== s.done.length || s.done.some((f) => !files.has(f))) throw damaged(at, "`done` is not a subset of `files`")
    return { ...s, version: 2 }
}

/** Write the state (0600, atomically) in a 0700 directory. */
export async function writeState(at: StateLocation, state: RotationState): Promise<void> {
    const dir = join(at.path, "..")
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // mkdir leaves an existing directory's mode alone: the rotations directory is ours.
    await chmod(dir, 0o700).catch(() => undefined)
    await writeFileAtomic(at.path, enc(JSON.stringify(state, null, 2) + "\n"), { mode: 0o600 })
}

export async function dropState(at: StateLocation): Promise<void> {
    await rm(at.path, { force: true })
}

/** The state's file list as stored: relative to the config's directory, with `/`. */
export function storedPath(configDir: string, abs: string): string {
    return relative(configDir, abs).split(/[\\/]/).join("/")
}

/** An absolute path for a stored (validated) file name. */
export function absolutePath(configDir: string, stored: string): string {
    return normalize(join(configDir, ...stored.split("/")))
}

/**
 * A rotation state left inside the repository by older versions, or planted there.
 * Only its existence is checked: it is never opened.
 */
export async function legacyStateIn(configDir: string, key: NamedKey): Promise<string | undefined> {
    for (const name of new Set([key.name, key.anchor])) {
        const path = join(configDir, ".secrets", `rotate-${name}.json`)
        try {
            await lstat(path)
            return path
        } catch {
            // absent
        }
    }
    return undefined
}

/** How a key is named on the command line: its bare name, or its anchor when the bare name is shared. */
export function commandName(keys: readonly NamedKey[], key: NamedKey): string {
    return keys.filter((k) => k.name === key.name).length > 1 ? key.anchor : key.name
}

/**
 * For `secrets status`: one line per named key of the config whose rotation was
 * interrupted (or whose state cannot be read), with the command that resumes it.
 */
export async function interruptedRotations(io: Io, loaded: LoadedFleetConfig): Promise<string[]> {
    const keys = readNamedKeys(loaded.text)
    const out: string[] = []
    for (const key of keys) {
        const name = commandName(keys, key)
        const at = await locateState(io, loaded.dir, key.anchor, name)
        const cmd = `secrets keys rotate ${name}`
        try {
            const s = await readState(at)
            if (s === undefined) continue
            out.push(`rotation of ${key.anchor} interrupted: ${s.done.length} of ${s.files.length} file${s.files.length === 1 ? "" : "s"} done; resume with \`${cmd}\``)
        } catch (e) {
            if (!(e instanceof SecretsError)) throw e
            out.push(`rotation of ${key.anchor} interrupted, and its state is not usable: drop it with \`${cmd} --abort\``)
        }
    }
    return out
}
