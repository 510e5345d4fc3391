/**
 * `encrypt` and `decrypt` of a binary file on bytes (issue 14): reading up to the
 * binary limits, and opening the file through engine/binary-file.ts when it is in
 * the plain shape. Everything else takes the general tree path, under the general
 * read limit.
 */
import { binaryTooLarge, inputTooLarge, MAX_BINARY_BYTES, MAX_BINARY_ENCRYPTED_BYTES, MAX_INPUT_BYTES } from "../core/input-limits.js"
import { openBinary } from "../engine/binary-file.js"
import type { OpenOptions } from "../engine/open.js"
import { SecretsError, quote } from "../errors.js"
import { locateBinaryValue } from "../stores/binary-bytes.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { Store } from "../stores/store.js"
import type { Io } from "./io.js"
import { NO_IDENTITY_ADVICE, type ReadLimit } from "./open-file.js"
import { withIdentities } from "./node-identities.js"
import { trace } from "./trace.js"
import { noteRecipient } from "./audit-collector.js"

/** The read limit for a binary plaintext (encrypt); `file` names it. */
export function binaryPlainLimit(file: string): ReadLimit {
    return { bytes: MAX_BINARY_BYTES, tooLarge: (size) => binaryTooLarge(size).about(quote(file)) }
}

/** The read limit for an encrypted binary file (decrypt); `file` names it. */
export function binaryEncryptedLimit(file: string): ReadLimit {
    return { bytes: MAX_BINARY_ENCRYPTED_BYTES, tooLarge: (size) => inputTooLarge(quote(file), size, MAX_BINARY_ENCRYPTED_BYTES) }
}

/**
 * The plaintext of an encrypted binary file, in pieces, verified (tag and MAC)
 * before it is returned; null when the file is not in the plain shape and the
 * general path must read it. A file that goes there must be within the general
 * limit: it is refused here otherwise.
 */
export async function openBinaryInput(io: Io, name: string, input: Uint8Array, store: Store, opts: OpenOptions): Promise<Uint8Array[] | null> {
    const general = (): null => {
        if (input.length > MAX_INPUT_BYTES) throw inputTooLarge(quote(name), input.length)
        return null
    }
    let located
    let recipients: string[]
    try {
        located = locateBinaryValue(input, store)
        if (located === null) return general()
        recipients = metadataFromTree(located.doc.metadata).keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
    } catch (e) {
        // A file whose metadata does not parse is reported by the general path,
        // in its words (positions in the whole file, not in the located remainder).
        if (e instanceof SecretsError) return general()
        throw e
    }
    trace(io, `file: ${quote(name)} as binary (read as bytes), encrypted to ${recipients.length} age recipient${recipients.length === 1 ? "" : "s"}`)
    let plain
    try {
        plain = await withIdentities(io, recipients, NO_IDENTITY_ADVICE, (ids) => openBinary(input, located, ids, { ...opts, onRecipient: (r) => noteRecipient(io, r) }))
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(name)) : e
    }
    if (plain === null) return general()
    trace(io, opts.ignoreMac === true ? "value decrypted; MAC not checked (--ignore-mac)" : "value decrypted and the MAC verified")
    return plain
}
