/**
 * Recognising a secret key by its text, so that one pasted where a public key
 * belongs (a recipient flag, a `.sops.yaml` rule) is refused without being echoed
 * (issue 10 §8): the errors for malformed recipients quote their input, and
 * that input is then a secret in a terminal's scroll-back or a CI log.
 *
 * The shapes: `AGE-SECRET-KEY-1…` and `AGE-SECRET-KEY-PQ-1…` (age-keygen's key
 * line), `AGE-PLUGIN-…` plugin identities, a whole key file (comments, then the
 * key), and PEM private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`, RSA, EC…).
 * Bech32 strings are valid in either case, so the age prefixes are matched
 * case-insensitively, and anywhere: no recipient contains a hyphen, and a key
 * may sit in a comma-separated list.
 */

const AGE_IDENTITY = /AGE-(SECRET-KEY|PLUGIN)-/i
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/

export function looksLikeIdentity(text: string): boolean {
    return AGE_IDENTITY.test(text) || PEM_PRIVATE_KEY.test(text)
}

/** The message for {@link looksLikeIdentity}, shared by every place that takes recipients. */
export const IDENTITY_NOT_RECIPIENT = "this is an identity (secret key), not a recipient"

export const IDENTITY_NOT_RECIPIENT_HINTS = [
    "give its public key: age-keygen -y KEYFILE for an age key, ssh-keygen -y -f KEYFILE for an SSH key",
    "a secret key that was pasted or committed somewhere should be treated as exposed",
] as const
