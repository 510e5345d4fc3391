/**
 * Recipient strings as sops accepts them (sops-format.md §3, age/keysource.go
 * parseRecipient), dispatched by prefix, plus the Bech32 codec age keys use.
 *
 * sops' order matters: `age1…` with more than one `1` is an age plugin (except
 * `age1pq1…`, the native hybrid post-quantum type of age ≥1.3 / sops ≥3.12), then
 * plain `age1…` is X25519, then `ssh-…` is an SSH key. Recipients are public, so
 * messages may quote them.
 */
import type { Recipient } from "age-encryption"

import { IDENTITY_NOT_RECIPIENT, IDENTITY_NOT_RECIPIENT_HINTS, looksLikeIdentity } from "../core/identity-text.js"
import { FormatError } from "../errors.js"
import { bech32Decode } from "./bech32.js"
import { parseSshPublicKey } from "./ssh-parse.js"
import { sshRecipient } from "./ssh.js"

/** The kinds of recipient we can encrypt to. */
export const RECIPIENT_KINDS = ["x25519", "pq", "ssh-ed25519", "ssh-rsa"] as const
export type RecipientKind = (typeof RECIPIENT_KINDS)[number]

/** A validated recipient. */
export interface ParsedRecipient {
    readonly kind: RecipientKind
    /** The trimmed string, exactly as sops stores it in `recipient:`. */
    readonly text: string
    /** What typage's Encrypter.addRecipient takes: the string for native types, an object for SSH. */
    readonly recipient: string | Recipient
}

/** X25519 public keys: 32 bytes. Hybrid ML-KEM-768 + X25519 public keys: 1184 + 32 bytes. */
const X25519_LENGTH = 32
const PQ_LENGTH = 1216

/**
 * Parse and validate one recipient. Throws FormatError for anything we cannot
 * encrypt to, including age plugin recipients (not supported yet).
 */
export function parseRecipient(s: string): ParsedRecipient {
    const text = s.trim()
    if (looksLikeIdentity(text)) throw identityGivenAsRecipient()
    if (text.startsWith("age1pq1")) {
        const d = bech32Decode(text)
        if (d === null || d.hrp !== "age1pq" || d.bytes.length !== PQ_LENGTH) {
            throw new FormatError(`malformed post-quantum age recipient ${quoteShort(text)}`)
        }
        return { kind: "pq", text, recipient: text }
    }
    if (text.startsWith("age1") && text.split("1").length > 2) {
        const name = text.slice(4, text.indexOf("1", 4))
        throw new FormatError(`age plugin recipients are not supported yet (age-plugin-${name}): ${quoteShort(text)}`)
    }
    if (text.startsWith("age1")) {
        const d = bech32Decode(text)
        if (d === null || d.hrp !== "age" || d.bytes.length !== X25519_LENGTH) {
            throw new FormatError(`malformed age recipient ${quoteShort(text)}: bad length or checksum`)
        }
        return { kind: "x25519", text, recipient: text }
    }
    if (text.startsWith("ssh-")) {
        let key
        try {
            key = parseSshPublicKey(text)
        } catch (e) {
            const why = e instanceof FormatError ? e.message : "unreadable key"
            throw new FormatError(`malformed ssh recipient ${quoteShort(text)}: ${why}`)
        }
        return { kind: key.type, text, recipient: sshRecipient(key) }
    }
    throw new FormatError(`unrecognized recipient ${quoteShort(text)}`, [
        "recipients are age1… (age-keygen), age1pq1… (age-keygen -pq), ssh-ed25519 … or ssh-rsa …",
    ])
}

/** The error for a secret key given as a recipient: names the mistake, never the text. */
export function identityGivenAsRecipient(): FormatError {
    return new FormatError(IDENTITY_NOT_RECIPIENT, IDENTITY_NOT_RECIPIENT_HINTS)
}

/** Recipients are public, but a pasted blob can be huge: quote at most 80 characters. */
function quoteShort(s: string): string {
    return JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s)
}

// Kept here for the modules that imported the codec from this file.
export { bech32Decode, bech32Encode } from "./bech32.js"
