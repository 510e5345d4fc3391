/**
 * The editor round of `secrets edit` (sops-format.md §10.2 steps 2–4): write the
 * plaintext into a private temp file, run the editor on it, and read it back
 * until it parses — or give up with 200 when nothing changed, 201 when the editor
 * failed. Crypto stays with the caller: this module only sees plaintext trees.
 *
 * Signals: while the editor runs, Ctrl-C belongs to the editor (vim and nano use it
 * themselves, and the terminal sends SIGINT to our whole process group), so our
 * process ignores SIGINT then; a non-interactive editor that dies of it fails the
 * edit as a crashed editor does. SIGTERM, SIGHUP and SIGQUIT end the editor first
 * (runEditor), then the edit with 128 + the signal, the temp dir removed on the way
 * out; between editor runs withPrivateTempFile removes it and ends the process. At
 * the "press Enter" prompt, Ctrl-C gives up: exit 1 as in sops, the target
 * untouched, the temp dir removed.
 *
 * The editor gets our environment without the identity variables
 * (identity-env.ts) unless `passIdentityEnv`.
 */
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { basename } from "node:path"
import type { Metadata } from "../core/metadata.js"
import { lookup, type Branch } from "../core/tree.js"
import { ExitCode, FormatError, SecretsError, quote } from "../errors.js"
import { resolveEditor, runEditor, whichOnPath } from "../integrations/editor.js"
import { metadataFromTree, metadataToTree } from "../stores/metadata.js"
import type { Store } from "../stores/store.js"
import type { Io } from "../files/io.js"
import { childBaseEnvironment } from "./identity-env.js"
import { withPrivateTempFile } from "../files/private-temp.js"
import { info, reportError } from "./report.js"

/** What the user edits and gets back: the documents, and the metadata that goes with them. */
export interface EditContent {
    readonly branches: Branch[]
    readonly metadata: Metadata
}

export interface EditLoopOptions {
    /** The target as the user named it: the temp file's name and the subject of messages. */
    readonly name: string
    readonly store: Store
    /** `-s`: edit the encrypted-format document (plaintext values plus the `sops` block). */
    readonly showMasterKeys: boolean
    /** Runs the editor on the temp file; the default resolves $SOPS_EDITOR/$EDITOR/$VISUAL/vim/nano/vi. */
    readonly runEditor?: (path: string) => Promise<void>
    /** `--pass-identity-env`: give the default editor SOPS_AGE_KEY and the like. */
    readonly passIdentityEnv?: boolean
    /** Refuses saved content that parses but must not be written (a SecretsError), as a parse error does. */
    readonly check?: (edited: EditContent) => void
    /** The buffer to edit instead of the emitted documents (`git resolve`'s conflict buffer). */
    readonly text?: Uint8Array
    /** Refuses saved bytes before they are parsed (a SecretsError), as a parse error does. */
    readonly checkText?: (edited: Uint8Array) => void
}

/**
 * Let the user edit `content` and return what they saved. Throws SecretsError 200
 * when the saved file is byte-for-byte what they were given, 201 when the editor
 * cannot be found or fails, and — when stdin is not a terminal, so nobody can fix
 * it — the parse error of an invalid file (exit 1).
 */
export async function editUntilValid(io: Io, content: EditContent, opts: EditLoopOptions): Promise<EditContent> {
    const { store, showMasterKeys } = opts
    const text = opts.text ?? (showMasterKeys
        ? store.emitEncrypted({ branches: content.branches, metadata: metadataToTree(content.metadata) })
        : store.emitPlain(content.branches))
    const edit: (path: string, setRunning: (running: boolean) => void) => Promise<void> =
        opts.runEditor ?? defaultEditor(io, opts.passIdentityEnv === true)
    const original = sha256(text)
    return withPrivateTempFile(basename(opts.name), text, async (path, setRunning) => {
        for (;;) {
            await withSigintIgnored(() => edit(path, setRunning))
            const edited = await readFile(path)
            if (sha256(edited) === original) {
                throw new SecretsError(ExitCode.FileHasNotBeenModified, `${quote(opts.name)} has not changed, nothing written`)
            }
            try {
                opts.checkText?.(edited)
                const parsed = parseEdited(edited, store, showMasterKeys, content.metadata)
                opts.check?.(parsed)
                return parsed
            } catch (e) {
                if (!(e instanceof SecretsError)) throw e
                const err = e.about(quote(opts.name))
                // Without a terminal nobody can fix the file: fail instead of looping.
                if (io.stdin.isTTY !== true) throw err
                reportError(io, err)
                info(io, "press Enter to reopen the editor, or Ctrl+C to give up")
                await waitForEnter(io, opts.name)
            }
        }
    })
}

