/**
 * Wrapping the sops data key (or a Shamir share) for one age recipient, and
 * unwrapping it with whatever identities we hold.
 *
 * sops stores, per recipient, a complete ASCII-armored age file with a single
 * stanza whose payload is the raw key bytes (sops-format.md §3): `BEGIN AGE
 * ENCRYPTED FILE`, standard base64 in 64-character lines, `END AGE ENCRYPTED FILE`
 * and a final newline, which typage's armor.encode produces byte for byte.
 *
 * typage and recipient parsing (which pulls in SSH and post-quantum code) are
 * imported inside the functions: decrypting with a native X25519 key, the common
 * case, needs neither (age-x25519-native.ts; docs/benchmarks.md).
 */
import type { Identity } from "age-encryption"

import { FormatError, IntegrityError, SecretsError } from "../errors.js"
import type { ParsedRecipient } from "./recipient.js"
import { dearmorStrict, unwrapNativeX25519 } from "./age-x25519-native.js"

/** Anything typage's Decrypter.addIdentity accepts: an `AGE-SECRET-KEY-…` string or an Identity object. */
export type AgeIdentity = string | Identity

/** A fresh key pair: the secret identity line and its public recipient. */
export interface KeyPair {
    readonly identity: string
    readonly recipient: string
}

/**
 * Encrypt `payload` (the 32-byte data key or a 33-byte Shamir share) to one
 * recipient (a string as in `.sops.yaml`, or one already parsed) and return the
 * armored age file exactly as sops stores it in `enc`.
 */
export async function wrapDataKey(recipient: string | ParsedRecipient, payload: Uint8Array): Promise<string> {
    const { parseRecipient } = await import("./recipient.js")
    const { Encrypter, armor } = await import("age-encryption")
    const r = typeof recipient === "string" ? parseRecipient(recipient) : recipient
    const e = new Encrypter()
    e.addRecipient(r.recipient)
    return armor.encode(await e.encrypt(payload))
}

/**
 * Decrypt an armored age file with the first identity that matches one of its
 * stanzas. Returns null when none does. Throws FormatError when the armor or the
 * header is malformed, IntegrityError when a matching stanza, the header MAC or the
 * payload does not authenticate.
 *
 * `recipient` is the sops entry's `recipient:`. Identities bound to another
 * recipient (a locked SSH key's X25519 twin, ssh-lazy.ts) are not tried: X25519
 * stanzas do not say whom they are for, and trying would ask for a passphrase.
 */
export async function unwrapDataKey(enc: string, allIdentities: readonly AgeIdentity[], recipient?: string): Promise<Uint8Array | null> {
    const identities = allIdentities.filter((id) => typeof id === "string" || !isBoundToOther(id, recipient))
    const strict = dearmorStrict(enc)
    if (strict !== undefined) {
        const fast = unwrapNativeX25519(strict, identities)
        if (fast !== undefined) return fast
    }
    const { Decrypter, armor } = await import("age-encryption")
    let file: Uint8Array
    try {
        file = armor.decode(enc)
    } catch (e) {
        throw new FormatError(`malformed age armor: ${armorReason(e)}`)
    }
    const d = new Decrypter()
    for (const id of identities) {
        try {
            d.addIdentity(id)
        } catch {
            // Never echo the identity: it is secret.
            throw new FormatError("invalid age identity")
        }
    }
    try {
        // Given a Uint8Array, typage collects the plaintext with `new Response(stream)`,
        // which makes Node compile its whole fetch stack (undici): about a third of
        // `secrets decrypt`'s start-up (docs/benchmarks.md). Given a stream, it hands
        // back the plaintext stream, which we drain ourselves.
        return await readAll(await d.decrypt(streamOf(file)))
    } catch (e) {
        return translate(e)
    }
}

function isBoundToOther(id: object, recipient: string | undefined): boolean {
    return "onlyForRecipient" in id && id.onlyForRecipient !== recipient
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
        start(c) {
            c.enqueue(bytes)
            c.close()
        },
    })
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
    const chunks: Uint8Array[] = []
    let length = 0
    const reader = s.getReader()
    for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
        length += value.length
    }
    const out = new Uint8Array(length)
    let at = 0
    for (const c of chunks) {
        out.set(c, at)
        at += c.length
    }
    return out
}

function armorReason(e: unknown): string {
    const m = e instanceof Error ? e.message : ""
    // typage's armor messages are fixed strings without input; base64 errors come from @scure and may not be.
    return /^invalid (header|footer|line length|base64)$/.test(m) ? m : "invalid base64"
}

/**
 * typage throws plain Errors; map the ones we know to our classes. Its header
 * messages are fixed strings, except "invalid version <line>", which we do not
 * repeat. Unknown messages (e.g. from the base64 decoder) may quote input, so they
 * become a generic message.
 */
function translate(e: unknown): null {
    if (e instanceof SecretsError) throw e
    const m = e instanceof Error ? e.message : ""
    if (m === "no identity matched any of the file's recipients") return null
    if (m === "invalid header HMAC") throw new IntegrityError("age header MAC mismatch: the encrypted data key was altered")
    // noble's ChaCha20-Poly1305 on a STREAM chunk of the payload.
    if (m === "invalid tag") throw new IntegrityError("age payload does not authenticate: the encrypted data key was altered")
    if (m.startsWith("invalid version")) throw new FormatError("malformed age file: not an age-encryption.org/v1 header")
    if (m.startsWith("stream ended before reading")) throw new FormatError("malformed age file: truncated payload")
    if (/^invalid ([\w-]+ )?(stanza|header)$/.test(m) || m === "invalid non-ASCII byte in header" || m === "final chunk is empty") {
        throw new FormatError(`malformed age file: ${m}`)
    }
    if (m.startsWith("scrypt ")) throw new FormatError(`malformed age file: ${m}`)
    throw new FormatError("malformed age file")
}

/** A new native X25519 identity (`AGE-SECRET-KEY-1…`) and its `age1…` recipient. */
export async function generateX25519Identity(): Promise<KeyPair> {
    const { generateX25519Identity: typageX25519, identityToRecipient } = await import("age-encryption")
    const identity = await typageX25519()
    return { identity, recipient: await identityToRecipient(identity) }
}

/** A new hybrid post-quantum identity (`AGE-SECRET-KEY-PQ-1…`) and its `age1pq1…` recipient. */
export async function generatePqIdentity(): Promise<KeyPair> {
    const { generateHybridIdentity, identityToRecipient } = await import("age-encryption")
    const identity = await generateHybridIdentity()
    return { identity, recipient: await identityToRecipient(identity) }
}
