/**
 * The identities the agent holds (docs/agent.md): added unlocked by the command
 * line, used only to unwrap sops entries, never handed out, and wiped on `lock`,
 * `stop` and the idle timeout.
 *
 * Wiping drops every reference and zeroes the bytes we own (SSH seeds). An
 * `AGE-SECRET-KEY-1…` line is a JS string, and strings cannot be zeroed: it stays
 * in the heap until the garbage collector reuses the memory. RSA keys are
 * node:crypto KeyObjects, freed (not zeroed by us) when unreferenced.
 */
import { createHash } from "node:crypto"
import { ExitCode, SecretsError } from "../errors.js"
import { unwrapDataKey, type AgeIdentity } from "../keys/age.js"
import { parseIdentities } from "../keys/identity-file.js"
import { lazySshIdentity } from "../keys/ssh-lazy.js"
import { x25519IdentityOf } from "../keys/ssh-to-age.js"
import { MAX_SOURCES, sshKeyOf, type UnlockedIdentity } from "../files/agent-protocol.js"

interface Held {
    readonly source: string
    readonly identities: AgeIdentity[]
    /** Bytes to zero on wipe. */
    readonly secrets: Uint8Array[]
}

export class Keyring {
    /** By a hash of the material, so that adding the same key again (after each lock) does not pile up. */
    #held = new Map<string, Held>()

    get sources(): number {
        return this.#held.size
    }

    get identities(): number {
        let n = 0
        for (const h of this.#held.values()) n += h.identities.length
        return n
    }

    /** Unlock and keep `u`; the number of identities it gave. Throws SecretsError for a key that does not parse or open. */
    async add(u: UnlockedIdentity): Promise<number> {
        const id = createHash("sha256")
            .update(u.kind === "keys" ? `keys\0${u.text}` : `ssh\0${u.publicKey}`)
            .digest("hex")
        const known = this.#held.get(id)
        if (known !== undefined) return known.identities.length
        if (this.#held.size >= MAX_SOURCES) throw new SecretsError(ExitCode.Generic, `the agent holds ${MAX_SOURCES} key sources already`, ["run secrets agent lock"])
        const held = u.kind === "keys" ? { source: u.source, identities: parseIdentities(u.text, u.source), secrets: [] } : sshHeld(u)
        this.#held.set(id, held)
        return held.identities.length
    }

    /** The payload of one sops entry, or null when no identity held opens it. */
    async unwrap(enc: string, recipient?: string): Promise<Uint8Array | null> {
        const all = [...this.#held.values()].flatMap((h) => h.identities)
        if (all.length === 0) return null
        return unwrapDataKey(enc, all, recipient)
    }

    wipe(): void {
        for (const h of this.#held.values()) {
            for (const b of h.secrets) b.fill(0)
            h.identities.length = 0
        }
        this.#held.clear()
    }
}

function sshHeld(u: UnlockedIdentity & { kind: "ssh" }): Held {
    const key = sshKeyOf(u)
    // As ssh-lazy.ts for an unlocked key: the SSH identity, and for ed25519 its X25519 twin.
    const identities: AgeIdentity[] = key.type === "ssh-ed25519" ? [lazySshIdentity(key), x25519IdentityOf(key)] : [lazySshIdentity(key)]
    return { source: u.source, identities, secrets: key.type === "ssh-ed25519" ? [key.seed] : [] }
}
