/**
 * The identities of one SSH private key file, as decryption tries them: lazy in
 * their crypto, and asking for a passphrase only when a file is encrypted to them.
 *
 * - Lazy code: src/keys/ssh.ts needs @noble/curves (ssh-ed25519 multiplies by a
 *   tweak scalar, which node:crypto's clamped X25519 cannot do) and typage's
 *   Stanza, and initialising those costs about 15 ms of every start-up
 *   (docs/benchmarks.md). Identities are read on every decrypt, from every
 *   `~/.ssh/id_ed25519` that exists, but an SSH stanza is rarely what opens the
 *   data key. typage's Identity interface allows an async `unwrapFileKey`, so
 *   ssh.ts is imported only when typage asks.
 * - Passphrases: most people's `~/.ssh/id_ed25519` is passphrase-protected, and
 *   reading it must cost them nothing when the file is not encrypted to it. The
 *   public half is in clear, so a stanza's tag (or, for the X25519 twin, the sops
 *   recipient) tells whether the key is wanted before anyone is asked, as in sops
 *   age/ssh_parse.go. The passphrase is asked for once per key and run.
 * - The X25519 twin: for an ed25519 key, sops ≥3.11 also tries the age X25519
 *   identity that ssh-to-age derives from it, so files encrypted to the converted
 *   `age1…` recipient (sops-nix hosts, `secrets keys add-user --to-age`) open with
 *   the SSH key itself.
 */
import type { Identity, Stanza } from "age-encryption"

import type { AgeIdentity } from "./age.js"
import { unwrapX25519Stanzas } from "./age-x25519-native.js"
import { WrongPassphraseError } from "./ssh-encrypted.js"
import { formatSshPublicKey, sshTag, type SshKeyFile, type SshPrivateKey, type SshPublicKey } from "./ssh-parse.js"
import { x25519IdentityOf, x25519RecipientOf } from "./ssh-to-age.js"
import type { SshIdentity } from "./ssh.js"

/** How a passphrase-protected key gets its passphrase, supplied by the command line. */
export interface SshUnlock {
    /** Ask for the passphrase of the key file `source`; absent when no terminal can answer. */
    readonly askPassphrase?: (source: string) => Promise<string>
    /** Told once per key when a file needed it but it stayed locked; never key material. */
    readonly report: (message: string) => void
    /**
     * Given the key once its passphrase opened it, so that the command line can
     * hand it to a running agent (docs/agent.md): asked once per session.
     */
    readonly unlocked?: (key: SshPrivateKey) => Promise<void>
}

/**
 * An identity that only ever opens the sops entry of one recipient. X25519
 * stanzas carry no recipient, so the locked twin needs the entry's recipient to
 * know, before asking for a passphrase, that it is wanted (unwrapDataKey filters).
 */
export interface RecipientBoundIdentity extends Identity {
    readonly onlyForRecipient: string
}

/** The identities of an SSH key file, in sops's order: the SSH identity, then its X25519 twin. */
export function sshKeyIdentities(file: SshKeyFile, source: string, unlock?: SshUnlock): AgeIdentity[] {
    if (!file.encrypted) {
        const key = file.key
        return key.type === "ssh-ed25519" ? [lazySshIdentity(key), x25519IdentityOf(key)] : [lazySshIdentity(key)]
    }
    const publicKey = file.publicKey
    if (publicKey === undefined) return []
    let attempt: Promise<SshPrivateKey | null> | undefined
    const unlocked = (): Promise<SshPrivateKey | null> => (attempt ??= unlockOnce(file, source, unlock))
    const ssh = lockedSshIdentity(publicKey, unlocked)
    if (publicKey.type !== "ssh-ed25519") return [ssh]
    const twin: RecipientBoundIdentity = {
        onlyForRecipient: x25519RecipientOf(publicKey),
        async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
            if (!stanzas.some((s) => s.args[0] === "X25519")) return null
            const key = await unlocked()
            if (key === null || key.type !== "ssh-ed25519") return null
            return unwrapX25519Stanzas(x25519IdentityOf(key), stanzas)
        },
    }
    return [ssh, twin]
}

/** An SshIdentity whose unwrapping code is imported on first use. */
export function lazySshIdentity(priv: SshPrivateKey): SshIdentity {
    let real: Identity | undefined
    return {
        recipient: formatSshPublicKey(priv.publicKey),
        async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
            if (real === undefined) {
                const { sshIdentity } = await import("./ssh.js")
                real = sshIdentity(priv)
            }
            return real.unwrapFileKey(stanzas)
        },
    }
}

/** A protected key's SSH identity: unlocked only for a stanza carrying its tag. */
function lockedSshIdentity(publicKey: SshPublicKey, unlocked: () => Promise<SshPrivateKey | null>): SshIdentity {
    const tag = sshTag(publicKey)
    let real: SshIdentity | undefined
    return {
        recipient: formatSshPublicKey(publicKey),
        async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
            if (!stanzas.some((s) => s.args[0] === publicKey.type && s.args[1] === tag)) return null
            if (real === undefined) {
                const key = await unlocked()
                if (key === null) return null
                real = lazySshIdentity(key)
            }
            return real.unwrapFileKey(stanzas)
        },
    }
}

async function unlockOnce(file: SshKeyFile & { encrypted: true }, source: string, unlock: SshUnlock | undefined): Promise<SshPrivateKey | null> {
    if (unlock?.askPassphrase === undefined) {
        unlock?.report(`${source} is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal`)
        return null
    }
    const passphrase = await unlock.askPassphrase(source)
    try {
        const key = await file.unlock(passphrase)
        await unlock.unlocked?.(key)
        return key
    } catch (e) {
        if (!(e instanceof WrongPassphraseError)) throw e
        unlock.report(e.message)
        return null
    }
}
