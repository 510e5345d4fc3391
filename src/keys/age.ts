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
 * imported inside the functions: decrypting with a native X25519 key, and
 * wrapping for X25519 and SSH recipients, the common cases, need neither
 * (age-x25519-native.ts, age-wrap-native.ts; docs/benchmarks.md).
 */
import type { Identity } from "age-encryption"

import { looksLikeIdentity } from "../core/identity-text.js"
import { FormatError, IntegrityError, SecretsError } from "../errors.js"
import { bech32Decode } from "./bech32.js"
import type { ParsedRecipient } from "./recipient.js"
import { armorAgeFile, newFileKey, sealAgeFile, x25519Stanza } from "./age-wrap-native.js"
import { dearmorStrict, unwrapNativeX25519 } from "./age-x25519-native.js"

/** Anything typage's Decrypter.addIdentity accepts: an `AGE-SECRET-KEY-…` string or an Identity object. */
export type AgeIdentity = string | Identity

/**
 * An identity held by another process (the agent, docs/agent.md): it is handed
 * a whole sops entry (the armored age file of `enc`: ciphertext only, and the
 * entry's recipient) and answers its payload, or null. Its unwrapFileKey opens
 * nothing, so typage skips it; only {@link unwrapDataKey} asks it.
 */
export interface EntryUnwrapper extends Identity {
    unwrapEntry(enc: string, recipient?: string): Promise<Uint8Array | null>
}

function isEntryUnwrapper(id: AgeIdentity): id is EntryUnwrapper {
    return typeof id === "object" && "unwrapEntry" in id
}

/** A fresh key pair: the secret identity line and its public recipient. */
export interface KeyPair {
    readonly identity: string
    readonly recipient: string
}

/**
 * Encrypt `payload` (the 32-byte data key or a 33-byte Shamir share) to one
 * recipient (a string as in `.sops.yaml`, or one already parsed) and return the
 * armored age file exactly as sops stores it in `enc`.
 *
 * X25519 and SSH recipients are wrapped natively (age-wrap-native.ts); only the
 * post-quantum type goes through typage, which alone implements ML-KEM.
 */
export async function wrapDataKey(recipient: string | ParsedRecipient, payload: Uint8Array): Promise<string> {
    const text = typeof recipient === "string" ? recipient.trim() : recipient.text
    const x25519 = plainX25519Key(text)
    if (x25519 !== undefined) {
        const fileKey = newFileKey()
        return armorAgeFile(sealAgeFile([x25519Stanza(x25519, fileKey, text)], fileKey, payload))
    }
    // Anything else, malformed input included (parseRecipient words the error).
    const { parseRecipient } = await import("./recipient.js")
    const r = typeof recipient === "string" ? parseRecipient(recipient) : recipient
    if (typeof r.recipient !== "string") {
        // Our own ssh-ed25519 / ssh-rsa Recipient objects (ssh.ts): stanzas only.
        const fileKey = newFileKey()
        return armorAgeFile(sealAgeFile(await r.recipient.wrapFileKey(fileKey), fileKey, payload))
    }
    const { Encrypter, armor } = await import("age-encryption")
    const e = new Encrypter()
    e.addRecipient(r.recipient)
    // A stream in, a stream out: given bytes, typage would collect them with
    // `new Response`, and Node would load its fetch stack for it (see unwrapDataKey).
    return armor.encode(await readAll(await e.encrypt(streamOf(payload))))
}

/**
 * The 32-byte key of a plain `age1…` X25519 recipient, exactly when parseRecipient
 * would call it kind "x25519"; undefined for every other string, which then goes
 * through parseRecipient (and its errors).
 */
function plainX25519Key(text: string): Uint8Array | undefined {
    // bech32's alphabet has no "1": a second one makes it a plugin (or pq) recipient.
    if (!text.startsWith("age1") || text.startsWith("age1pq1") || text.indexOf("1", 4) >= 0 || looksLikeIdentity(text)) return undefined
    const d = bech32Decode(text)
    return d !== null && d.hrp === "age" && d.bytes.length === 32 ? d.bytes : undefined
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
    for (const id of allIdentities) {
        if (!isEntryUnwrapper(id)) continue
        const payload = await id.unwrapEntry(enc, recipient)
        if (payload !== null) return payload
    }
    const identities = allIdentities.filter((id) => typeof id === "string" || (!isBoundToOther(id, recipient) && !isEntryUnwrapper(id)))
    // Only the agent was asked, and it missed: nothing else to try (the caller then collects identities).
    if (identities.length === 0 && allIdentities.some(isEntryUnwrapper)) return null
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
