/**
 * Recipients as people read them: by the name their `.sops.yaml` anchor gives
 * (`user alice`, `host web1`, `recovery`), with the key shortened beside it. Used
 * where a message must say who can read a file (encrypt's "you will not be able to
 * decrypt" warning, `--verbose`); an `age1…` string alone tells a person nothing.
 */
import { readFileSync } from "node:fs"
import { kindOfAnchor, readNamedKeys, type NamedKey } from "../config/named-keys.js"

export type RecipientNamer = (recipient: string) => string

/** A namer from the named keys of the config at `configPath` (none: keys only). */
export function recipientNamer(configPath: string | undefined): RecipientNamer {
    const nameOf = recipientNames(configPath)
    return (recipient) => {
        const name = nameOf(recipient)
        return name === undefined ? shortKey(recipient) : `${name} (${shortKey(recipient)})`
    }
}

/**
 * The bare `.sops.yaml` name of each recipient (`host web1`), undefined for a key
 * the config does not name; the first anchor of a key names it.
 */
export function recipientNames(configPath: string | undefined): (recipient: string) => string | undefined {
    const named = configPath === undefined ? [] : namedKeysOf(configPath)
    const byRecipient = new Map<string, string>()
    for (const k of named) if (!byRecipient.has(k.recipient)) byRecipient.set(k.recipient, label(k))
    return (recipient) => byRecipient.get(recipient.trim())
}

/** `age1ql3z…cac8p`; an SSH key as its type and the start of its blob. */
export function shortKey(recipient: string): string {
    const r = recipient.trim()
    const ssh = /^(ssh-\S+) (\S+)/.exec(r)
    if (ssh !== null) return `${ssh[1]} ${ssh[2]!.slice(0, 16)}…`
    return r.length <= 20 ? r : `${r.slice(0, 9)}…${r.slice(-5)}`
}

function label(k: NamedKey): string {
    const { kind, name } = kindOfAnchor(k.anchor)
    return kind === "other" || kind === "recovery" ? name : `${kind} ${name}`
}

/** The config is only for names here: an unreadable or odd one just gives none. */
function namedKeysOf(path: string): NamedKey[] {
    try {
        return readNamedKeys(readFileSync(path, "utf8"))
    } catch {
        return []
    }
}
