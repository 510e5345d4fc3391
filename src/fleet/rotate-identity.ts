/**
 * `secrets keys rotate NAME`: replace one identity. A new key is made (or given
 * with `--age`), `.sops.yaml` names it instead of the old one, every file the old
 * key could open is re-wrapped for the new one (same data key, values untouched)
 * while the old still works, and only then is the old key dropped.
 *
 * It is resumable: progress lives in `<config dir>/.secrets/rotate-NAME.json`
 * (0600, written atomically after every file). The state holds no secret — only
 * recipients and file names; a new local private key is already in the key file
 * before the state is written. Running the command again continues; `--abort`
 * drops the state.
 */
import { mkdir, readFile, rm, rmdir } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { generatePqIdentity, generateX25519Identity } from "../keys/age.js"
import { identityToRecipientString } from "../keys/identity-file.js"
import { parseRecipient } from "../keys/recipient.js"
import { ageRecipients, rewrapGroups } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import type { CommandContext } from "../cli/context.js"
import type { Io } from "../cli/io.js"
import { defaultKeyFile } from "../cli/identity-sources.js"
import { emitWithMetadata, recoverKey } from "../cli/commands/updatekeys.js"
import { withFileLock } from "../cli/file-lock.js"
import { writeFileAtomic } from "../cli/fs-atomic.js"
import { info, warn } from "../cli/report.js"
import { readNamedKeys } from "./named-keys.js"
import { findEncryptedFiles, loadFleetConfig, progress } from "./rekey-repo.js"
import { findNamedKey, replaceNamedKeyRecipient } from "./revoke.js"

/** What `.secrets/rotate-NAME.json` holds: public recipients and file names only. */
export interface RotationState {
    readonly version: 1
    readonly anchor: string
    readonly oldRecipient: string
    readonly newRecipient: string
    /** The key file the new identity was added to (the old one is removed from it at the end), if local. */
    readonly keyFile?: string
    /** Files to re-wrap, relative to the config's directory. */
    readonly files: string[]
    readonly done: string[]
}

export interface RotateIdentityOptions {
    readonly configPath: string
    readonly abort: boolean
    /** A new recipient made elsewhere (on the host itself). */
    readonly age?: string
    /** Where to write a new identity that is not the local user's. */
    readonly output?: string
}

export interface RotateIdentityReport {
    readonly anchor: string
    readonly newRecipient: string
    readonly rewrapped: string[]
    readonly resumed: boolean
}

const enc = (s: string) => new TextEncoder().encode(s)

export function statePath(configDir: string, name: string): string {
    return join(configDir, ".secrets", `rotate-${name}.json`)
}

async function readState(path: string): Promise<RotationState | undefined> {
    let text: string
    try {
        text = await readFile(path, "utf8")
    } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined
        throw e
    }
    try {
        const s = JSON.parse(text) as RotationState
        if (s.version !== 1 || !Array.isArray(s.files) || !Array.isArray(s.done)) throw new Error("shape")
        return s
    } catch {
        throw new SecretsError(ExitCode.Generic, `the rotation state ${quote(path)} is damaged`, ["drop it with --abort and start again"])
    }
}

async function writeState(path: string, state: RotationState): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    await writeFileAtomic(path, enc(JSON.stringify(state, null, 2) + "\n"), { mode: 0o600 })
}

/** The identity lines of a key file and their recipients (comments and blanks skipped). */
async function identitiesIn(text: string): Promise<{ line: number; recipient: string }[]> {
    const out: { line: number; recipient: string }[] = []
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim()
        if (!line.startsWith("AGE-SECRET-KEY-")) continue
        try {
            out.push({ line: i, recipient: await identityToRecipientString(line) })
        } catch {
            // A broken line is not ours to judge here; decrypt reports it.
        }
    }
    return out
}

/** The key file without the identity of `recipient` and the `# created` / `# public key` lines above it. */
export async function withoutIdentity(text: string, recipient: string): Promise<string> {
    const lines = text.split("\n")
    const drop = new Set<number>()
    for (const id of await identitiesIn(text)) {
        if (id.recipient !== recipient) continue
        drop.add(id.line)
        for (let j = id.line - 1; j >= 0 && /^#\s*(created|public key):/.test(lines[j]?.trim() ?? ""); j--) drop.add(j)
    }
    return lines.filter((_, i) => !drop.has(i)).join("\n")
}

function localKeyFile(io: Io): string | undefined {
    const def = defaultKeyFile(io.env, homedir(), process.platform)
    return "path" in def ? def.path : undefined
}

async function readOptional(path: string): Promise<string | undefined> {
    try {
        return await readFile(path, "utf8")
    } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined
        throw e
    }
}

