/**
 * Opening passphrase-protected SSH private keys, as age and sops ≥3.10 do through
 * Go's ssh.ParseRawPrivateKeyWithPassphrase.
 *
 * OpenSSH's own format (PROTOCOL.key) encrypts the private section with a key and
 * IV derived by bcrypt_pbkdf from the passphrase, the file's salt and its rounds.
 * Go accepts the ciphers aes256-ctr (ssh-keygen's default) and aes256-cbc; we also
 * take the 128- and 192-bit AES variants of both, which differ only in key length.
 * The GCM and chacha20-poly1305 variants are refused, as by Go. A wrong passphrase
 * shows up as the section's two check words differing (PROTOCOL.key: "checkint").
 *
 * Old PEM keys (`Proc-Type: 4,ENCRYPTED` with a `DEK-Info` line) are OpenSSL's
 * format, which node:crypto opens itself.
 *
 * Why the bcrypt-pbkdf package: bcrypt_pbkdf is Blowfish with OpenBSD's expensive
 * key schedule and 4 KiB of constants; the package is the one ssh2 and sshpk use,
 * and writing a block cipher by hand is exactly what we should not do. It is
 * imported only when a key is unlocked: every decrypt reads ~/.ssh's keys, few
 * need their passphrase.
 */
import { createDecipheriv, createPrivateKey, type KeyObject } from "node:crypto"

import { FormatError } from "../errors.js"

/** The passphrase did not open the key. Carries no key material. */
export class WrongPassphraseError extends FormatError {
    constructor(source: string) {
        super(`${source}: incorrect passphrase`)
        this.name = "WrongPassphraseError"
    }
}

/** AES modes with their key lengths; the IV is one 16-byte block for all. */
const CIPHERS: Readonly<Record<string, { readonly node: string; readonly keyLength: number }>> = {
    "aes128-ctr": { node: "aes-128-ctr", keyLength: 16 },
    "aes192-ctr": { node: "aes-192-ctr", keyLength: 24 },
    "aes256-ctr": { node: "aes-256-ctr", keyLength: 32 },
    "aes128-cbc": { node: "aes-128-cbc", keyLength: 16 },
    "aes192-cbc": { node: "aes-192-cbc", keyLength: 24 },
    "aes256-cbc": { node: "aes-256-cbc", keyLength: 32 },
}
const IV_LENGTH = 16
const BLOCK = 16

/**
 * OpenSSH bounds the work factor to what a user can wait for; a file asking for
 * more is damaged or hostile (bcrypt_pbkdf takes ~0.1 s per 16 rounds in JS).
 */
const MAX_ROUNDS = 1024

/** The cipher and KDF names of a key, checked before anyone is asked for a passphrase. */
export function checkOpenSshEncryption(cipher: string, kdf: string, source: string): void {
    if (kdf !== "bcrypt") throw new FormatError(`${source}: unsupported key derivation ${JSON.stringify(kdf.slice(0, 40))} (only bcrypt)`)
    if (CIPHERS[cipher] === undefined) {
        throw new FormatError(`${source}: unsupported key cipher ${JSON.stringify(cipher.slice(0, 40))}`, [
            "age and sops read aes256-ctr (ssh-keygen's default) and aes256-cbc; re-encrypt a copy with: ssh-keygen -p -Z aes256-ctr -f <copy>",
        ])
    }
}

/**
 * Decrypt the private section of an openssh-key-v1 file. `kdfOptions` is the
 * file's `string salt, uint32 rounds`. Throws WrongPassphraseError when the check
 * words differ, FormatError when the file is malformed.
 */
export async function decryptOpenSshSection(
    cipher: string,
    kdf: string,
    kdfOptions: Uint8Array,
    section: Uint8Array,
    passphrase: string,
    source: string,
): Promise<Uint8Array> {
    checkOpenSshEncryption(cipher, kdf, source)
    const spec = CIPHERS[cipher]!
    const { salt, rounds } = readKdfOptions(kdfOptions, source)
    if (section.length === 0 || section.length % BLOCK !== 0) throw new FormatError(`${source}: corrupt encrypted private key (not whole blocks)`)
    const pass = new TextEncoder().encode(passphrase)
    if (pass.length === 0) throw new WrongPassphraseError(source)
    const { pbkdf } = await import("bcrypt-pbkdf")
    const derived = new Uint8Array(spec.keyLength + IV_LENGTH)
    if (pbkdf(pass, pass.length, salt, salt.length, derived, derived.length, rounds) !== 0) {
        throw new FormatError(`${source}: corrupt encrypted private key (key derivation parameters)`)
    }
    const decipher = createDecipheriv(spec.node, derived.subarray(0, spec.keyLength), derived.subarray(spec.keyLength))
    decipher.setAutoPadding(false)
    const plain = new Uint8Array(Buffer.concat([decipher.update(section), decipher.final()]))
    derived.fill(0)
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength)
    if (plain.length < 8 || view.getUint32(0) !== view.getUint32(4)) {
        plain.fill(0)
        throw new WrongPassphraseError(source)
    }
    return plain
}

function readKdfOptions(options: Uint8Array, source: string): { salt: Uint8Array; rounds: number } {
    const bad = (): never => {
        throw new FormatError(`${source}: corrupt encrypted private key (bcrypt options)`)
    }
    if (options.length < 8) bad()
    const view = new DataView(options.buffer, options.byteOffset, options.byteLength)
    const saltLength = view.getUint32(0)
    if (saltLength === 0 || 4 + saltLength + 4 !== options.length) bad()
    const rounds = view.getUint32(4 + saltLength)
    if (rounds < 1) bad()
    if (rounds > MAX_ROUNDS) throw new FormatError(`${source}: the key asks for ${rounds} bcrypt rounds, more than the ${MAX_ROUNDS} we accept`)
    return { salt: options.subarray(4, 4 + saltLength), rounds }
}

/** Open an encrypted PEM RSA key (`Proc-Type: 4,ENCRYPTED`). */
export function decryptPemRsa(pem: string, passphrase: string, source: string): KeyObject {
    try {
        return createPrivateKey({ key: pem, format: "pem", passphrase })
    } catch (e) {
        const code = (e as { code?: string }).code ?? ""
        // OpenSSL reports a wrong passphrase as a bad decrypt, or (when the CBC padding
        // happens to look right) as DER it cannot decode.
        if (/BAD_DECRYPT|BAD_PASSWORD|UNSUPPORTED|DECODER/.test(code)) throw new WrongPassphraseError(source)
        throw new FormatError(`${source}: malformed encrypted PEM RSA private key`)
    }
}
