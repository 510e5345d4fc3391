/**
 * `secrets keys revoke NAME`: a key that is revoked may have been copied, and
 * whoever holds it may have copied the data keys it opened. Removing its `enc`
 * block is not enough: every file it could open gets a NEW data key (rotate, not
 * re-wrap), and the user is told which values it could read (key paths only) so
 * that those secrets are changed at their source.
 *
 * The new data key goes to the file's creation rule's recipients without the
 * revoked key, not to the file's own list minus that key: a second key the revoked
 * person added to a file (`rotate -i --add-age`) would otherwise get the new key too.
 * Every recipient dropped for not being in its rule is named (src/fleet/revoke-plan.ts).
 *
 * Files are rotated first and `.sops.yaml` is edited last, so a revoke that stops
 * half way is finished by running it again: the name is still there, and files
 * already rotated no longer list the key.
 */
import { readFile } from "node:fs/promises"
import { relative } from "node:path"
import { isScalar, isSeq, parseDocument, visit, type Document } from "yaml"
import { rotateDataKey, type GroupDiff } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import type { Io } from "../files/io.js"
import { writeFileAtomic } from "../files/fs-atomic.js"
import { modifyEncryptedFile } from "../files/modify-file.js"
import { info, warn } from "../files/diagnostics.js"
import { findNamedKey as findConfigKey, removeNamedKey as removeConfigKey, stringifyLike } from "./config-edit.js"
import { readNamedKeys, type NamedKey } from "../config/named-keys.js"
import { confirmOrRefuse, findEncryptedFiles, loadFleetConfig, progress, type FoundFile, type RepoRun } from "./rekey-repo.js"
import { planRevoke, type RevokeTarget } from "./revoke-plan.js"
import { encryptedPaths, historyExposure, type HistoryExposed } from "./history-exposure.js"

// ---- .sops.yaml edits (yaml Document API: comments and layout are kept) --------------

/**
 * The named key `name` refers to: a bare name (`web1`, `alice`) or an anchor
 * (`host_web1`, `user_alice`, `recovery`); config-edit's lookup, so every command
 * resolves names the same way.
 */
export function findNamedKey(configText: string, name: string): NamedKey {
    return findConfigKey(configText, name)
}

function parseConfigDoc(configText: string): Document {
    const doc = parseDocument(configText)
    if (doc.errors.length > 0) throw new ConfigError(".sops.yaml is not valid YAML", ["fix the file and try again"])
    return doc
}

/**
 * `.sops.yaml` without the key anchored `anchor`. config-edit's removal (the item,
 * its aliases, the rule of its own directory — as `keys remove` does), then plain
 * copies of its recipient in the rules' lists go too (a revoked key must not stay
 * in a rule under another spelling), and the text is written in the original's
 * layout so that the diff is only the lines that went.
 */
export function removeNamedKey(configText: string, anchor: string): string {
    const { removed, text } = removeConfigKey(configText, anchor)
    const doc = parseConfigDoc(text)
    const rules = doc.get("creation_rules", true)
    if (rules !== undefined && rules !== null) {
        visit(rules as Parameters<typeof visit>[0], {
            Scalar: (_k, node, path) =>
                isSeq(path[path.length - 1]) && typeof node.value === "string" && node.value.trim() === removed.recipient ? visit.REMOVE : undefined,
        })
    }
    return stringifyLike(doc, configText)
}

/** `.sops.yaml` with the recipient of the key anchored `anchor` replaced; aliases follow. */
export function replaceNamedKeyRecipient(configText: string, anchor: string, recipient: string): string {
    const doc = parseConfigDoc(configText)
    const keys = doc.get("keys", true)
    const item = isSeq(keys) ? keys.items.find((i) => isScalar(i) && i.anchor === anchor) : undefined
    if (!isScalar(item)) throw new ConfigError(`no key anchored ${quote(anchor)} in .sops.yaml`)
    const old = String(item.value).trim()
    item.value = recipient
    const rules = doc.get("creation_rules", true)
    if (rules !== undefined && rules !== null) {
        // Plain copies of the old recipient (written without the alias) follow too.
        visit(rules as Parameters<typeof visit>[0], {
            Scalar: (_k, node) => {
                if (typeof node.value === "string" && node.value.trim() === old) node.value = recipient
            },
        })
    }
    return stringifyLike(doc, configText)
}

// ---- what a key could read: fleet/history-exposure.ts (now, and in git history) --------

