/**
 * Convert an ssh-ed25519 key to a native age X25519 key pair, as Mic92/ssh-to-age
 * does (and sops-nix relies on): the recipient is the Montgomery image of the
 * Ed25519 point, the identity is SHA-512(seed)[:32] written unclamped.
 *
 * The result is an ordinary `age1…` recipient, so files encrypted to it carry an
 * X25519 stanza, not an ssh-ed25519 one: the two are not interchangeable (the
 * ssh-ed25519 type mixes in a tweak derived from the SSH key).
 */
import { FormatError } from "../errors.js"
import { bech32Encode } from "./recipient.js"
import { parseSshPrivateKey, parseSshPublicKey } from "./ssh-parse.js"
import { ed25519PublicToX25519, ed25519SeedToX25519 } from "./ssh.js"

/** `ssh-ed25519 AAAA… [comment]` -> `age1…`. */
export function sshEd25519ToAgeRecipient(pubLine: string): string {
    const key = parseSshPublicKey(pubLine)
    if (key.type !== "ssh-ed25519") throw new FormatError("only ssh-ed25519 keys can be converted to age keys")
    return bech32Encode("age", ed25519PublicToX25519(key.key))
}

/**
 * An unencrypted OpenSSH ed25519 private key file -> `AGE-SECRET-KEY-1…`. The
 * scalar is not clamped, byte-identical to ssh-to-age's output; X25519 clamps it
 * on use, so either spelling opens the same files.
 */
export function sshEd25519PrivateToAgeIdentity(privateKeyText: string, source = "ssh private key"): string {
    const key = parseSshPrivateKey(privateKeyText, source)
    if (key.type !== "ssh-ed25519") throw new FormatError("only ssh-ed25519 keys can be converted to age keys")
    return bech32Encode("AGE-SECRET-KEY-", ed25519SeedToX25519(key.seed), true)
}
