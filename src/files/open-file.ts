/**
 * Reading and opening the file a command works on, with errors that name the file
 * and, when no identity fits, every place that was looked in.
 */
import { SecretsError, quote } from "../errors.js"
import { openDocument, type OpenedFile, type OpenOptions } from "../engine/open.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { EncryptedDocument, Store } from "../stores/store.js"
import type { Io } from "./io.js"
import { withIdentities } from "./node-identities.js"
import { trace } from "./trace.js"
import { noteRecipient } from "./audit-collector.js"

export { readInput, type ReadLimit } from "./read-input.js"

/** The hint when no identity opens a file. */
export const NO_IDENTITY_ADVICE = "set SOPS_AGE_KEY_FILE to your key file, or ask someone who can read the file to add your recipient"

/** Parse, recover the data key and decrypt `input`; errors are prefixed with the file's name. */
export async function openInput(io: Io, name: string, input: Uint8Array, store: Store, opts: OpenOptions): Promise<OpenedFile> {
    let recipients: string[] = []
    let doc: EncryptedDocument
    try {
        doc = store.parseEncrypted(input)
        recipients = metadataFromTree(doc.metadata).keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(name)) : e
    }
    trace(io, `file: ${quote(name)} as ${store.format}, encrypted to ${recipients.length} age recipient${recipients.length === 1 ? "" : "s"}`)
    const advice = NO_IDENTITY_ADVICE
    try {
        const noted: OpenOptions = { ...opts, onRecipient: (r) => noteRecipient(io, r) }
        const opened = await withIdentities(io, recipients, advice, (ids) => openDocument(doc, store, ids, noted))
        trace(io, opts.ignoreMac === true ? "values decrypted; MAC not checked (--ignore-mac)" : "values decrypted and the MAC verified")
        return opened
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(name)) : e
    }
}