export { encryptedPaths } from "./history-exposure.js"

// ---- the command --------------------------------------------------------------------

export interface RevokeOptions {
    readonly configPath: string
    readonly dryRun: boolean
    readonly yes: boolean
}

export interface RevokeReport {
    readonly key: NamedKey
    /** Files (as shown) the key could open, with the key paths of their encrypted values. */
    readonly exposed: { file: string; paths: string[] }[]
    /** Files (as shown) that do not list the key but hold recipients their rule does not name. */
    readonly offRuleExposed: { file: string; paths: string[] }[]
    /** Files (as shown) whose committed revisions the key could open, with the key paths not listed in `exposed`. */
    readonly historyExposed: HistoryExposed[]
    /** Per file (as shown), the recipients dropped because its creation rule does not name them. */
    readonly offRuleRemoved: { file: string; recipients: string[] }[]
    readonly rotated: string[]
    /** Files with pgp/kms/… keys: a new data key would lock those out. */
    readonly notRotatable: string[]
    /** Files no creation rule matches: only the revoked key was removed from them. */
    readonly noRule: string[]
    readonly failed: string[]
    configChanged: boolean
}

function hasForeignKeys(f: FoundFile): boolean {
    return f.metadata.keyGroups.some((g) => g.some((k) => k.type !== "age"))
}

const files = (n: number) => `${n} file${n === 1 ? "" : "s"}`

export async function revokeKey(run: RepoRun, name: string, opts: RevokeOptions): Promise<RevokeReport> {
    const { io } = run
    const loaded = await loadFleetConfig(io, opts.configPath)
    const configShown = relative(io.cwd, loaded.path) || loaded.path
    const key = findNamedKey(loaded.text, name)
    // The rules as they are now, minus the key: a file in the key's own directory
    // (whose rule the config edit removes) still goes to the rule's other readers.
    const found = await findEncryptedFiles(io, loaded.dir)
    const targets = planRevoke(loaded.config, loaded.dir, found, key.recipient)
    const listing = targets.filter((t) => t.listsKey).map((t) => ({ abs: t.file.abs, file: t.file.shown, paths: encryptedPaths(t.file.doc.branches) }))
    const exposed = listing.map(({ file, paths }) => ({ file, paths }))
    const offRuleExposed = targets.filter((t) => !t.listsKey).map((t) => ({ file: t.file.shown, paths: encryptedPaths(t.file.doc.branches) }))
    const history = await historyExposure(io, loaded.dir, key.recipient, found.map((f) => f.abs), new Map(listing.map((l) => [l.abs, l.paths])))
    if (history.kind === "skipped") info(io, `git history not searched for values ${key.anchor} could read: ${history.why}`)
    const historyExposed = history.kind === "read" ? history.files : []
    const report: RevokeReport = { key, exposed, offRuleExposed, historyExposed, offRuleRemoved: [], rotated: [], notRotatable: [], noRule: [], failed: [], configChanged: false }

    printExposure(io, key, exposed, offRuleExposed, historyExposed)
    const rotatable = targets.filter((t) => !hasForeignKeys(t.file))
    for (const t of targets) if (hasForeignKeys(t.file)) report.notRotatable.push(t.file.shown)
    for (const f of report.notRotatable) {
        warn(io, `${quote(f)}: not rotatable: it also has pgp/kms keys that secrets cannot encrypt to; rotate it with sops (sops rotate -i --rm-age ${key.recipient})`)
    }
    for (const t of rotatable) {
        if (t.groups === undefined) {
            report.noRule.push(t.file.shown)
            warn(io, `${quote(t.file.shown)}: no creation rule matches it: only ${key.anchor} is removed, its other recipients are kept as they are`)
        } else if (t.unsupported.length > 0) {
            warn(io, `${quote(t.file.shown)}: its creation rule also names ${t.unsupported.join(", ")} keys, which secrets cannot use; only the age recipients get the new data key`)
        }
    }
    if (opts.dryRun) {
        for (const t of rotatable) for (const r of t.offRule) info(io, `would also remove ${r} from ${quote(t.file.shown)}: not in its creation rule`)
        info(io, `dry run: would rotate the data key of ${files(rotatable.length)} and remove ${key.anchor} from ${quote(configShown)}; nothing written`)
        return report
    }
    await confirmOrRefuse(io, opts.yes, `revoke ${key.anchor} and rotate the data key of ${files(rotatable.length)}?`)

    for (const [i, t] of rotatable.entries()) {
        progress(io, "rotating", i, rotatable.length, t.file.shown)
        try {
            const diff = await rotateOne(io, t, key.recipient)
            // From the rotation itself (the file may have changed since it was planned).
            const dropped = diff.flatMap((d) => d.removed).filter((r) => r.trim() !== key.recipient.trim() && !(t.groups ?? []).flat().includes(r.trim()))
            const added = diff.flatMap((d) => d.added).filter((r) => !diff.some((o) => o.removed.includes(r)))
            report.rotated.push(t.file.shown)
            for (const r of new Set(dropped)) info(io, `also removed ${r} from ${quote(t.file.shown)}: not in its creation rule`)
            for (const r of new Set(added)) info(io, `also added ${r} to ${quote(t.file.shown)}: its creation rule names it`)
            if (dropped.length > 0) report.offRuleRemoved.push({ file: t.file.shown, recipients: [...new Set(dropped)] })
        } catch (e) {
            run.reportFailure(e instanceof SecretsError ? e.about(quote(t.file.shown)) : e)
            report.failed.push(t.file.shown)
        }
    }

    const current = await readFile(loaded.path, "utf8")
    if (readNamedKeys(current).some((k) => k.anchor === key.anchor)) {
        await writeFileAtomic(loaded.path, new TextEncoder().encode(removeNamedKey(current, key.anchor)), { mode: 0o644 })
        report.configChanged = true
    }
    info(io, `revoked ${key.anchor}: removed from ${quote(configShown)}, new data key for ${files(report.rotated.length)}`)
    if (exposed.length + offRuleExposed.length + historyExposed.length > 0) {
        const who = offRuleExposed.length > 0 || report.offRuleRemoved.length > 0 ? "the revoked key and the keys outside the creation rules" : "the revoked key"
        info(io, `${who} could read the values listed above: change those secrets at their source (new passwords, new tokens), then store the new values`)
    }
    const left = [...report.notRotatable, ...report.failed]
    if (left.length > 0) {
        throw new SecretsError(ExitCode.Generic, `${files(left.length)} still open${left.length === 1 ? "s" : ""} with the revoked key's data key: ${left.map(quote).join(", ")}`, [
            "fix the cause shown above and rotate them (`secrets rotate -i --strict FILE`, or sops for files with pgp/kms keys)",
        ])
    }
    return report
}

