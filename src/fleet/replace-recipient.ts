/**
 * One file of `keys rotate`: the old recipient replaced by the new one in every key
 * group, under the file's lock, with the same data key (values, `mac` and
 * `lastmodified` untouched), so a rotation can be resumed file by file.
 *
 * When the file has a creation rule, its key groups come from the rule (which by
 * now names the new key), not from the file (issue 10 §3): a recipient someone
 * added to the file alone is dropped and named, so a rotation never carries a
 * stowaway key forward. The data key stays the same, so dropping one does not shut
 * out whoever already read it: the warning says to rotate the data key.
 */
import { lstat, readFile } from "node:fs/promises"
import { relative } from "node:path"
import { ageRecipients, rewrapGroups } from "../engine/rekey.js"
import { SecretsError, quote } from "../errors.js"
import type { Io } from "../files/io.js"
import { emitWithMetadata, recoverKey } from "../files/rekey-file.js"
import { withFileLock } from "../files/file-lock.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import { warn } from "../files/diagnostics.js"
import { offRuleRecipients, type RuleRecipients } from "./rule-recipients.js"

/**
 * Under the file's lock: in every group, the old recipient becomes the new one.
 * Returns false when there was nothing to do (already re-wrapped, or gone).
 */
export async function replaceRecipient(
    io: Io,
    abs: string,
    oldRecipient: string,
    newRecipient: string,
    ruleFor: (abs: string) => RuleRecipients | undefined = () => undefined,
): Promise<boolean> {
    const { loadStore, formatForPath } = await import("../stores/index.js")
    const { metadataFromTree } = await import("../stores/metadata.js")
    const shown = relative(io.cwd, abs)
    return withFileLock(abs, async () => {
        let input: Uint8Array
        try {
            // The list was made by walking the tree without following links; a link
            // that appeared since (a pull between two runs) is not followed either.
            if (!(await lstat(abs)).isFile()) {
                warn(io, `${quote(shown)} is no longer a regular file; skipped`)
                return false
            }
            input = await readFile(abs)
        } catch (e) {
            if ((e as { code?: string }).code !== "ENOENT") throw e
            warn(io, `${quote(shown)} is gone; skipped`)
            return false
        }
        const store = await loadStore(formatForPath(abs))
        const doc = store.parseEncrypted(input)
        const metadata = metadataFromTree(doc.metadata)
        if (!metadata.keyGroups.some((g) => ageRecipients(g).includes(oldRecipient))) return false
        const fromFile = metadata.keyGroups.map((g) => {
            const rs = ageRecipients(g).map((r) => (r === oldRecipient ? newRecipient : r))
            return [...new Set(rs)]
        })
        // A rule naming keys this tool cannot wrap for (pgp, kms) would lose them: keep the file's list then.
        const rule = ruleFor(abs)
        const fromRule = rule !== undefined && rule.unsupported.length === 0 ? rule : undefined
        const groups = fromRule?.groups ?? fromFile
        const threshold = fromRule?.threshold ?? metadata.shamirThreshold
        if (fromRule !== undefined) {
            for (const r of offRuleRecipients(metadata.keyGroups, fromRule.groups).filter((x) => x !== oldRecipient)) {
                warn(io, `also removed ${r} from ${quote(shown)}: not in its creation rule; it may have read the data key, so run \`secrets rotate -i ${shown}\``)
            }
        }
        let dataKey: Uint8Array
        try {
            dataKey = await recoverKey(io, shown, metadata)
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(shown)) : e
        }
        const r = await rewrapGroups(metadata, dataKey, groups, threshold)
        await writeFileAtomic(abs, await emitWithMetadata(store, doc, r.metadata))
        return true
    })
}
