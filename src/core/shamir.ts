/**
 * Shamir secret sharing of the data key across key groups (sops-format.md §3).
 *
 * sops forked HashiCorp Vault's implementation: GF(2^8) with the AES polynomial
 * x^8+x^4+x^3+x+1, one random polynomial per secret byte, and each share written as
 * `[y_0 … y_{n-1}, x]` with the x coordinate in the LAST byte. The x coordinates are
 * a random permutation of 1..255 (Vault issue #2608), so a share's x need not be its
 * group index + 1. `shamir-secret-sharing` implements the same field, layout and
 * interpolation (its tables are Vault's), which the tests check against a real
 * sops share.
 */
import { combine, split } from "shamir-secret-sharing"
import { FormatError } from "../errors.js"

/**
 * Split `secret` into `parts` shares of which `threshold` recover it. Bounds are
 * sops': 2 ≤ threshold ≤ parts ≤ 255.
 */
export async function splitSecret(secret: Uint8Array, parts: number, threshold: number): Promise<Uint8Array[]> {
    if (!Number.isInteger(parts) || !Number.isInteger(threshold)) {
        throw new FormatError("shamir parts and threshold must be integers")
    }
    if (parts < threshold) throw new FormatError("parts cannot be less than threshold")
    if (parts > 255) throw new FormatError("parts cannot exceed 255")
    if (threshold < 2) throw new FormatError("threshold must be at least 2")
    if (secret.length === 0) throw new FormatError("cannot split an empty secret")
    return split(secret, parts, threshold)
}

/**
 * Recombine shares. As in sops' `Combine`: at least two parts, all the same length
 * (at least two bytes), no two with the same x coordinate. Too few distinct shares
 * for the real threshold are not detectable here: they yield a wrong key, which the
 * first GCM tag check then rejects.
 */
export async function combineShares(parts: readonly Uint8Array[]): Promise<Uint8Array> {
    if (parts.length < 2) throw new FormatError("less than two parts cannot be used to reconstruct the secret")
    const first = parts[0]?.length ?? 0
    if (first < 2) throw new FormatError("parts must be at least two bytes")
    if (parts.some((p) => p.length !== first)) throw new FormatError("all parts must be the same length")
    const xs = new Set(parts.map((p) => p[first - 1]))
    if (xs.size !== parts.length) throw new FormatError("duplicate part detected")
    if (parts.length > 255) throw new FormatError("parts cannot exceed 255")
    // The library checks `constructor === Uint8Array`; Buffers from other modules would fail it.
    return combine(parts.map((p) => new Uint8Array(p)))
}
