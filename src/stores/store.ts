/**
 * The store interface: bytes <-> tree for one file format. Stores know nothing about
 * crypto; they only know how their format spells documents, comments and the `sops`
 * metadata block (sops-format.md §6–§7).
 */
import type { Branch, Mapping, Node } from "../core/tree.js"

export const FORMATS = ["yaml", "json", "dotenv", "ini", "binary"] as const
export type Format = (typeof FORMATS)[number]

export interface StoreOptions {
    /**
     * Indentation for YAML (2–9, default 4) and JSON (-1 = one tab, the default; 0 =
     * one element per line without indentation; N > 0 = N spaces). Ignored elsewhere.
     */
    readonly indent?: number
}

/** An encrypted file split into its documents and its (still untyped) metadata tree. */
export interface EncryptedDocument {
    /** The documents without the `sops` block. */
    readonly branches: Branch[]
    /**
     * The `sops` block as a tree. YAML and JSON give it as written; dotenv and INI
     * give it unflattened (`age__list_0__map_enc` -> age[0].enc) with string leaves.
     */
    readonly metadata: Mapping
}

export interface Store {
    readonly format: Format
    /** Parse a plaintext file. Throws FormatError with a message that quotes no value. */
    parsePlain(input: Uint8Array): Branch[]
    /** Parse an encrypted file. Throws FormatError when it has no `sops` block. */
    parseEncrypted(input: Uint8Array): EncryptedDocument
    emitPlain(branches: readonly Branch[]): Uint8Array
    emitEncrypted(doc: EncryptedDocument): Uint8Array
    /** One value for `--extract`: a mapping in the store's format, a string raw without newline. */
    emitValue(node: Node): Uint8Array
}

/**
 * The format for a path, by suffix and case-sensitively, as sops does: anything not
 * recognised is binary (so `x.yaml.enc` is binary unless `--input-type` says otherwise).
 */
export function formatForPath(path: string): Format {
    if (path.endsWith(".yaml") || path.endsWith(".yml")) return "yaml"
    if (path.endsWith(".json")) return "json"
    if (path.endsWith(".env")) return "dotenv"
    if (path.endsWith(".ini")) return "ini"
    return "binary"
}
