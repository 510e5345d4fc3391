/**
 * The fleet re-key's fast path for YAML files in exactly the shape our emitter
 * writes (stores/yaml-canonical.ts): such a file is read without the general YAML
 * parser, and written back as its values part, byte for byte, followed by the new
 * `sops` block. That is what parsing and re-emitting the whole file gives (the
 * module's exactness argument and its property tests), at a fraction of the cost:
 * parse and emit were half of a re-key's CPU per file (issue 14 target 5). Any other
 * file, or metadata the fast writer does not handle, takes the general path.
 */
import type { Metadata } from "../core/metadata.js"
import { rewrapGroups } from "../engine/rekey.js"
import { metadataToTree } from "../stores/metadata.js"
import type { EncryptedDocument, Store } from "../stores/store.js"
import { readCanonical, withCanonicalMetadata } from "../stores/yaml-canonical.js"
import { emitWithMetadata } from "../files/rekey-file.js"

/** The indentation `loadStore("yaml")` writes with (its default), which the fleet's stores use. */
const YAML_INDENT = 4

/** An encrypted file read for a re-key. */
export interface ReadForRekey {
    readonly doc: EncryptedDocument
    /** For a canonical YAML file: the text before its `sops:` key, kept as it is. */
    readonly canonicalValues?: string
}

/** The file as `store.parseEncrypted` reads it (and throws as it throws), by the fast path when it applies. */
export function readForRekey(store: Store, bytes: Uint8Array): ReadForRekey {
    if (store.format === "yaml") {
        const text = decodeUtf8(bytes)
        const canonical = text === undefined ? undefined : readCanonical(text, YAML_INDENT)
        if (canonical !== undefined) return { doc: canonical.doc, canonicalValues: canonical.values }
    }
    return { doc: store.parseEncrypted(bytes) }
}

/** The file with new metadata and its values exactly as they were. */
export async function emitRekeyed(store: Store, read: ReadForRekey, metadata: Metadata): Promise<Uint8Array> {
    if (read.canonicalValues !== undefined) {
        const text = withCanonicalMetadata(read.canonicalValues, metadataToTree(metadata), YAML_INDENT)
        if (text !== undefined) return new TextEncoder().encode(text)
    }
    return emitWithMetadata(store, read.doc, metadata)
}

/** UTF-8 as the YAML store decodes it (fatal, a leading BOM dropped), or undefined where it would throw. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)
    } catch {
        return undefined
    }
}

/**
 * The re-keyed file: its data key (from `openKey`) wrapped for `groups`, written
 * with the values as they were.
 */
export async function rekeyBytes(
    store: Store,
    read: ReadForRekey,
    metadata: Metadata,
    groups: readonly (readonly string[])[],
    threshold: number,
    openKey: (metadata: Metadata) => Promise<Uint8Array>,
): Promise<Uint8Array> {
    const r = await rewrapGroups(metadata, await openKey(metadata), groups, threshold)
    return emitRekeyed(store, read, r.metadata)
}
