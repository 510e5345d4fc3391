/**
 * The data key and its distribution over key groups (sops-format.md §3).
 *
 * One 32-byte random key encrypts every value. With one key group, every master
 * key wraps the whole key; with N > 1 groups, the key is Shamir-split and group i's
 * keys each wrap share i, so any `threshold` groups recover it. Wrapping and
 * unwrapping with a concrete key type is the caller's (keys/); this module only
 * decides what each group gets and in which order keys are tried.
 */
import { randomBytes } from "node:crypto"
import { ExitCode, FormatError, NoIdentityError, SecretsError } from "../errors.js"
import type { KeyGroup, MasterKey } from "./metadata.js"

/** The size of a data key sops generates. */
export const DATA_KEY_SIZE = 32

/** sops' DefaultDecryptionOrder: age first, then pgp, then the rest in file order. */
export const DEFAULT_DECRYPTION_ORDER: readonly string[] = ["age", "pgp"]

/** A fresh random data key (on encrypt, rotate, and edit of a new file). */
export function newDataKey(): Uint8Array {
    return new Uint8Array(randomBytes(DATA_KEY_SIZE))
}

/** The threshold sops uses and writes: 0 means "all groups". */
export function effectiveThreshold(threshold: number, groupCount: number): number {
    return threshold === 0 ? groupCount : threshold
}

/**
 * What each group's keys must wrap: the key itself for one group, otherwise one
 * Shamir share per group (2 ≤ threshold ≤ groups ≤ 255).
 */
export async function splitForGroups(key: Uint8Array, groupCount: number, threshold: number): Promise<Uint8Array[]> {
    if (groupCount < 1) throw new FormatError("there must be at least one key group")
    if (groupCount === 1) return [key]
    // Shamir is loaded only for files with several key groups, off the common path.
    const { splitSecret } = await import("./shamir.js")
    return splitSecret(key, groupCount, effectiveThreshold(threshold, groupCount))
}

/**
 * The data key from the parts recovered from `groupCount` groups: the single part
 * for one group, otherwise a Shamir combination of at least `threshold` parts.
 */
export async function combineParts(
    parts: readonly Uint8Array[],
    threshold: number,
    groupCount: number,
): Promise<Uint8Array> {
    const need = groupCount === 1 ? 1 : effectiveThreshold(threshold, groupCount)
    if (parts.length < need) {
        throw new NoIdentityError(
            `could not recover the data key: ${parts.length} of ${groupCount} key groups opened, ${need} needed`,
        )
    }
    if (groupCount === 1) {
        const only = parts[0]
        if (only === undefined) throw new NoIdentityError("could not recover the data key")
        return only
    }
    const { combineShares } = await import("./shamir.js")
    return combineShares(parts)
}

/**
 * The keys of a group in the order to try them: a stable sort by position in
 * `order` (`--decryption-order`), unlisted types after, in file order. A type
 * listed twice is sops' exit 112.
 */
export function sortByDecryptionOrder(group: KeyGroup, order: readonly string[] = DEFAULT_DECRYPTION_ORDER): MasterKey[] {
    const rank = new Map<string, number>()
    for (const [i, t] of order.entries()) {
        if (rank.has(t)) {
            throw new SecretsError(ExitCode.DuplicateDecryptionKeyType, `decryption order lists ${JSON.stringify(t)} twice`)
        }
        rank.set(t, i)
    }
    const r = (k: MasterKey): number => rank.get(k.type) ?? order.length
    // Array.prototype.sort is stable (ES2019), like Go's sort.SliceStable.
    return [...group].sort((a, b) => r(a) - r(b))
}

/**
 * Unwrap one master key: the data key or share, `null` when this key is not ours
 * (no matching identity, unsupported type), a thrown error when it is ours but
 * broken.
 */
export type TryUnwrap = (key: MasterKey, groupIndex: number) => Promise<Uint8Array | null>

/**
 * Recover the data key: per group, try its keys in decryption order until one
 * opens; stop once enough groups opened; combine. Fails with NoIdentityError
 * saying how many groups opened against how many are needed; errors thrown by
 * `tryUnwrap` are kept as hints (they name keys, never key material). The caller
 * adds the recipients and identity sources it tried.
 */
export async function recoverDataKey(
    groups: readonly KeyGroup[],
    threshold: number,
    tryUnwrap: TryUnwrap,
    order: readonly string[] = DEFAULT_DECRYPTION_ORDER,
): Promise<Uint8Array> {
    if (groups.length === 0) throw new NoIdentityError("the file has no key groups")
    const need = groups.length === 1 ? 1 : effectiveThreshold(threshold, groups.length)
    const parts: Uint8Array[] = []
    const hints: string[] = []
    for (const [index, group] of groups.entries()) {
        if (parts.length >= need) break
        for (const key of sortByDecryptionOrder(group, order)) {
            let part: Uint8Array | null
            try {
                part = await tryUnwrap(key, index)
            } catch (e) {
                if (!(e instanceof SecretsError)) throw e
                hints.push(e.message)
                continue
            }
            if (part !== null) {
                parts.push(part)
                break
            }
        }
    }
    if (parts.length < need) {
        const of = groups.length === 1 ? "the key group could not be opened" : `${parts.length} of ${groups.length} key groups opened, ${need} needed`
        throw new NoIdentityError(`could not recover the data key: ${of}`, hints)
    }
    return combineParts(parts, need, groups.length)
}
