/**
 * The typed `sops:` metadata block, independent of how a store writes it.
 *
 * On-disk field names and their order live in `src/stores/metadata.ts`; this module
 * is the model the rest of the program works with (sops keeps the same split between
 * sops.Metadata and stores.Metadata).
 */
import type { Mapping } from "./tree.js"

/** The sops version we write and claim to be (sops-format.md §13: strict semver, no `v`). */
export const SOPS_VERSION = "3.13.2"

/** Master-key type ids as sops names them in metadata and in `--decryption-order`. */
export const KEY_TYPES = ["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"] as const
export type KeyType = (typeof KEY_TYPES)[number]

/** An age recipient and the data key (or Shamir share) encrypted to it as an armored age file. */
export interface AgeKey {
    readonly type: "age"
    readonly recipient: string
    readonly enc: string
}

/**
 * A master key we cannot use (PGP, cloud KMS, Vault). It is kept verbatim, field by
 * field, so that writing the file back leaves it valid for the tools that can.
 */
export interface ForeignKey {
    readonly type: Exclude<KeyType, "age">
    readonly fields: Mapping
}

export type MasterKey = AgeKey | ForeignKey

/** Every key of a group can recover that group's part of the data key. */
export type KeyGroup = readonly MasterKey[]

/**
 * Which values get encrypted (sops-format.md §5). At most one of the six rules is set:
 * sops 3.13 counts the comment regexes with the path rules.
 */
export interface EncryptionRule {
    readonly unencryptedSuffix?: string
    readonly encryptedSuffix?: string
    readonly unencryptedRegex?: string
    readonly encryptedRegex?: string
    readonly unencryptedCommentRegex?: string
    readonly encryptedCommentRegex?: string
}

export interface Metadata {
    readonly keyGroups: readonly KeyGroup[]
    /** 0 when the file does not say; sops then uses the number of groups. */
    readonly shamirThreshold: number
    /** RFC 3339 as written in the file; also the AAD of the MAC. */
    readonly lastModified: string
    /** The encrypted MAC (`ENC[…]`), or "" for a file without one. */
    readonly mac: string
    readonly rule: EncryptionRule
    readonly macOnlyEncrypted: boolean
    /** The sops version that wrote the file; "" when absent (some third-party writers omit it). */
    readonly version: string
}
