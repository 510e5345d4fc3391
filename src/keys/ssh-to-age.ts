/**
 * Convert an ssh-ed25519 key to a native age X25519 key pair, as Mic92/ssh-to-age
 * does (and sops-nix relies on): the recipient is the Montgomery image of the
 * Ed25519 point, the identity is SHA-512(seed)[:32] written unclamped.
 *
 * The result is an ordinary `age1…` recipient, so files encrypted to it carry an
 * X25519 stanza, not an ssh-ed25519 one: the two are not interchangeable (the
 * ssh-ed25519 type mixes in a tweak derived from the SSH key). sops ≥3.11 tries
 * both for every ed25519 key it reads (age/ssh_parse.go), and so do we
 * (ssh-lazy.ts).
 *
 * node:crypto and BigInt only: this runs while identities are collected, on every
 * decrypt that finds an ed25519 key, so it must not load @noble (ssh.ts).
 */
import { createHash } from "node:crypto"

import { FormatError } from "../errors.js"
import { bech32Encode } from "./bech32.js"
import { parseSshPrivateKey, parseSshPublicKey, type SshPrivateKey, type SshPublicKey } from "./ssh-parse.js"

/** `ssh-ed25519 AAAA… [comment]` -> `age1…`. */
export function sshEd25519ToAgeRecipient(pubLine: string): string {
    const key = parseSshPublicKey(pubLine)
    if (key.type !== "ssh-ed25519") throw new FormatError("only ssh-ed25519 keys can be converted to age keys")
    return x25519RecipientOf(key)
}

/**
 * An unencrypted OpenSSH ed25519 private key file -> `AGE-SECRET-KEY-1…`. The
 * scalar is not clamped, byte-identical to ssh-to-age's output; X25519 clamps it
 * on use, so either spelling opens the same files.
 */
export function sshEd25519PrivateToAgeIdentity(privateKeyText: string, source = "ssh private key"): string {
    const key = parseSshPrivateKey(privateKeyText, source)
    if (key.type !== "ssh-ed25519") throw new FormatError("only ssh-ed25519 keys can be converted to age keys")
    return x25519IdentityOf(key)
}

/** The `age1…` recipient of a parsed ssh-ed25519 public key. */
export function x25519RecipientOf(key: SshPublicKey & { type: "ssh-ed25519" }): string {
    return bech32Encode("age", ed25519PublicToX25519(key.key))
}

/** The `AGE-SECRET-KEY-1…` identity of a parsed ssh-ed25519 private key. */
export function x25519IdentityOf(key: SshPrivateKey & { type: "ssh-ed25519" }): string {
    return bech32Encode("AGE-SECRET-KEY-", ed25519SeedToX25519(key.seed), true)
}

// p = 2^255 - 19, the field of both Curve25519 forms.
const P = (1n << 255n) - 19n

/**
 * Ed25519 public key -> X25519 u-coordinate, u = (1 + y) / (1 - y) mod p, computed
 * as agessh does: the sign bit is dropped and y is used without checking that the
 * point is on the curve (so every key Go accepts, we accept).
 */
export function ed25519PublicToX25519(pk: Uint8Array): Uint8Array {
    if (pk.length !== 32) throw new FormatError("invalid ssh-ed25519 key: wrong key length")
    const be = Uint8Array.from(pk).reverse()
    be[0] = (be[0] ?? 0) & 0x7f
    const y = BigInt("0x" + Buffer.from(be).toString("hex"))
    const denom = mod(1n - y)
    if (denom === 0n) throw new FormatError("invalid ssh-ed25519 key: not convertible to X25519")
    const u = mod((1n + y) * modPow(denom, P - 2n))
    const hex = u.toString(16).padStart(64, "0")
    return Uint8Array.from(Buffer.from(hex, "hex")).reverse()
}

/** Ed25519 seed -> X25519 scalar: the first half of SHA-512(seed), unclamped (X25519 clamps). */
export function ed25519SeedToX25519(seed: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha512").update(seed).digest().subarray(0, 32))
}

function mod(a: bigint): bigint {
    const r = a % P
    return r < 0n ? r + P : r
}

function modPow(b: bigint, e: bigint): bigint {
    let r = 1n
    let x = mod(b)
    while (e > 0n) {
        if (e & 1n) r = (r * x) % P
        x = (x * x) % P
        e >>= 1n
    }
    return r
}
