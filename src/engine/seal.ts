/**
 * Writing encrypted files: a new file under a new data key, or an opened file sealed
 * again under its own data key after an edit (sops-format.md §3, §4, §6).
 */
import { encryptBranches } from "../core/walk.js"
import { sealMac, formatLastModified } from "../core/mac.js"
import { newDataKey, splitForGroups } from "../core/datakey.js"
import type { IvStash } from "../core/cipher.js"
import { SOPS_VERSION, type AgeKey, type EncryptionRule, type KeyGroup, type Metadata } from "../core/metadata.js"
import { lookup, type Branch } from "../core/tree.js"
import { ExitCode, SecretsError } from "../errors.js"
import { wrapDataKey } from "../keys/age.js"
import { metadataToTree } from "../stores/metadata.js"
import type { Store } from "../stores/store.js"
import { cryptOptions, ruleForNewFile } from "./rules.js"

export interface NewFilePlan {
    /** age recipients per key group; one group is the normal case. */
    readonly groups: readonly (readonly string[])[]
    /** Shamir threshold for several groups; 0 or undefined = all groups. */
    readonly shamirThreshold?: number
    readonly rule?: EncryptionRule
    readonly macOnlyEncrypted?: boolean
}

/** Refuse plaintext that already carries sops metadata (sops exits 203 here too). */
export function assertNotEncrypted(branches: readonly Branch[]): void {
    for (const b of branches) {
        if (lookup(b, "sops") !== undefined) {
            throw new SecretsError(ExitCode.FileAlreadyEncrypted, "the file already has a top-level \"sops\" key: it is encrypted already", [
                "decrypt it first, or rename the key if it is data",
            ])
        }
    }
}

/** Wrap `payloads[i]` for every recipient of group i. */
export async function wrapGroups(groups: readonly (readonly string[])[], payloads: readonly Uint8Array[]): Promise<KeyGroup[]> {
    return Promise.all(
        groups.map(async (recipients, i) => {
            const payload = payloads[i]
            if (payload === undefined) throw new Error("internal: no payload for key group")
            return Promise.all(
                recipients.map(async (recipient): Promise<AgeKey> => ({ type: "age", recipient, enc: await wrapDataKey(recipient, payload) })),
            )
        }),
    )
}

/** Encrypt plaintext documents into a new file with a fresh data key. */
export async function encryptNew(branches: Branch[], store: Store, plan: NewFilePlan, now: Date): Promise<Uint8Array> {
    assertNotEncrypted(branches)
    const { dataKey, metadata } = await newFileKeys(plan, store.format === "binary")
    return seal(branches, store, metadata, dataKey, undefined, now)
}

/** A fresh data key, wrapped for `plan`'s recipients, and the new file's metadata before sealing. */
export async function newFileKeys(plan: NewFilePlan, binary: boolean): Promise<{ dataKey: Uint8Array; metadata: Metadata }> {
    if (plan.groups.length === 0 || plan.groups.every((g) => g.length === 0)) {
        throw new SecretsError(ExitCode.Generic, "no recipients to encrypt to", [
            "pass --age RECIPIENT, set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml",
        ])
    }
    const dataKey = newDataKey()
    const threshold = plan.groups.length > 1 ? plan.shamirThreshold || plan.groups.length : 0
    const keyGroups = await wrapGroups(plan.groups, await splitForGroups(dataKey, plan.groups.length, threshold))
    const metadata: Metadata = {
        keyGroups,
        shamirThreshold: threshold,
        lastModified: "",
        mac: "",
        rule: ruleForNewFile(plan.rule, binary),
        macOnlyEncrypted: plan.macOnlyEncrypted ?? false,
        version: SOPS_VERSION,
    }
    return { dataKey, metadata }
}

/**
 * Encrypt `branches` under `dataKey` and emit the file. With `stash`, values that did
 * not change keep their exact ciphertext (sops' IV stash), so a diff shows only what
 * was edited plus `mac` and `lastmodified`.
 */
export function seal(
    branches: Branch[],
    store: Store,
    metadata: Metadata,
    dataKey: Uint8Array,
    stash: IvStash | undefined,
    now: Date,
): Uint8Array {
    const crypt = cryptOptions(metadata, store.format === "binary")
    const encrypted = encryptBranches(branches, dataKey, crypt, stash)
    const lastModified = formatLastModified(now)
    const mac = sealMac(encrypted.mac, dataKey, lastModified)
    const sealed: Metadata = { ...metadata, lastModified, mac }
    return store.emitEncrypted({ branches: encrypted.branches, metadata: metadataToTree(sealed) })
}
