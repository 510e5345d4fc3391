/**
 * Which files `keys revoke` rotates, and to whom.
 *
 * A file's recipient list is the file's own: anyone who could open it may have
 * added a key to it (`rotate -i --add-age`, `edit -s`). A revoked person who did so
 * keeps reading through a rotation that starts from the file's list and only takes
 * the named key out. So a revoke rotates each file to its creation rule's key
 * groups and threshold, without the revoked key, and every other recipient the
 * rule does not name goes too — in the files that list the revoked key and in
 * those that do not (a stowaway key is the threat whoever put it there; the dry run
 * and the report name each one).
 *
 * A file no creation rule matches has nothing to compare with: it keeps today's
 * behaviour (only the revoked key goes) and the caller warns about it.
 */
import type { Config } from "../config/schema.js"
import { ageRecipients } from "../engine/rekey.js"
import type { FoundFile } from "./rekey-repo.js"
import { missingRuleRecipients, offRuleRecipients, ruleRecipientsFor, withoutRecipient } from "./rule-recipients.js"

export interface RevokeTarget {
    readonly file: FoundFile
    /** The file lists the revoked key (its values are exposed to it). */
    readonly listsKey: boolean
    /**
     * The creation rule's age recipients per group without the revoked key, or
     * undefined when no rule matches the file (then only the key is removed).
     */
    readonly groups?: string[][]
    /** The rule's Shamir threshold (0 = all groups), with `groups`. */
    readonly threshold?: number
    /** Recipients of the file its rule does not name, the revoked key aside: they go too. */
    readonly offRule: string[]
    /** Recipients the rule names that the file lacks: they get the new data key. */
    readonly added: string[]
    /** Key types the rule also names that secrets cannot encrypt to (`pgp`, `kms`, …). */
    readonly unsupported: string[]
}

/**
 * The files to rotate for revoking `recipient`, in the order given: those that list
 * it, and those with recipients their rule does not name. Nothing is read or
 * decrypted; a bad `path_regex` in the config is a ConfigError before anything is
 * written.
 */
export function planRevoke(config: Config, configDir: string, files: readonly FoundFile[], recipient: string): RevokeTarget[] {
    const out: RevokeTarget[] = []
    for (const file of files) {
        const listsKey = file.metadata.keyGroups.some((g) => ageRecipients(g).some((r) => r.trim() === recipient.trim()))
        const rule = ruleRecipientsFor(config, configDir, file.abs)
        if (rule === undefined) {
            if (listsKey) out.push({ file, listsKey, offRule: [], added: [], unsupported: [] })
            continue
        }
        const groups = withoutRecipient(rule.groups, recipient)
        const offRule = offRuleRecipients(file.metadata.keyGroups, groups).filter((r) => r !== recipient.trim())
        if (!listsKey && offRule.length === 0) continue
        out.push({
            file,
            listsKey,
            groups,
            threshold: rule.threshold,
            offRule,
            added: missingRuleRecipients(file.metadata.keyGroups, groups),
            unsupported: rule.unsupported,
        })
    }
    return out
}
