/**
 * Sealing and opening a binary file on bytes (issue 14): the same file, MAC and
 * checks as seal() and decryptWithDataKey() on the tree `{data: <bytes>}`, without
 * the tree's one-string ENC value, so a file of 1 GiB works in about 2.4× its size
 * of memory. The property tests hold both paths to the same output.
 */
import { decryptBase64, encryptBytes, encSuffix } from "../core/binary-value.js"
import { randomBytes } from "node:crypto"
import { MacHasher, formatLastModified, openMac, sealMac, verifyMac } from "../core/mac.js"
import type { Metadata } from "../core/metadata.js"
import { bytes, entry, map } from "../core/tree.js"
import { IntegrityError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import { emitBinaryFrame, type LocatedBinaryValue } from "../stores/binary-bytes.js"
import { metadataFromTree, metadataToTree } from "../stores/metadata.js"
import type { Store } from "../stores/store.js"
import { recoverFileKey, type OpenOptions } from "./open.js"
import { newFileKeys, seal, type NewFilePlan } from "./seal.js"

// sops' path of the binary store's one value, the AAD of its ENC string.
const DATA_AAD = "data:"
const IV_SIZE = 32

/** The encrypted file for the binary plaintext `plain`, in pieces to be written in order. */
export async function encryptBinary(plain: Uint8Array, store: Store, plan: NewFilePlan, now: Date): Promise<Uint8Array[]> {
    const { dataKey, metadata } = await newFileKeys(plan, true)
    return sealBinary(plain, store, metadata, dataKey, now)
}

/**
 * seal() for a binary file: `plain` under `dataKey` with `iv` (fresh by default),
 * the MAC over `plain`, and the file emitted around the ENC value's data field.
 */
export function sealBinary(
    plain: Uint8Array,
    store: Store,
    metadata: Metadata,
    dataKey: Uint8Array,
    now: Date,
    iv: Uint8Array = new Uint8Array(randomBytes(IV_SIZE)),
): Uint8Array[] {
    // sops never encrypts an empty value (it stays ""): the tree path writes that.
    if (plain.length === 0) return [seal([map(entry("data", bytes(plain)))], store, metadata, dataKey, undefined, now)]
    // A binary file has one value and every rule is off (rules.ts), so the MAC
    // covers it with or without mac_only_encrypted.
    const mac = new MacHasher(metadata.macOnlyEncrypted)
    const sealed = encryptBytes(plain, dataKey, DATA_AAD, iv, (piece) => mac.add(piece))
    const lastModified = formatLastModified(now)
    const final: Metadata = { ...metadata, lastModified, mac: sealMac(mac.digest(), dataKey, lastModified) }
    const frame = emitBinaryFrame(store, metadataToTree(final), encSuffix(iv, sealed.tag))
    return [frame.head, sealed.data, frame.tail]
}

/**
 * Open a located binary file: recover the data key, decrypt, check the tag and
 * (unless `ignoreMac`) the MAC, and only then hand back the plaintext pieces.
 * Null when the ciphertext is not valid base64: the general path reports that.
 */
export async function openBinary(
    input: Uint8Array,
    located: LocatedBinaryValue,
    identities: readonly AgeIdentity[],
    opts: OpenOptions = {},
): Promise<Uint8Array[] | null> {
    const metadata = metadataFromTree(located.doc.metadata)
    const dataKey = await recoverFileKey(metadata, identities, opts.decryptionOrder, opts.onRecipient)
    return decryptBinaryWithKey(input, located, metadata, dataKey, opts)
}

/** decryptWithDataKey() for a located binary file: the same checks in the same order. */
export function decryptBinaryWithKey(
    input: Uint8Array,
    located: LocatedBinaryValue,
    metadata: Metadata,
    dataKey: Uint8Array,
    opts: OpenOptions = {},
): Uint8Array[] | null {
    const mac = new MacHasher(metadata.macOnlyEncrypted)
    const plain = decryptBase64(input, located.dataStart, located.dataEnd, dataKey, DATA_AAD, located.iv, located.tag, (piece) => mac.add(piece))
    if (plain === null) return null
    if (!opts.ignoreMac) {
        if (metadata.mac === "") {
            throw new IntegrityError("the file has no MAC", ["pass --ignore-mac to read it anyway"])
        }
        verifyMac(openMac(metadata.mac, dataKey, metadata.lastModified), mac.digest())
    }
    return plain
}
