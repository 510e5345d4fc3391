/**
 * The age `ssh-ed25519` and `ssh-rsa` recipient types (C2SP age.md, "ssh-ed25519"
 * and "ssh-rsa" recipient stanzas), as typage Recipient/Identity objects: typage
 * ships no SSH support. Byte-for-byte what filippo.io/age/agessh writes and reads,
 * which is what sops ≥3.10 uses for `ssh-…` recipients.
 *
 * Stanza tag = the first 4 bytes of SHA-256 of the SSH wire-format public key,
 * base64 without padding; a tag that is not ours means "not mine" (null), a tag
 * that is ours on a stanza that does not decrypt is an error, as in agessh.
 *
 * Stanzas are plain `{ args, body }` objects (typage's Stanza is only a type here):
 * age-wrap-native.ts seals them into the file without loading typage.
 */
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, createPublicKey, randomBytes, type KeyObject } from "node:crypto"

import { x25519 } from "@noble/curves/ed25519.js"
import { hkdf } from "@noble/hashes/hkdf.js"
import { sha256 } from "@noble/hashes/sha2.js"
import type { Identity, Recipient, Stanza } from "age-encryption"

import { FormatError, IntegrityError } from "../errors.js"
import { formatSshPublicKey, sshTag, type SshPrivateKey, type SshPublicKey } from "./ssh-parse.js"
import { ed25519PublicToX25519, ed25519SeedToX25519 } from "./ssh-to-age.js"

const ED25519_LABEL = new TextEncoder().encode("age-encryption.org/v1/ssh-ed25519")
const RSA_LABEL = new TextEncoder().encode("age-encryption.org/v1/ssh-rsa")


/** age's base64: standard alphabet, no padding. */
export function encodeNoPad(b: Uint8Array): string {
    return Buffer.from(b).toString("base64").replace(/=+$/, "")
}

/** Strict decoding as Go's RawStdEncoding.Strict: no padding, canonical trailing bits. */
export function decodeNoPad(s: string): Uint8Array | null {
    if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return null
    const out = new Uint8Array(Buffer.from(s, "base64"))
    return encodeNoPad(out) === s ? out : null
}

function seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const c = createCipheriv("chacha20-poly1305", key, new Uint8Array(12), { authTagLength: 16 })
    return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]))
}

function open(key: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < 16) return null
    const d = createDecipheriv("chacha20-poly1305", key, new Uint8Array(12), { authTagLength: 16 })
    d.setAuthTag(sealed.subarray(sealed.length - 16))
    try {
        return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]))
    } catch {
        return null
    }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
    const out = new Uint8Array(a.length + b.length)
    out.set(a)
    out.set(b, a.length)
    return out
}

/** The tweak binds the shared secret to the whole SSH key, not just its X25519 image. */
function tweak(key: SshPublicKey): Uint8Array {
    return hkdf(sha256, new Uint8Array(0), key.wire, ED25519_LABEL, 32)
}

/** An identity object that also knows its recipient string, for listing and matching. */
export interface SshIdentity extends Identity {
    /** `ssh-ed25519 AAAA…` / `ssh-rsa AAAA…`, without comment. */
    readonly recipient: string
}

/** Encrypts to an ssh-ed25519 public key. */
export class SshEd25519Recipient implements Recipient {
    private readonly key: SshPublicKey
    private readonly theirs: Uint8Array

    constructor(key: SshPublicKey & { type: "ssh-ed25519" }) {
        this.key = key
        this.theirs = ed25519PublicToX25519(key.key)
    }

    wrapFileKey(fileKey: Uint8Array): Stanza[] {
        const ephemeral = randomBytes(32)
        const share = x25519.scalarMultBase(ephemeral)
        let secret: Uint8Array
        try {
            secret = x25519.scalarMult(tweak(this.key), x25519.scalarMult(ephemeral, this.theirs))
        } catch {
            throw new FormatError("invalid ssh-ed25519 recipient: low-order key")
        }
        const wrapKey = hkdf(sha256, secret, concat(share, this.theirs), ED25519_LABEL, 32)
        return [{ args: ["ssh-ed25519", sshTag(this.key), encodeNoPad(share)], body: seal(wrapKey, fileKey) }]
    }
}

