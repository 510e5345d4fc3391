/**
 * Identity files: what `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, the default
 * `keys.txt` and SSH private key files contain (sops-format.md §9).
 *
 * Key files are line based: empty lines and lines starting with `#` are ignored,
 * every other line must be exactly one identity, and one bad line fails the whole
 * source, as in age's ParseIdentities. A file that starts with `age-encryption` or
 * `-----BEGIN AGE` is an age file encrypted with a passphrase (scrypt) that holds a
 * key file (sops age/encrypted_keys.go, issue #933).
 *
 * Identities are secret: no message here quotes a line, only `source` and a line number.
 */
import { FormatError, NoIdentityError } from "../errors.js"
import type { AgeIdentity } from "./age.js"
import { x25519RecipientOfIdentity } from "./age-x25519-native.js"
import { bech32Decode } from "./bech32.js"
import { isSshPrivateKey, readSshKeyFile } from "./ssh-parse.js"
import type { SshIdentity } from "./ssh.js"
import { sshKeyIdentities, type SshUnlock } from "./ssh-lazy.js"
import { PassphraseFileError, openPassphraseFile } from "./passphrase-file.js"

const X25519_PREFIX = "AGE-SECRET-KEY-1"
const PQ_PREFIX = "AGE-SECRET-KEY-PQ-1"
const PLUGIN_PREFIX = "AGE-PLUGIN-"

export interface ParseOptions {
    /**
     * Allow several whitespace-separated identities on one line, as sops ≥3.13
     * does for the `SOPS_AGE_KEY` variable (files stay one identity per line).
     */
    readonly severalPerLine?: boolean
    /** How a passphrase-protected SSH key asks for its passphrase; without it, such a key opens nothing. */
    readonly sshUnlock?: SshUnlock
    /** The text of the SSH key's `.pub` file, which an encrypted PEM key needs for its public half. */
    readonly sshPublicKeyLine?: string
}

/**
 * Parse an identity source. `source` names it in messages (a path or a variable
 * name). An SSH private key file (OpenSSH, or PEM RSA) gives its SSH identity and,
 * for ed25519, the X25519 twin (ssh-lazy.ts); anything else is a key file. A
 * passphrase-protected age file must go through {@link decryptIdentityFile} first.
 */
export function parseIdentities(text: string, source: string, options: ParseOptions = {}): AgeIdentity[] {
    if (isSshPrivateKey(text)) return parseSshKeyIdentities(text, source, options).identities
    if (isPassphraseProtected(text)) {
        throw new FormatError(`${source} is encrypted with a passphrase`, ["decrypt it with the passphrase before parsing it"])
    }
    const out: AgeIdentity[] = []
    // Scanner-style lines: "\n" separated, a trailing "\r" dropped (CRLF files).
    const lines = text.split("\n")
    for (const [i, raw] of lines.entries()) {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
        if (line === "" || line.startsWith("#")) continue
        const where = `${source} line ${i + 1}`
        if (options.severalPerLine === true) {
            for (const word of line.trim().split(/\s+/)) if (word !== "") out.push(parseIdentityLine(word, where))
        } else {
            out.push(parseIdentityLine(line, where))
        }
    }
    return out
}

/**
 * The identities of an SSH private key file, with a label for listings such as
 * `ssh-ed25519 key, passphrase-protected`.
 */
export function parseSshKeyIdentities(text: string, source: string, options: ParseOptions = {}): { identities: AgeIdentity[]; label: string } {
    const file = readSshKeyFile(text, source, options.sshPublicKeyLine)
    if (file.encrypted && file.publicKey === undefined) {
        throw new FormatError(`${source} is a passphrase-protected PEM key and ${source}.pub, its public half, is not beside it`, [
            `put the public key in ${source}.pub, or convert the key to OpenSSH's format: ssh-keygen -p -f ${source}`,
        ])
    }
    return {
        identities: sshKeyIdentities(file, source, options.sshUnlock),
        label: `${file.publicKey?.type} key${file.encrypted ? ", passphrase-protected" : ""}`,
    }
}

function parseIdentityLine(line: string, where: string): string {
    if (line.startsWith(PQ_PREFIX)) {
        const d = bech32Decode(line)
        if (d === null || d.hrp !== "age-secret-key-pq-" || d.bytes.length !== 32) {
            throw new FormatError(`malformed post-quantum age identity at ${where}`)
        }
        return line
    }
    if (line.startsWith(X25519_PREFIX)) {
        const d = bech32Decode(line)
        if (d === null || d.hrp !== "age-secret-key-" || d.bytes.length !== 32) {
            throw new FormatError(`malformed age identity at ${where}`)
        }
        return line
    }
    if (line.startsWith(PLUGIN_PREFIX)) {
        throw new FormatError(`age plugin identities are not supported yet (at ${where})`)
    }
    throw new FormatError(`unknown identity type at ${where}`, [
        "each line must be an AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… identity, a # comment, or empty",
    ])
}

/** True for an age-encrypted (passphrase) identity file, binary or armored, as sops peeks for it. */
export function isPassphraseProtected(content: string | Uint8Array): boolean {
    const head = typeof content === "string" ? content.slice(0, 14) : new TextDecoder().decode(content.subarray(0, 14))
    return head === "age-encryption" || head === "-----BEGIN AGE"
}

/**
 * Decrypt a passphrase-protected identity file and return its plaintext (a key
 * file, to hand to {@link parseIdentities}). A wrong passphrase is a
 * NoIdentityError (exit 128, as when sops cannot retrieve the data key).
 */
export async function decryptIdentityFile(content: string | Uint8Array, passphrase: string, source = "identity file"): Promise<string> {
    try {
        return await openPassphraseFile(content, passphrase)
    } catch (e) {
        if (!(e instanceof PassphraseFileError)) throw e
        switch (e.failure) {
            case "armor":
                throw new FormatError(`${source}: malformed age armor`)
            case "wrong-passphrase":
                throw new NoIdentityError(`${source}: incorrect passphrase, or the file is not passphrase-encrypted`)
            case "work-factor":
                throw new FormatError(`${source}: scrypt work factor is too high`)
            default:
                throw new FormatError(`${source}: malformed passphrase-encrypted identity file`)
        }
    }
}

/**
 * The public recipient of an identity, for listing: `age1…`, `age1pq1…`, or
 * `ssh-ed25519 AAAA…` / `ssh-rsa AAAA…` for SSH identities.
 */
export async function identityToRecipientString(identity: AgeIdentity): Promise<string> {
    if (typeof identity === "string") {
        const native = x25519RecipientOfIdentity(identity)
        if (native !== undefined) return native
        const { identityToRecipient } = await import("age-encryption")
        try {
            return await identityToRecipient(identity)
        } catch {
            throw new FormatError("invalid age identity")
        }
    }
    if (isSshIdentity(identity)) return identity.recipient
    throw new FormatError("cannot derive a recipient from this kind of identity")
}

function isSshIdentity(identity: object): identity is SshIdentity {
    return "recipient" in identity && typeof identity.recipient === "string"
}