/**
 * Under the file's lock: a new data key for exactly its creation rule's recipients
 * without the revoked key (or, with no rule, for its own recipients without it).
 */
async function rotateOne(io: Io, t: RevokeTarget, recipient: string): Promise<readonly GroupDiff[]> {
    let diff: readonly GroupDiff[] = []
    await modifyEncryptedFile(io, t.file.abs, {}, async (opened, store) => {
        const change = t.groups === undefined ? { remove: [recipient] } : { groups: t.groups, threshold: t.threshold ?? 0, remove: [recipient] }
        const r = await rotateDataKey(opened, store, io.now(), change)
        diff = r.diff
        return r.output
    })
    return diff
}

/**
 * On stdout: each file the key could open and the key paths of its encrypted values;
 * then the files it could not open that hold keys their rule does not name.
 */
function printExposure(
    io: Io,
    key: NamedKey,
    exposed: readonly { file: string; paths: string[] }[],
    offRule: readonly { file: string; paths: string[] }[],
    history: readonly HistoryExposed[],
): void {
    if (exposed.length === 0) info(io, `no encrypted file lists ${key.anchor}`)
    const lines: string[] = []
    const section = (title: string, list: readonly { file: string; paths: string[] }[]) => {
        if (list.length === 0) return
        lines.push(title)
        for (const e of list) {
            lines.push(`${e.file}`)
            for (const p of e.paths) lines.push(`    ${p}`)
            if (e.paths.length === 0) lines.push("    (no encrypted values)")
        }
    }
    section(`values ${key.anchor} could read:`, exposed)
    section("values keys outside the creation rules could read:", offRule)
    // Rotation cannot reach these: the old revisions stay in git, wrapped for the key.
    section(
        `values ${key.anchor} could read in git history (old revisions stay readable to it in every clone):`,
        history.map((h) => ({ file: `${h.file} (${h.now})`, paths: h.paths })),
    )
    if (lines.length > 0) io.stdout.write(lines.join("\n") + "\n")
}