/** A new identity block as age-keygen writes it. */
function identityBlock(now: Date, recipient: string, identity: string): string {
    return `# created: ${now.toISOString().replace(/\.\d{3}Z$/, "Z")}\n# public key: ${recipient}\n${identity}\n`
}

export async function rotateIdentity(ctx: CommandContext, name: string, opts: RotateIdentityOptions): Promise<RotateIdentityReport | undefined> {
    const { io } = ctx
    const loaded = await loadFleetConfig(io, opts.configPath)
    const key = findNamedKey(loaded.text, name)
    const path = statePath(loaded.dir, key.name)
    let state = await readState(path)
    if (state !== undefined && state.anchor !== key.anchor) {
        throw new SecretsError(ExitCode.Generic, `${quote(path)} belongs to a rotation of ${state.anchor}, not ${key.anchor}`, [
            "finish that rotation first, or drop it with --abort",
        ])
    }

    if (opts.abort) {
        if (state === undefined) throw new SecretsError(ExitCode.Generic, `no rotation of ${key.anchor} is in progress`)
        await rm(path)
        await rmdir(dirname(path)).catch(() => undefined)
        info(io, `dropped the rotation of ${key.anchor} (${state.done.length} of ${state.files.length} files were re-wrapped)`)
        info(io, `.sops.yaml names the new key ${state.newRecipient}; the old identity was kept where it was`)
        return undefined
    }

    const resumed = state !== undefined
    if (state === undefined) {
        state = await startRotation(io, loaded.dir, key.anchor, key.recipient, opts)
        await writeState(path, state)
    } else {
        info(io, `resuming the rotation of ${key.anchor}: ${state.done.length} of ${state.files.length} files done`)
        if (opts.age !== undefined && opts.age.trim() !== state.newRecipient) {
            warn(io, `--age is ignored: the rotation in progress uses ${state.newRecipient}; --abort it to choose another key`)
        }
    }

    // Idempotent: on a resume the config may or may not have been written yet.
    const current = await readFile(loaded.path, "utf8")
    const named = readNamedKeys(current).find((k) => k.anchor === key.anchor)
    if (named !== undefined && named.recipient === state.oldRecipient) {
        await writeFileAtomic(loaded.path, enc(replaceNamedKeyRecipient(current, key.anchor, state.newRecipient)), { mode: 0o644 })
        info(io, `${quote(relative(io.cwd, loaded.path))}: ${key.anchor} is now ${state.newRecipient}`)
    }

    // Test hook: SECRETS_TEST_INTERRUPT_AFTER=N stops with exit 1 after N files of this
    // run, as if the process had been killed there, so tests can exercise the resume.
    const interruptAfter = Number.parseInt(io.env.SECRETS_TEST_INTERRUPT_AFTER ?? "", 10)
    const rewrapped: string[] = []
    const done = new Set(state.done)
    const todo = state.files.filter((f) => !done.has(f))
    for (const [i, f] of todo.entries()) {
        if (Number.isInteger(interruptAfter) && rewrapped.length >= interruptAfter) {
            throw new SecretsError(ExitCode.Generic, `interrupted after ${rewrapped.length} file${rewrapped.length === 1 ? "" : "s"} (SECRETS_TEST_INTERRUPT_AFTER)`, [
                `run \`secrets keys rotate ${name}\` again to continue`,
            ])
        }
        const abs = join(loaded.dir, f)
        progress(io, "re-wrapping", i, todo.length, relative(io.cwd, abs))
        if (await rewrapOne(io, abs, state.oldRecipient, state.newRecipient)) rewrapped.push(f)
        state = { ...state, done: [...state.done, f] }
        await writeState(path, state)
    }

    if (state.keyFile !== undefined) {
        const text = await readOptional(state.keyFile)
        if (text !== undefined) await writeFileAtomic(state.keyFile, enc(await withoutIdentity(text, state.oldRecipient)), { mode: 0o600 })
        info(io, `removed the old identity of ${key.anchor} from ${quote(state.keyFile)}`)
    }
    await rm(path)
    await rmdir(dirname(path)).catch(() => undefined)
    info(io, `rotated ${key.anchor}: ${state.files.length} file${state.files.length === 1 ? "" : "s"} now open with ${state.newRecipient}, not the old key`)
    return { anchor: key.anchor, newRecipient: state.newRecipient, rewrapped, resumed }
}

