/**
 * OpenSSH key parsing: `authorized_keys` public key lines and private key files
 * (passphrase-protected ones through ssh-encrypted.ts), for the two key types age
 * can encrypt to (ssh-ed25519, ssh-rsa).
 *
 * Wire formats are RFC 4253 §6.6 (public keys) and OpenSSH's PROTOCOL.key (the
 * `openssh-key-v1` private key container). Legacy PEM RSA keys (`BEGIN RSA PRIVATE
 * KEY`, PKCS#1) are also read because age's `ssh.ParseRawPrivateKey` accepts them
 * and older `ssh-keygen` wrote them by default.
 *
 * Messages never quote key material: at most the key type and a file name.
 */
import { createHash, createPrivateKey, type KeyObject } from "node:crypto"

import { FormatError } from "../errors.js"
import { checkOpenSshEncryption, decryptOpenSshSection, decryptPemRsa } from "./ssh-encrypted.js"

/** An SSH public key of a type age supports. `wire` is the RFC 4253 blob the age tag hashes. */
export type SshPublicKey =
    | { readonly type: "ssh-ed25519"; readonly wire: Uint8Array; readonly key: Uint8Array; readonly comment: string }
    | { readonly type: "ssh-rsa"; readonly wire: Uint8Array; readonly n: Uint8Array; readonly e: Uint8Array; readonly comment: string }

/** An SSH private key of a type age supports, with its public half. */
export type SshPrivateKey =
    | { readonly type: "ssh-ed25519"; readonly publicKey: SshPublicKey & { type: "ssh-ed25519" }; readonly seed: Uint8Array }
    | { readonly type: "ssh-rsa"; readonly publicKey: SshPublicKey & { type: "ssh-rsa" }; readonly key: KeyObject }

const OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
const OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----"
const PEM_RSA_BEGIN = "-----BEGIN RSA PRIVATE KEY-----"
const AUTH_MAGIC = "openssh-key-v1\0"
const PEM_ENCRYPTED = /^Proc-Type:\s*4,ENCRYPTED/m

/** Reads RFC 4251 §5 values (uint32, length-prefixed string, mpint) from a buffer. */
class WireReader {
    private offset = 0
    private readonly bytes: Uint8Array
    private readonly what: string

    constructor(bytes: Uint8Array, what: string) {
        this.bytes = bytes
        this.what = what
    }

    get done(): boolean {
        return this.offset === this.bytes.length
    }

