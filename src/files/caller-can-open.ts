/**
 * Whether the person encrypting could decrypt the result (issue 11 §8). A first
 * `.sops.yaml` copied from a README names somebody else's key; sops then writes a
 * file its author can never open again, and says nothing. We say so, naming the
 * recipients, while the plaintext is still at hand.
 *
 * The answer comes from the identities found without side effects: no key command
 * is run, no `op read`, no passphrase asked. When such a source is configured, or a
 * key file is passphrase-protected, the answer is "unknown" and nothing is said: a
 * warning that may be wrong would teach people to ignore it.
 */
import { readFileSync } from "node:fs"
import type { AgeIdentity } from "../keys/age.js"
import { collectIdentities } from "./identity-sources.js"
import { identityOptionsOf } from "./identity-options.js"
import { quote } from "../errors.js"
import { hint, warn } from "./diagnostics.js"
import type { Io } from "./io.js"
import { recipientNamer } from "./recipient-names.js"
import { governingConfig, localIdentityContext } from "./node-identities.js"

export type CanOpen = { readonly answer: "yes" | "unknown" } | { readonly answer: "no"; readonly identities: number }

/** Sources that only running something (or asking someone) could check. */
const SIDE_EFFECT_SOURCES = ["SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_CMD", "SECRETS_AGE_KEY_OP"] as const

/** Where the new file's rules came from: the file's path and `--config`. */
export interface EncryptedFor {
    readonly file?: string
    readonly config?: string
}

/**
 * Can the caller open a file encrypted to `groups` with `threshold` groups needed
 * (0 = all, sops's default)?
 */
export async function callerCanOpen(io: Io, groups: readonly (readonly string[])[], threshold: number, where: EncryptedFor): Promise<CanOpen> {
    if (SIDE_EFFECT_SOURCES.some((v) => (io.env[v] ?? "").trim() !== "")) return { answer: "unknown" }
    if ((identityOptionsOf(io).ageKeyOp ?? []).length > 0) return { answer: "unknown" }
    if (configNamesOpIdentity(io, where)) return { answer: "unknown" }
    const found = await collectIdentities(localIdentityContext(io))
    if (found.lookedIn.some((place) => place.endsWith("(passphrase-protected, skipped)"))) return { answer: "unknown" }
    const held = new Set<string>()
    for (const id of found.identities) {
        const r = await recipientOfIdentity(id)
        if (r !== undefined) held.add(recipientKey(r))
    }
    const needed = threshold > 0 ? Math.min(threshold, groups.length) : groups.length
    const opened = groups.filter((g) => g.some((r) => held.has(recipientKey(r)))).length
    return opened >= needed ? { answer: "yes" } : { answer: "no", identities: found.identities.length }
}

/**
 * The recipient an identity answers to: its public key, or, for the X25519 twin of
 * an SSH key (keys/ssh-lazy.ts), the age recipient it is bound to.
 */
export async function recipientOfIdentity(id: AgeIdentity): Promise<string | undefined> {
    if (typeof id === "object" && "onlyForRecipient" in id && typeof id.onlyForRecipient === "string") return id.onlyForRecipient
    const { identityToRecipientString } = await import("../keys/identity-file.js")
    try {
        return await identityToRecipientString(id)
    } catch {
        return undefined
    }
}

/** An SSH recipient without its comment (which differs between copies); an age recipient as is. */
export function recipientKey(recipient: string): string {
    return recipient.trim().split(/\s+/).slice(0, 2).join(" ")
}

/** The governing `.sops.yaml` names a 1Password identity (`secrets.age_key_op`), read only when needed. */
function configNamesOpIdentity(io: Io, where: EncryptedFor): boolean {
    const path = governingConfig(io, where)
    if (path === undefined) return false
    try {
        return readFileSync(path, "utf8").includes("age_key_op")
    } catch {
        return false
    }
}

/**
 * Warn when the caller could not decrypt what was just encrypted for `name`,
 * naming its recipients; silent when they can, or when that cannot be known.
 */
export async function warnIfCallerCannotOpen(io: Io, name: string, groups: readonly (readonly string[])[], threshold: number, where: EncryptedFor): Promise<void> {
    const can = await callerCanOpen(io, groups, threshold, where)
    if (can.answer !== "no") return
    const nameOf = recipientNamer(governingConfig(io, where))
    const who = groups.flat().map(nameOf).join(", ")
    const why =
        can.identities === 0
            ? "you have no age identity"
            : groups.length > 1
              ? "your identities do not open enough of its key groups"
              : "none of your identities is among its recipients"
    warn(io, `you will not be able to decrypt ${quote(name)}: ${why}; it is encrypted to ${who}`)
    hint(
        io,
        can.identities === 0
            ? "create one with `age-keygen -o ~/.config/sops/age/keys.txt` (or set SOPS_AGE_KEY_FILE), and add its recipient (`age-keygen -y`) to the creation rule in .sops.yaml"
            : "add your own recipient (`age-keygen -y` of your key file) to the creation rule in .sops.yaml, or give it with --age",
    )
}