/** Decrypts ssh-ed25519 stanzas addressed to one key. */
export class SshEd25519Identity implements SshIdentity {
    readonly recipient: string
    private readonly key: SshPublicKey
    private readonly secret: Uint8Array
    private readonly ours: Uint8Array
    private readonly tag: string

    constructor(priv: SshPrivateKey & { type: "ssh-ed25519" }) {
        this.key = priv.publicKey
        this.recipient = formatSshPublicKey(priv.publicKey)
        this.secret = ed25519SeedToX25519(priv.seed)
        this.ours = x25519.scalarMultBase(this.secret)
        this.tag = sshTag(priv.publicKey)
    }

    unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
        for (const s of stanzas) {
            if (s.args[0] !== "ssh-ed25519") continue
            if (s.args.length !== 3) throw new FormatError("invalid ssh-ed25519 stanza")
            const share = decodeNoPad(s.args[2] ?? "")
            if (share === null || share.length !== 32) throw new FormatError("invalid ssh-ed25519 stanza")
            if (s.args[1] !== this.tag) continue
            if (s.body.length !== 32) throw new FormatError("invalid ssh-ed25519 stanza")
            let secret: Uint8Array
            try {
                secret = x25519.scalarMult(tweak(this.key), x25519.scalarMult(this.secret, share))
            } catch {
                throw new FormatError("invalid ssh-ed25519 stanza: low-order ephemeral share")
            }
            const wrapKey = hkdf(sha256, secret, concat(share, this.ours), ED25519_LABEL, 32)
            const fileKey = open(wrapKey, s.body)
            if (fileKey === null) throw new IntegrityError("an ssh-ed25519 stanza for this key failed to decrypt")
            return fileKey
        }
        return null
    }
}

function rsaPublicKeyObject(key: SshPublicKey & { type: "ssh-rsa" }): KeyObject {
    const strip = (b: Uint8Array): string => Buffer.from(b[0] === 0 ? b.subarray(1) : b).toString("base64url")
    try {
        return createPublicKey({ format: "jwk", key: { kty: "RSA", n: strip(key.n), e: strip(key.e) } })
    } catch {
        throw new FormatError("invalid ssh-rsa key")
    }
}

/** Encrypts to an ssh-rsa public key with RSA-OAEP-SHA256 and age's label. */
export class SshRsaRecipient implements Recipient {
    private readonly key: SshPublicKey
    private readonly pub: KeyObject

    constructor(key: SshPublicKey & { type: "ssh-rsa" }) {
        this.key = key
        this.pub = rsaPublicKeyObject(key)
    }

    wrapFileKey(fileKey: Uint8Array): Stanza[] {
        const body = publicEncrypt(
            { key: this.pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: RSA_LABEL },
            fileKey,
        )
        return [{ args: ["ssh-rsa", sshTag(this.key)], body: new Uint8Array(body) }]
    }
}

/** Decrypts ssh-rsa stanzas addressed to one key. */
export class SshRsaIdentity implements SshIdentity {
    readonly recipient: string
    private readonly priv: KeyObject
    private readonly tag: string

    constructor(priv: SshPrivateKey & { type: "ssh-rsa" }) {
        this.priv = priv.key
        this.recipient = formatSshPublicKey(priv.publicKey)
        this.tag = sshTag(priv.publicKey)
    }

    unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
        for (const s of stanzas) {
            if (s.args[0] !== "ssh-rsa") continue
            if (s.args.length !== 2) throw new FormatError("invalid ssh-rsa stanza")
            if (s.args[1] !== this.tag) continue
            try {
                return new Uint8Array(privateDecrypt(
                    { key: this.priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: RSA_LABEL },
                    s.body,
                ))
            } catch {
                throw new IntegrityError("an ssh-rsa stanza for this key failed to decrypt")
            }
        }
        return null
    }
}

/** The identity object for a parsed SSH private key. */
export function sshIdentity(priv: SshPrivateKey): SshIdentity {
    return priv.type === "ssh-ed25519" ? new SshEd25519Identity(priv) : new SshRsaIdentity(priv)
}

/** The recipient object for a parsed SSH public key. */
export function sshRecipient(key: SshPublicKey): Recipient {
    return key.type === "ssh-ed25519" ? new SshEd25519Recipient(key) : new SshRsaRecipient(key)
}