    uint32(): number {
        if (this.offset + 4 > this.bytes.length) throw new FormatError(`truncated ${this.what}`)
        const b = this.bytes
        const o = this.offset
        this.offset += 4
        return ((b[o] ?? 0) * 0x1000000) + (((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0))
    }

    string(): Uint8Array {
        const n = this.uint32()
        if (this.offset + n > this.bytes.length) throw new FormatError(`truncated ${this.what}`)
        const out = this.bytes.subarray(this.offset, this.offset + n)
        this.offset += n
        return out
    }

    text(): string {
        return new TextDecoder().decode(this.string())
    }
}

/** Concatenate RFC 4251 strings (each prefixed by its uint32 length). */
export function wireStrings(...parts: readonly Uint8Array[]): Uint8Array {
    const total = parts.reduce((n, p) => n + 4 + p.length, 0)
    const out = new Uint8Array(total)
    const view = new DataView(out.buffer)
    let o = 0
    for (const p of parts) {
        view.setUint32(o, p.length)
        out.set(p, o + 4)
        o += 4 + p.length
    }
    return out
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/**
 * An mpint from big-endian magnitude bytes: leading zeros dropped, one 0x00 added
 * when the top bit is set (RFC 4251 §5), as Go's ssh.Marshal writes it. The tag of
 * an ssh-rsa recipient hashes this exact encoding.
 */
function mpint(magnitude: Uint8Array): Uint8Array {
    let i = 0
    while (i < magnitude.length && magnitude[i] === 0) i++
    const m = magnitude.subarray(i)
    if (m.length > 0 && ((m[0] ?? 0) & 0x80) !== 0) {
        const out = new Uint8Array(m.length + 1)
        out.set(m, 1)
        return out
    }
    return m
}

function ed25519Public(key: Uint8Array, comment: string): SshPublicKey & { type: "ssh-ed25519" } {
    if (key.length !== 32) throw new FormatError("invalid ssh-ed25519 key: wrong key length")
    return { type: "ssh-ed25519", wire: wireStrings(utf8("ssh-ed25519"), key), key, comment }
}

function rsaPublic(e: Uint8Array, n: Uint8Array, comment: string): SshPublicKey & { type: "ssh-rsa" } {
    const en = mpint(e)
    const nn = mpint(n)
    if (nn.length < 128) throw new FormatError("invalid ssh-rsa key: modulus shorter than 1024 bits")
    return { type: "ssh-rsa", wire: wireStrings(utf8("ssh-rsa"), en, nn), n: nn, e: en, comment }
}

/** Parse an RFC 4253 public key blob. */
export function parseSshPublicKeyWire(wire: Uint8Array, comment = ""): SshPublicKey {
    const r = new WireReader(wire, "ssh public key")
    const type = r.text()
    let key: SshPublicKey
    if (type === "ssh-ed25519") {
        key = ed25519Public(r.string(), comment)
    } else if (type === "ssh-rsa") {
        const e = r.string()
        const n = r.string()
        key = rsaPublic(e, n, comment)
    } else {
        throw new FormatError(`unsupported ssh key type ${JSON.stringify(type.slice(0, 40))}: only ssh-ed25519 and ssh-rsa`)
    }
    if (!r.done) throw new FormatError(`invalid ${type} key: trailing data`)
    return key
}

/**
 * Parse one `authorized_keys`-style line, `ssh-ed25519 AAAA… [comment]`. Options
 * before the type (as authorized_keys allows) are not accepted: sops recipients
 * start with `ssh-`.
 */
export function parseSshPublicKey(line: string): SshPublicKey {
    const fields = line.trim().split(/\s+/)
    const [type, b64] = fields
    if (type === undefined || b64 === undefined) throw new FormatError("malformed ssh public key: expected \"<type> <base64> [comment]\"")
    const wire = decodeBase64Strict(b64, "ssh public key")
    const key = parseSshPublicKeyWire(wire, fields.slice(2).join(" "))
    if (key.type !== type) throw new FormatError(`malformed ssh public key: type ${JSON.stringify(type)} does not match the encoded key`)
    return key
}

/**
 * The stanza tag of an SSH public key (C2SP age.md, ssh-ed25519 and ssh-rsa): the
 * first 4 bytes of SHA-256 of the wire-format key, base64 without padding. Here,
 * with node:crypto, because locked keys compare tags on every decrypt (ssh-lazy.ts).
 */
export function sshTag(key: SshPublicKey): string {
    return createHash("sha256").update(key.wire).digest().subarray(0, 4).toString("base64").replace(/=+$/, "")
}

/** The public key as an authorized_keys line without comment: what a recipient looks like. */
export function formatSshPublicKey(key: SshPublicKey): string {
    return `${key.type} ${Buffer.from(key.wire).toString("base64")}`
}

function decodeBase64Strict(s: string, what: string): Uint8Array {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new FormatError(`malformed ${what}: invalid base64`)
    return new Uint8Array(Buffer.from(s, "base64"))
}

/** True if the text looks like an SSH private key file (OpenSSH or PEM RSA). */
export function isSshPrivateKey(text: string): boolean {
    const t = text.trimStart()
    return t.startsWith(OPENSSH_BEGIN) || t.startsWith(PEM_RSA_BEGIN)
}

/** True for an old PEM key protected by a passphrase: only its `.pub` file tells its public half. */
export function isLockedPemKey(text: string): boolean {
    return text.trimStart().startsWith(PEM_RSA_BEGIN) && PEM_ENCRYPTED.test(text)
}

/**
 * An SSH private key file as read from disk: either open, or protected by a
 * passphrase. A protected key still tells its public half (OpenSSH keeps it in
 * clear; for an old PEM key it comes from the `.pub` file beside it), so that a
 * passphrase is asked for only when a file is really encrypted to that key.
 */
export type SshKeyFile =
    | { readonly encrypted: false; readonly key: SshPrivateKey; readonly publicKey: SshPublicKey }
    | {
          readonly encrypted: true
          /** Undefined for a PEM key without its `.pub` line. */
          readonly publicKey: SshPublicKey | undefined
          /** Rejects with WrongPassphraseError (ssh-encrypted.ts) for a wrong passphrase. */
          unlock(passphrase: string): Promise<SshPrivateKey>
      }

/**
 * Read an OpenSSH (or PEM PKCS#1 RSA) private key file. `publicKeyLine` is the
 * `.pub` file's text, which only an encrypted PEM key needs (sops
 * age/ssh_parse.go readPublicKeyFile).
 */
export function readSshKeyFile(text: string, source: string, publicKeyLine?: string): SshKeyFile {
    const t = text.trim()
    if (t.startsWith(PEM_RSA_BEGIN)) return readPemRsa(t, source, publicKeyLine)
    if (!t.startsWith(OPENSSH_BEGIN) || !t.endsWith(OPENSSH_END)) {
        throw new FormatError(`${source}: not an OpenSSH private key`)
    }
    const body = t.slice(OPENSSH_BEGIN.length, t.length - OPENSSH_END.length).replace(/\s+/g, "")
    const blob = decodeBase64Strict(body, `ssh private key ${source}`)
    const what = `ssh private key ${source}`
    if (new TextDecoder().decode(blob.subarray(0, AUTH_MAGIC.length)) !== AUTH_MAGIC) {
        throw new FormatError(`${source}: not an openssh-key-v1 private key`)
    }
    const r = new WireReader(blob.subarray(AUTH_MAGIC.length), what)
    const cipher = r.text()
    const kdf = r.text()
    const kdfOptions = r.string()
    const count = r.uint32()
    if (count !== 1) throw new FormatError(`${source}: expected exactly one key in the file, found ${count}`)
    const publicKey = parseSshPublicKeyWire(r.string())
    const section = r.string()
    if (cipher === "none" && kdf === "none") return { encrypted: false, key: parsePrivateSection(section, publicKey, source), publicKey }
    checkOpenSshEncryption(cipher, kdf, source)
    return {
        encrypted: true,
        publicKey,
        async unlock(passphrase: string): Promise<SshPrivateKey> {
            const plain = await decryptOpenSshSection(cipher, kdf, kdfOptions, section, passphrase, source)
            try {
                return parsePrivateSection(plain, publicKey, source)
            } finally {
                plain.fill(0)
            }
        },
    }
}

/**
 * Parse an unencrypted SSH private key file. A key protected by a passphrase is a
 * FormatError naming `source`: the callers of this (key conversion) have no
 * terminal to ask; decryption goes through {@link readSshKeyFile}.
 */
export function parseSshPrivateKey(text: string, source: string): SshPrivateKey {
    const file = readSshKeyFile(text, source)
    if (file.encrypted) {
        throw new FormatError(`${source}: the key is protected by a passphrase`, [
            `use a copy without the passphrase: cp ${source} <copy> && ssh-keygen -p -N "" -f <copy>`,
        ])
    }
    return file.key
}

/** The private section (PROTOCOL.key), decrypted: check words, then the key matching `publicKey`. */
function parsePrivateSection(section: Uint8Array, publicKey: SshPublicKey, source: string): SshPrivateKey {
    const priv = new WireReader(section, `ssh private key ${source}`)
    const check1 = priv.uint32()
    const check2 = priv.uint32()
    if (check1 !== check2) throw new FormatError(`${source}: corrupt private key (check bytes differ)`)
    const type = priv.text()
    if (type !== publicKey.type) throw new FormatError(`${source}: private key type does not match its public key`)
    if (publicKey.type === "ssh-ed25519") {
        const pub = priv.string()
        const secret = priv.string()
        // OpenSSH stores the 64-byte "expanded" form seed || public key.
        if (secret.length !== 64 || pub.length !== 32 || !equal(pub, publicKey.key) || !equal(secret.subarray(32), pub)) {
            throw new FormatError(`${source}: corrupt ssh-ed25519 private key`)
        }
        return { type: "ssh-ed25519", publicKey, seed: secret.slice(0, 32) }
    }
    const n = priv.string()
    const e = priv.string()
    const d = priv.string()
    const iqmp = priv.string()
    const p = priv.string()
    const q = priv.string()
    if (!equal(mpint(n), publicKey.n) || !equal(mpint(e), publicKey.e)) {
        throw new FormatError(`${source}: corrupt ssh-rsa private key`)
    }
    const key = rsaKeyObject({ n, e, d, p, q, iqmp }, source)
    return { type: "ssh-rsa", publicKey, key }
}

function readPemRsa(pem: string, source: string, publicKeyLine: string | undefined): SshKeyFile {
    if (!PEM_ENCRYPTED.test(pem)) {
        const key = pemRsaKey(pemKeyObject(pem, source), source)
        return { encrypted: false, key, publicKey: key.publicKey }
    }
    let publicKey: SshPublicKey | undefined
    if (publicKeyLine !== undefined) {
        try {
            publicKey = parseSshPublicKey(publicKeyLine)
        } catch (e) {
            throw e instanceof FormatError ? new FormatError(`${source}.pub: ${e.detail}`) : e
        }
        if (publicKey.type !== "ssh-rsa") throw new FormatError(`${source}.pub is not the ssh-rsa public key of ${source}`)
    }
    return {
        encrypted: true,
        publicKey,
        async unlock(passphrase: string): Promise<SshPrivateKey> {
            const key = pemRsaKey(decryptPemRsa(pem, passphrase, source), source)
            if (publicKey !== undefined && !equal(key.publicKey.wire, publicKey.wire)) {
                throw new FormatError(`${source}.pub is not the public key of ${source}`)
            }
            return key
        },
    }
}

function pemKeyObject(pem: string, source: string): KeyObject {
    try {
        return createPrivateKey({ key: pem, format: "pem" })
    } catch {
        throw new FormatError(`${source}: malformed PEM RSA private key`)
    }
}

function pemRsaKey(key: KeyObject, source: string): SshPrivateKey {
    const jwk = key.export({ format: "jwk" })
    if (jwk.kty !== "RSA" || jwk.n === undefined || jwk.e === undefined) {
        throw new FormatError(`${source}: not an RSA private key`)
    }
    const publicKey = rsaPublic(fromB64url(jwk.e), fromB64url(jwk.n), "")
    return { type: "ssh-rsa", publicKey, key }
}

function rsaKeyObject(
    c: { n: Uint8Array; e: Uint8Array; d: Uint8Array; p: Uint8Array; q: Uint8Array; iqmp: Uint8Array },
    source: string,
): KeyObject {
    // OpenSSH omits the CRT exponents; JWK import needs them: dp = d mod (p-1), dq = d mod (q-1).
    const d = toBig(c.d)
    const p = toBig(c.p)
    const q = toBig(c.q)
    if (p < 2n || q < 2n) throw new FormatError(`${source}: corrupt ssh-rsa private key`)
    try {
        return createPrivateKey({
            format: "jwk",
            key: {
                kty: "RSA",
                n: b64url(c.n),
                e: b64url(c.e),
                d: b64url(c.d),
                p: b64url(c.p),
                q: b64url(c.q),
                dp: b64url(fromBig(d % (p - 1n))),
                dq: b64url(fromBig(d % (q - 1n))),
                qi: b64url(c.iqmp),
            },
        })
    } catch {
        throw new FormatError(`${source}: corrupt ssh-rsa private key`)
    }
}

function toBig(b: Uint8Array): bigint {
    return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).toString("hex"))
}

function fromBig(v: bigint): Uint8Array {
    let hex = v.toString(16)
    if (hex.length % 2 === 1) hex = "0" + hex
    return new Uint8Array(Buffer.from(hex, "hex"))
}

/** JWK wants unsigned big-endian magnitudes without the mpint sign byte. */
function b64url(b: Uint8Array): string {
    let i = 0
    while (i < b.length - 1 && b[i] === 0) i++
    return Buffer.from(b.subarray(i)).toString("base64url")
}

function fromB64url(s: string): Uint8Array {
    return new Uint8Array(Buffer.from(s, "base64url"))
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && a.every((x, i) => x === b[i])
}
