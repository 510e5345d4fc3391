/**
 * The file MAC (sops-format.md §4).
 *
 * SHA-512 over the plaintext bytes of every non-null, non-comment leaf in walk
 * order, with no separators and no keys: renaming a key or adding `x: null` does not
 * change it (sops issue #828), reordering values does. With `mac_only_encrypted`
 * (sops ≥ 3.9, #972) the hash is seeded with SHA-256("sops") and covers only the
 * encrypted leaves, so clear values can be edited without the key. The hex digest
 * is stored encrypted as a `str` with the `lastmodified` text as AAD.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { IntegrityError } from "../errors.js"
import { decryptValue, encryptValue, type IvStash } from "./cipher.js"
import { formatRfc3339, parseRfc3339 } from "./go-format.js"

/** SHA-256("sops"): sops' MACOnlyEncryptedInitialization, so the two MAC kinds never collide. */
export const MAC_ONLY_ENCRYPTED_SEED: Uint8Array = new Uint8Array(createHash("sha256").update("sops").digest())

/** Accumulates the MAC over leaf bytes in walk order. */
export class MacHasher {
    readonly #hash = createHash("sha512")

    constructor(macOnlyEncrypted: boolean) {
        if (macOnlyEncrypted) this.#hash.update(MAC_ONLY_ENCRYPTED_SEED)
    }

    /** A leaf's bytes, or its text (hashed as UTF-8 without an array per value). */
    add(bytes: Uint8Array | string): void {
        if (typeof bytes === "string") this.#hash.update(bytes, "utf8")
        else this.#hash.update(bytes)
    }

    /** The 128-char uppercase hex digest (Go's `%X`). Call once. */
    digest(): string {
        return this.#hash.digest("hex").toUpperCase()
    }
}

/** `time.Now().UTC().Format(time.RFC3339)`: whole seconds, `Z`. */
export function formatLastModified(date: Date): string {
    return date.toISOString().replace(/\.\d+Z$/, "Z")
}

/**
 * The AAD sops uses to open the MAC: `lastmodified` parsed as RFC 3339 and
 * formatted again, which drops fractional seconds and turns `+00:00` into `Z` but
 * keeps other offsets. Null when the text is not RFC 3339.
 */
export function macAad(lastModified: string): string | null {
    const t = parseRfc3339(lastModified)
    return t === null ? null : formatRfc3339(t, false)
}

/** Encrypt the MAC for the metadata block; `lastModified` must be the exact text written. */
export function sealMac(macHex: string, key: Uint8Array, lastModified: string, stash?: IvStash): string {
    return encryptValue({ kind: "str", value: macHex }, key, lastModified, undefined, stash)
}

/**
 * Decrypt the stored MAC. `""` (a file without a MAC) gives `""`, which then fails
 * verification as sops does. Any failure is "cannot decrypt MAC" (sops exit 51).
 */
export function openMac(enc: string, key: Uint8Array, lastModified: string): string {
    if (enc === "") return ""
    const aad = macAad(lastModified)
    if (aad === null) throw new IntegrityError("cannot decrypt MAC: lastmodified is not an RFC 3339 time")
    let value
    try {
        value = decryptValue(enc, key, aad)
    } catch {
        throw new IntegrityError("cannot decrypt MAC")
    }
    if (value.kind !== "str") throw new IntegrityError("cannot decrypt MAC")
    return value.value
}

/**
 * Compare the stored MAC with the computed one. Neither value is printed: both are
 * hashes of the secrets.
 */
export function verifyMac(stored: string, computed: string): void {
    const a = Buffer.from(stored)
    const b = Buffer.from(computed)
    if (a.length === 0) {
        throw new IntegrityError("MAC mismatch: the file has no MAC")
    }
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
        throw new IntegrityError("MAC mismatch", ["the file was changed by something that did not use its data key"])
    }
}
