/**
 * `secrets keys rotate NAME`: replace one identity. A new key is made (or given
 * with `--age`), `.sops.yaml` names it instead of the old one, and every file the
 * old key could open is re-wrapped for the new one (same data key, values
 * untouched) while the old still works.
 *
 * Two rules from issue 10:
 *
 * - The old identity is never deleted. Old git revisions of every file open only
 *   with it, so it moves to the retired section of the key file
 *   (retired-identities.ts), where it keeps decrypting; deleting it is
 *   `secrets keys retired --remove`, a separate command with its own confirmation.
 * - A repository cannot steer a rotation. Progress lives outside the repository
 *   (rotation-state.ts); a resume shows the new recipient and asks, and when the
 *   rotation made a local key it refuses unless that key's identity is in the key
 *   file it was added to. A new rotation asks too, like `keys revoke`.
 */
import { lstat, readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { relative, resolve } from "node:path"
import { generatePqIdentity, generateX25519Identity, type KeyPair } from "../keys/age.js"
import { parseRecipient } from "../keys/recipient.js"
import { ageRecipients } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import type { Io } from "../files/io.js"
import { defaultKeyFile } from "../files/identity-sources.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import { info, warn } from "../files/diagnostics.js"
import { readNamedKeys, type NamedKey } from "../config/named-keys.js"
import { confirmOrRefuse, findEncryptedFiles, loadFleetConfig, progress } from "./rekey-repo.js"
import { REMOVE_RETIRED_COMMAND, holdsIdentity, retireIdentity } from "./retired-identities.js"
import { replaceRecipient } from "./replace-recipient.js"
import { ruleRecipientsFor } from "./rule-recipients.js"
import { parseConfig } from "../config/load.js"
import { findNamedKey, replaceNamedKeyRecipient } from "./revoke.js"
import {
    absolutePath,
    commandName,
    dropState,
    legacyStateIn,
    locateState,
    readState,
    storedPath,
    writeState,
    type RotationState,
    type StateLocation,
} from "./rotation-state.js"

export type { RotationState } from "./rotation-state.js"

export interface RotateIdentityOptions {
    readonly configPath: string
    readonly abort: boolean
    /** Go on without asking (`--yes`); without it and without a terminal, nothing is changed. */
    readonly yes: boolean
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
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

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

export async function rotateIdentity(io: Io, name: string, opts: RotateIdentityOptions): Promise<RotateIdentityReport | undefined> {
    const loaded = await loadFleetConfig(io, opts.configPath)
    const key = findNamedKey(loaded.text, name)
    const shownName = commandName(readNamedKeys(loaded.text), key)
    const legacy = await legacyStateIn(loaded.dir, key)
    if (legacy !== undefined) {
        // Never read: whoever can commit to the repository could have written it.
        warn(io, `${quote(relative(io.cwd, legacy))} is ignored: rotation state is kept outside the repository, where a repository cannot plant one; delete that file`)
    }
    const at = await locateState(io, loaded.dir, key.anchor, shownName)
    if (opts.abort) {
        await abortRotation(io, at)
        return undefined
    }

    let state = await readState(at)
    const resumed = state !== undefined
    if (state === undefined) {
        state = await startRotation(io, loaded.dir, at.configDir, key, opts)
        await writeState(at, state)
    } else {
        await confirmResume(io, loaded.text, key, state, opts)
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
    // The rules as they are now, naming the new key: each file's recipients come from them.
    const config = parseConfig(await readFile(loaded.path, "utf8"), relative(io.cwd, loaded.path))
    const ruleFor = (abs: string) => ruleRecipientsFor(config, loaded.dir, abs)
    const rewrapped: string[] = []
    const done = new Set(state.done)
    const todo = state.files.filter((f) => !done.has(f))
    for (const [i, f] of todo.entries()) {
        if (Number.isInteger(interruptAfter) && rewrapped.length >= interruptAfter) {
            throw new SecretsError(ExitCode.Generic, `interrupted after ${plural(rewrapped.length, "file")} (SECRETS_TEST_INTERRUPT_AFTER)`, [
                `run \`secrets keys rotate ${shownName}\` again to continue`,
            ])
        }
        const abs = absolutePath(loaded.dir, f)
        progress(io, "re-wrapping", i, todo.length, relative(io.cwd, abs))
        if (await replaceRecipient(io, abs, state.oldRecipient, state.newRecipient, ruleFor)) rewrapped.push(f)
        state = { ...state, done: [...state.done, f] }
        await writeState(at, state)
    }

    if (state.keyFile !== undefined) await retireOld(io, state.keyFile, key.anchor, state.oldRecipient)
    await dropState(at)
    info(io, `rotated ${key.anchor}: ${plural(state.files.length, "file")} now open with ${state.newRecipient}, not the old key`)
    return { anchor: key.anchor, newRecipient: state.newRecipient, rewrapped, resumed }
}

async function abortRotation(io: Io, at: StateLocation): Promise<void> {
    let state: RotationState | undefined
    try {
        state = await readState(at)
    } catch (e) {
        // An unusable state is exactly what --abort is for: drop it without trusting it.
        if (!(e instanceof SecretsError)) throw e
        await dropState(at)
        info(io, `dropped the unusable rotation state of ${at.anchor}`)
        return
    }
    if (state === undefined) throw new SecretsError(ExitCode.Generic, `no rotation of ${at.anchor} is in progress`)
    await dropState(at)
    info(io, `dropped the rotation of ${at.anchor} (${state.done.length} of ${plural(state.files.length, "file")} were re-wrapped)`)
    info(io, `.sops.yaml names the new key ${state.newRecipient}; the old identity was kept where it was`)
}

/**
 * Before a resume changes anything: the state must fit `.sops.yaml`, a new local
 * identity must still be in the key file it was added to (else files would be
 * re-wrapped to a key nobody here holds), and the user sees the new recipient and
 * says yes. For `--age` rotations there is no local key: the recipient shown is
 * the guard.
 */
async function confirmResume(io: Io, configText: string, key: NamedKey, state: RotationState, opts: RotateIdentityOptions): Promise<void> {
    const cmd = `secrets keys rotate ${commandName(readNamedKeys(configText), key)}`
    if (key.recipient !== state.oldRecipient && key.recipient !== state.newRecipient) {
        throw new SecretsError(ExitCode.Generic, `the interrupted rotation of ${key.anchor} does not match .sops.yaml: it replaces ${state.oldRecipient} with ${state.newRecipient}, but .sops.yaml names ${key.recipient}`, [
            `drop it with \`${cmd} --abort\`, then start a new rotation`,
        ])
    }
    if (state.keyFile !== undefined) {
        const local = localKeyFile(io)
        if (local !== state.keyFile) {
            throw new SecretsError(ExitCode.Generic, `the interrupted rotation of ${key.anchor} added its new identity to ${quote(state.keyFile)}, but the key file here is ${local === undefined ? "unknown" : quote(local)}`, [
                `run it again with the environment of the first run (XDG_CONFIG_HOME, HOME), or drop it with \`${cmd} --abort\``,
            ])
        }
        const text = await readOptional(state.keyFile)
        if (text === undefined || !(await holdsIdentity(text, state.newRecipient))) {
            throw new SecretsError(ExitCode.Generic, `refusing to resume the rotation of ${key.anchor}: the identity of its new recipient ${state.newRecipient} is not in ${quote(state.keyFile)}`, [
                "files re-wrapped to it would open only with a key nobody here holds; if you moved that identity, put it back and run the command again",
                `otherwise drop the rotation with \`${cmd} --abort\``,
            ])
        }
    }
    info(io, `resuming the rotation of ${key.anchor} to ${state.newRecipient} (${state.done.length} of ${plural(state.files.length, "file")} done)`)
    if (opts.age !== undefined && opts.age.trim() !== state.newRecipient) {
        warn(io, `--age is ignored: the rotation in progress uses ${state.newRecipient}; --abort it to choose another key`)
    }
    await confirmOrRefuse(io, opts.yes, `re-wrap the remaining files for ${state.newRecipient}?`, ["pass --yes to resume without a terminal, or --abort to drop the rotation"])
}

/**
 * Choose the new key and list the files the old one opens; show the plan and ask.
 * Only after a yes is the new identity written (to the key file or `--output`).
 * Nothing in the repository is written here.
 */
async function startRotation(io: Io, configDir: string, realConfigDir: string, key: NamedKey, opts: RotateIdentityOptions): Promise<RotationState> {
    const { anchor, recipient: oldRecipient } = key
    const keyFile = localKeyFile(io)
    const keyText = keyFile === undefined ? undefined : await readOptional(keyFile)
    const local = keyText !== undefined && (await holdsIdentity(keyText, oldRecipient))
    const newKeyPair = () => (oldRecipient.startsWith("age1pq1") ? generatePqIdentity() : generateX25519Identity())

    let newRecipient: string
    let pair: KeyPair | undefined
    let where: string
    if (opts.age !== undefined) {
        newRecipient = opts.age.trim()
        parseRecipient(newRecipient)
        if (newRecipient === oldRecipient) throw new SecretsError(ExitCode.Generic, "the new recipient is the old one", ["give the recipient of a new key"])
        where = "the new key was made elsewhere; no local key file changes"
    } else if (local && keyFile !== undefined) {
        pair = await newKeyPair()
        newRecipient = pair.recipient
        where = `the new identity goes to ${quote(keyFile)}; the old one stays there, retired, and still opens old revisions`
    } else if (opts.output !== undefined) {
        if (await exists(resolve(io.cwd, opts.output))) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(opts.output)} already exists`, ["choose a new file: an identity is never overwritten"])
        }
        pair = await newKeyPair()
        newRecipient = pair.recipient
        where = `the new identity is written to ${quote(opts.output)}`
    } else {
        throw new ConfigError(`the private key of ${anchor} is not in the local key file`, [
            "pass --age RECIPIENT with a key made where it will be used (age-keygen on the host), or --output FILE to write a new identity",
        ])
    }

    const files = (await findEncryptedFiles(io, configDir))
        .filter((f) => f.metadata.keyGroups.some((g) => ageRecipients(g).includes(oldRecipient)))
        .map((f) => storedPath(configDir, f.abs))
    if (files.length === 0) warn(io, `no encrypted file lists ${anchor}; only .sops.yaml changes`)
    info(io, `rotating ${anchor}: .sops.yaml will name ${newRecipient} instead of ${oldRecipient}, and ${plural(files.length, "file")} will be re-wrapped for it; ${where}`)
    await confirmOrRefuse(io, opts.yes, `rotate ${anchor}?`, ["pass --yes to rotate without a terminal"])

    let addedTo: string | undefined
    if (pair !== undefined && opts.age === undefined && local && keyFile !== undefined) {
        // Read again: the key file may have changed while the question was open.
        const text = (await readOptional(keyFile)) ?? ""
        const sep = text === "" || text.endsWith("\n") ? "" : "\n"
        await writeFileAtomic(keyFile, enc(text + sep + identityBlock(io.now(), pair.recipient, pair.identity)), { mode: 0o600 })
        addedTo = keyFile
        info(io, `added a new identity for ${anchor} to ${quote(keyFile)}`)
    } else if (pair !== undefined && opts.output !== undefined) {
        const out = resolve(io.cwd, opts.output)
        if (await exists(out)) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(opts.output)} already exists`, ["choose a new file: an identity is never overwritten"])
        }
        await writeFileAtomic(out, enc(identityBlock(io.now(), pair.recipient, pair.identity)), { mode: 0o600 })
        info(io, `wrote the new identity of ${anchor} to ${quote(opts.output)}: install it where the old one was, then delete this copy`)
    }
    return { version: 2, configDir: realConfigDir, anchor, oldRecipient, newRecipient, ...(addedTo !== undefined ? { keyFile: addedTo } : {}), files, done: [] }
}

async function exists(path: string): Promise<boolean> {
    try {
        await lstat(path)
        return true
    } catch {
        return false
    }
}

/** Move the old identity to the key file's retired section: it still opens old git revisions. */
async function retireOld(io: Io, keyFile: string, anchor: string, oldRecipient: string): Promise<void> {
    const text = await readOptional(keyFile)
    if (text === undefined) return
    const r = await retireIdentity(text, oldRecipient, { anchor, date: io.now() })
    if (r.retired > 0) await writeFileAtomic(keyFile, enc(r.text), { mode: 0o600 })
    if (await holdsIdentity(r.text, oldRecipient)) {
        info(io, `kept the old identity of ${anchor} in ${quote(keyFile)} as retired: it still opens old revisions (git history); \`${REMOVE_RETIRED_COMMAND}\` deletes it`)
    }
}
