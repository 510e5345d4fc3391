/**
 * Opening an age file encrypted to a passphrase (one scrypt stanza), armored or
 * binary: the step that passphrase-protected identity files (sops
 * age/encrypted_keys.go, issue #933) and key backups share.
 *
 * typage reports failures as plain strings. They become a {@link PassphraseFailure}
 * that each caller words for its own kind of file, so no message here can quote
 * the input, and the caller picks the exit code (a wrong passphrase on an identity
 * file is exit 128, on a backup exit 1).
 */

/** Why a passphrase file did not open. */
export type PassphraseFailure = "armor" | "wrong-passphrase" | "altered" | "work-factor" | "malformed"

export class PassphraseFileError extends Error {
    readonly failure: PassphraseFailure

    constructor(failure: PassphraseFailure) {
        super(`passphrase file: ${failure}`)
        this.name = "PassphraseFileError"
        this.failure = failure
    }
}

/** The plaintext of `content`, or a {@link PassphraseFileError}. */
export async function openPassphraseFile(content: string | Uint8Array, passphrase: string): Promise<string> {
    // typage is imported here, not at the top: most runs never open a passphrase file.
    const { Decrypter, armor } = await import("age-encryption")
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    let file: Uint8Array
    try {
        const armored = new TextDecoder().decode(bytes.subarray(0, 14)) === "-----BEGIN AGE"
        file = armored ? armor.decode(new TextDecoder().decode(bytes)) : bytes
    } catch {
        throw new PassphraseFileError("armor")
    }
    const d = new Decrypter()
    d.addPassphrase(passphrase)
    try {
        return await d.decrypt(file, "text")
    } catch (e) {
        const m = e instanceof Error ? e.message : ""
        if (m === "no identity matched any of the file's recipients") throw new PassphraseFileError("wrong-passphrase")
        if (m === "invalid header HMAC" || m === "invalid tag") throw new PassphraseFileError("altered")
        if (m === "scrypt work factor is too high") throw new PassphraseFileError("work-factor")
        throw new PassphraseFileError("malformed")
    }
}
