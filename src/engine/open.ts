/**
 * Opening an encrypted file: parse, recover the data key, decrypt every value and
 * verify the MAC (sops-format.md §3, §4). The result keeps what re-sealing needs —
 * the data key and the IV stash — so that an edit changes only the edited values.
 */
import { decryptBranches } from "../core/walk.js"
import { openMac, verifyMac } from "../core/mac.js"
import { recoverDataKey } from "../core/datakey.js"
import type { IvStash } from "../core/cipher.js"
import type { Metadata } from "../core/metadata.js"
import type { Branch } from "../core/tree.js"
import { IntegrityError, NoIdentityError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import { unwrapDataKey } from "../keys/age.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { EncryptedDocument, Store } from "../stores/store.js"
import { cryptOptions } from "./rules.js"

/** A decrypted file and what is needed to write it back with the same data key. */
export interface OpenedFile {
    readonly branches: Branch[]
    readonly metadata: Metadata
    readonly dataKey: Uint8Array
    readonly stash: IvStash
}

export interface OpenOptions {
    /** Skip MAC decryption and comparison (`--ignore-mac`). */
    readonly ignoreMac?: boolean
    /** Key type ids to try first, in order (`--decryption-order`, default age then pgp). */
    readonly decryptionOrder?: readonly string[]
    /** Told each recipient whose key entry an identity opened: the audit record's "who" (issue 16 §1). */
    readonly onRecipient?: (recipient: string) => void
}

/** Parse `input` with `store`, recover its data key with `identities`, decrypt and verify. */
export async function openEncrypted(
    input: Uint8Array,
    store: Store,
    identities: readonly AgeIdentity[],
    opts: OpenOptions = {},
): Promise<OpenedFile> {
    return openDocument(store.parseEncrypted(input), store, identities, opts)
}

/**
 * The same for a file already parsed: a caller that read the recipients from the
 * document first need not parse it twice (a second parse of a large binary file
 * cost as much as the decryption).
 */
export async function openDocument(
    doc: EncryptedDocument,
    store: Store,
    identities: readonly AgeIdentity[],
    opts: OpenOptions = {},
): Promise<OpenedFile> {
    const metadata = metadataFromTree(doc.metadata)
    const dataKey = await recoverFileKey(metadata, identities, opts.decryptionOrder, opts.onRecipient)
    return decryptWithDataKey(doc.branches, metadata, dataKey, store.format === "binary", opts)
}

/** Recover the data key, or explain which recipients the file has. */
export async function recoverFileKey(
    metadata: Metadata,
    identities: readonly AgeIdentity[],
    order?: readonly string[],
    onRecipient?: (recipient: string) => void,
): Promise<Uint8Array> {
    try {
        return await recoverDataKey(
            metadata.keyGroups,
            metadata.shamirThreshold,
            async (key) => {
                if (key.type !== "age") return null
                const part = await unwrapDataKey(key.enc, identities, key.recipient)
                if (part !== null) onRecipient?.(key.recipient)
                return part
            },
            order,
        )
    } catch (e) {
        if (e instanceof NoIdentityError) {
            const recipients = metadata.keyGroups.flat().map((k) => (k.type === "age" ? k.recipient : k.type))
            throw new NoIdentityError(e.message, [`the file is encrypted to: ${recipients.join(", ")}`, ...e.hints])
        }
        throw e
    }
}

/** Decrypt and verify with a known data key (also how the PGP-only interop vectors are tested). */
export function decryptWithDataKey(
    branches: Branch[],
    metadata: Metadata,
    dataKey: Uint8Array,
    binary: boolean,
    opts: OpenOptions = {},
): OpenedFile {
    const crypt = cryptOptions(metadata, binary)
    const result = decryptBranches(branches, dataKey, crypt)
    if (!opts.ignoreMac) {
        if (metadata.mac === "") {
            throw new IntegrityError("the file has no MAC", ["pass --ignore-mac to read it anyway"])
        }
        const stored = openMac(metadata.mac, dataKey, metadata.lastModified)
        verifyMac(stored, result.mac)
    }
    return { branches: result.branches, metadata, dataKey, stash: result.stash }
}