/** Make (or take) the new key, and list the files the old one opens. Nothing in the repo is written yet. */
async function startRotation(io: Io, configDir: string, anchor: string, oldRecipient: string, opts: RotateIdentityOptions): Promise<RotationState> {
    const keyFile = localKeyFile(io)
    const keyText = keyFile === undefined ? undefined : await readOptional(keyFile)
    const local = keyText !== undefined && (await identitiesIn(keyText)).some((id) => id.recipient === oldRecipient)
    const pq = oldRecipient.startsWith("age1pq1")

    let newRecipient: string
    let addedTo: string | undefined
    if (opts.age !== undefined) {
        newRecipient = opts.age.trim()
        parseRecipient(newRecipient)
        if (newRecipient === oldRecipient) throw new SecretsError(ExitCode.Generic, "the new recipient is the old one", ["give the recipient of a new key"])
    } else if (local && keyFile !== undefined && keyText !== undefined) {
        const pair = pq ? await generatePqIdentity() : await generateX25519Identity()
        newRecipient = pair.recipient
        // The old identity stays until every file is re-wrapped: both open them meanwhile.
        const sep = keyText === "" || keyText.endsWith("\n") ? "" : "\n"
        await writeFileAtomic(keyFile, enc(keyText + sep + identityBlock(io.now(), pair.recipient, pair.identity)), { mode: 0o600 })
        addedTo = keyFile
        info(io, `added a new identity for ${anchor} to ${quote(keyFile)}`)
    } else if (opts.output !== undefined) {
        const out = resolve(io.cwd, opts.output)
        if ((await readOptional(out)) !== undefined) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(opts.output)} already exists`, ["choose a new file: an identity is never overwritten"])
        }
        const pair = pq ? await generatePqIdentity() : await generateX25519Identity()
        newRecipient = pair.recipient
        await writeFileAtomic(out, enc(identityBlock(io.now(), pair.recipient, pair.identity)), { mode: 0o600 })
        info(io, `wrote the new identity of ${anchor} to ${quote(opts.output)}: install it where the old one was, then delete this copy`)
    } else {
        throw new ConfigError(`the private key of ${anchor} is not in the local key file`, [
            "pass --age RECIPIENT with a key made where it will be used (age-keygen on the host), or --output FILE to write a new identity",
        ])
    }

    const files = (await findEncryptedFiles(io, configDir))
        .filter((f) => f.metadata.keyGroups.some((g) => ageRecipients(g).includes(oldRecipient)))
        .map((f) => relative(configDir, f.abs))
    if (files.length === 0) warn(io, `no encrypted file lists ${anchor}; only .sops.yaml changes`)
    return { version: 1, anchor, oldRecipient, newRecipient, ...(addedTo !== undefined ? { keyFile: addedTo } : {}), files, done: [] }
}

/**
 * Under the file's lock: in every group, the old recipient becomes the new one.
 * Returns false when there was nothing to do (already re-wrapped, or gone).
 */
async function rewrapOne(io: Io, abs: string, oldRecipient: string, newRecipient: string): Promise<boolean> {
    const { loadStore, formatForPath } = await import("../stores/index.js")
    const { metadataFromTree } = await import("../stores/metadata.js")
    const shown = relative(io.cwd, abs)
    return withFileLock(abs, async () => {
        let input: Uint8Array
        try {
            input = await readFile(abs)
        } catch (e) {
            if ((e as { code?: string }).code !== "ENOENT") throw e
            warn(io, `${quote(shown)} is gone; skipped`)
            return false
        }
        const store = await loadStore(formatForPath(abs))
        const doc = store.parseEncrypted(input)
        const metadata = metadataFromTree(doc.metadata)
        if (!metadata.keyGroups.some((g) => ageRecipients(g).includes(oldRecipient))) return false
        const groups = metadata.keyGroups.map((g) => {
            const rs = ageRecipients(g).map((r) => (r === oldRecipient ? newRecipient : r))
            return [...new Set(rs)]
        })
        let dataKey: Uint8Array
        try {
            dataKey = await recoverKey(io, shown, metadata)
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(shown)) : e
        }
        const r = await rewrapGroups(metadata, dataKey, groups, metadata.shamirThreshold)
        await writeFileAtomic(abs, await emitWithMetadata(store, doc, r.metadata))
        return true
    })
}
