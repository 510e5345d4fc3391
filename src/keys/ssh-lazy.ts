/**
 * SSH identities that load their crypto on first use.
 *
 * Why: src/keys/ssh.ts needs @noble/curves (ssh-ed25519 multiplies by a tweak
 * scalar, which node:crypto's clamped X25519 cannot do) and typage's Stanza, and
 * initialising those modules costs about 15 ms of every start-up
 * (docs/benchmarks.md). Identities are read on every decrypt, from every
 * `~/.ssh/id_ed25519` that exists, but an SSH stanza is rarely what opens the data
 * key. typage's Identity interface allows an async `unwrapFileKey`, so the real
 * identity is built, and ssh.ts imported, only when typage asks.
 */
import type { Identity, Stanza } from "age-encryption"

import { formatSshPublicKey, type SshPrivateKey } from "./ssh-parse.js"
import type { SshIdentity } from "./ssh.js"

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