/** Parse what the editor saved; every problem is a SecretsError that quotes no value. */
function parseEdited(input: Uint8Array, store: Store, showMasterKeys: boolean, previous: Metadata): EditContent {
    if (showMasterKeys) {
        const doc = store.parseEncrypted(input)
        const metadata = metadataFromTree(doc.metadata)
        if (metadata.keyGroups.every((g) => g.length === 0)) {
            throw new FormatError("the sops block lists no master keys, so the file could not be decrypted again", [
                "put back at least one key, for example the age entries that were there",
            ])
        }
        return { branches: nonEmpty(doc.branches), metadata }
    }
    const branches = nonEmpty(store.parsePlain(input))
    for (const b of branches) {
        // sops would read such a key as the metadata block and lose the data in it.
        if (lookup(b, "sops") !== undefined) {
            throw new FormatError("the edited file has a top-level \"sops\" key, which is reserved for the metadata", [
                "rename the key, or use -s / --show-master-keys to edit the metadata",
            ])
        }
    }
    return { branches, metadata: previous }
}

function nonEmpty(branches: Branch[]): Branch[] {
    if (branches.length === 0) {
        throw new SecretsError(ExitCode.NeedAtLeastOneDocument, "the edited file is empty: there is nothing to encrypt", [
            "to delete the secrets, delete the file itself",
        ])
    }
    return branches
}

function defaultEditor(io: Io, passIdentityEnv: boolean): (path: string, setRunning: (running: boolean) => void) => Promise<void> {
    // Resolved once, before the first run: no editor at all is 201 before anything else.
    let argv: string[] | undefined
    const env = childBaseEnvironment(io.env, passIdentityEnv)
    return async (path, setRunning) => {
        argv ??= resolveEditor(io.env, whichOnPath(io.env))
        // While it runs our signals are the editor's to end it first (runEditor).
        await runEditor(argv, path, { env, onRunning: setRunning })
    }
}

function sha256(data: Uint8Array): string {
    return createHash("sha256").update(data).digest("hex")
}

/**
 * Run `fn` with SIGINT ignored by this process, then put back the listeners that
 * were there (withPrivateTempFile's, which would otherwise remove the file under
 * the editor's feet and end the program while vim carries on).
 */
async function withSigintIgnored<T>(fn: () => Promise<T>): Promise<T> {
    return withSigint(() => undefined, fn)
}

async function withSigint<T>(listener: () => void, fn: () => Promise<T>): Promise<T> {
    const saved = process.listeners("SIGINT")
    for (const l of saved) process.removeListener("SIGINT", l)
    process.on("SIGINT", listener)
    try {
        return await fn()
    } finally {
        process.removeListener("SIGINT", listener)
        for (const l of saved) process.on("SIGINT", l)
    }
}

/**
 * Wait for a line on stdin. Ctrl-C (SIGINT from the terminal) or end of input
 * rejects with exit 1: the edit is abandoned and the target left as it was.
 */
async function waitForEnter(io: Io, name: string): Promise<void> {
    const cancelled = (why: string) =>
        new SecretsError(ExitCode.Generic, `edit cancelled (${why}): ${quote(name)} was left unchanged`)
    let onCancel: () => void = () => undefined
    return withSigint(
        () => onCancel(),
        () =>
            new Promise<void>((resolve, reject) => {
                const stdin = io.stdin
                const finish = (err?: SecretsError): void => {
                    stdin.removeListener("data", onData)
                    stdin.removeListener("end", onEnd)
                    // Paused, process.stdin stops reading from the terminal, so the
                    // next editor gets every keystroke.
                    stdin.pause()
                    if (err === undefined) resolve()
                    else reject(err)
                }
                const onData = (chunk: Buffer | string): void => {
                    if (String(chunk).includes("\n") || String(chunk).includes("\r")) finish()
                }
                const onEnd = (): void => finish(cancelled("end of input"))
                onCancel = () => finish(cancelled("interrupted"))
                stdin.on("data", onData)
                stdin.on("end", onEnd)
                stdin.resume()
            }),
    )
}
