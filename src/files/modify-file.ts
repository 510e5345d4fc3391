/**
 * Read-modify-write of an encrypted file, for set, unset, rotate, edit and
 * updatekeys: under a lock on the file (so concurrent `set`s both land), open it,
 * let the command compute the new content, and replace the file atomically only
 * when there is new content. Nothing is written when anything fails.
 */
import { resolve } from "node:path"
import type { OpenedFile } from "../engine/open.js"
import { formatForPath, loadStore } from "../stores/index.js"
import type { Format, Store } from "../stores/store.js"
import { withFileLock } from "./file-lock.js"
import { writeFileAtomic } from "./fs-atomic.js"
import type { Io } from "./io.js"
import { openInput, readInput } from "./open-file.js"

export interface ModifyOptions {
    readonly inputType?: Format
    readonly ignoreMac?: boolean
    readonly decryptionOrder?: string
    readonly indent?: number
}

/** What a change returns: the new bytes, or undefined to leave the file as it is. */
export type Change = (opened: OpenedFile, store: Store, input: Uint8Array) => Promise<Uint8Array | undefined>

/** Returns true when the file was rewritten. */
export async function modifyEncryptedFile(io: Io, file: string, opts: ModifyOptions, change: Change): Promise<boolean> {
    const abs = resolve(io.cwd, file)
    const store = await loadStore(opts.inputType ?? formatForPath(file), opts.indent === undefined ? {} : { indent: opts.indent })
    return withFileLock(abs, async () => {
        const input = await readInput(io, file)
        const opened = await openInput(io, file, input, store, {
            ignoreMac: opts.ignoreMac === true,
            ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder.split(",").map((s) => s.trim()) } : {}),
        })
        const out = await change(opened, store, input)
        if (out === undefined) return false
        await writeFileAtomic(abs, out)
        return true
    })
}
