/**
 * `secrets keys revoke NAME`: a key that is revoked may have been copied, and
 * whoever holds it may have copied the data keys it opened. Removing its `enc`
 * block is not enough: every file it could open gets a NEW data key (rotate, not
 * re-wrap), and the user is told which values it could read (key paths only) so
 * that those secrets are changed at their source.
 *
 * Files are rotated first and `.sops.yaml` is edited last, so a revoke that stops
 * half way is finished by running it again: the name is still there, and files
 * already rotated no longer list the key.
 */
import { readFile } from "node:fs/promises"
import { relative } from "node:path"
import { isScalar, isSeq, parseDocument, visit, type Document } from "yaml"
import type { Branch, Node } from "../core/tree.js"
import { describePath, type PathStep } from "../core/tree-path.js"
import { ageRecipients, rotateDataKey } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import type { CommandContext } from "../cli/context.js"
import type { Io } from "../cli/io.js"
import { writeFileAtomic } from "../cli/fs-atomic.js"
import { modifyEncryptedFile } from "../cli/modify-file.js"
import { info, reportError, warn } from "../cli/report.js"
import { findNamedKey as findConfigKey, removeNamedKey as removeConfigKey, stringifyLike } from "./config-edit.js"
import { readNamedKeys, type NamedKey } from "./named-keys.js"
import { confirmOrRefuse, findEncryptedFiles, loadFleetConfig, progress, type FoundFile } from "./rekey-repo.js"

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

// ---- what a key could read ----------------------------------------------------------

/**
 * The key paths of the encrypted values of a file, read from its ENC strings: what
 * anyone holding its data key could read. Nothing is decrypted.
 */
export function encryptedPaths(branches: readonly Branch[]): string[] {
    const perDoc = branches.map((b) => {
        const found: string[] = []
        const visitNode = (node: Node, path: PathStep[]): void => {
            if (node.kind === "map") {
                for (const item of node.items) if (item.kind === "entry") visitNode(item.value, [...path, item.key])
            } else if (node.kind === "list") {
                let i = 0
                for (const item of node.items) if (item.kind !== "comment") visitNode(item, [...path, i++])
            } else if (node.kind === "str" && node.value.startsWith("ENC[")) {
                found.push(describePath(path))
            }
        }
        visitNode(b, [])
        return found
    })
    if (perDoc.length <= 1) return perDoc[0] ?? []
    return perDoc.flatMap((paths, d) => paths.map((p) => `document ${d + 1}: ${p}`))
}

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
    readonly rotated: string[]
    /** Files with pgp/kms/… keys: a new data key would lock those out. */
    readonly notRotatable: string[]
    readonly failed: string[]
    configChanged: boolean
}

function hasForeignKeys(f: FoundFile): boolean {
    return f.metadata.keyGroups.some((g) => g.some((k) => k.type !== "age"))
}

export async function revokeKey(ctx: CommandContext, name: string, opts: RevokeOptions): Promise<RevokeReport> {
    const { io } = ctx
    const loaded = await loadFleetConfig(io, opts.configPath)
    const configShown = relative(io.cwd, loaded.path) || loaded.path
    const key = findNamedKey(loaded.text, name)
    const files = (await findEncryptedFiles(io, loaded.dir)).filter((f) => f.metadata.keyGroups.some((g) => ageRecipients(g).includes(key.recipient)))
    const exposed = files.map((f) => ({ file: f.shown, paths: encryptedPaths(f.doc.branches) }))
    const report: RevokeReport = { key, exposed, rotated: [], notRotatable: [], failed: [], configChanged: false }

    printExposure(io, key, exposed)
    const rotatable = files.filter((f) => !hasForeignKeys(f))
    for (const f of files) if (hasForeignKeys(f)) report.notRotatable.push(f.shown)
    for (const f of report.notRotatable) {
        warn(io, `${quote(f)}: not rotatable: it also has pgp/kms keys that secrets cannot encrypt to; rotate it with sops (sops rotate -i --rm-age ${key.recipient})`)
    }
    if (opts.dryRun) {
        info(io, `dry run: would rotate the data key of ${rotatable.length} file${rotatable.length === 1 ? "" : "s"} and remove ${key.anchor} from ${quote(configShown)}; nothing written`)
        return report
    }
    await confirmOrRefuse(io, opts.yes, `revoke ${key.anchor} and rotate the data key of ${rotatable.length} file${rotatable.length === 1 ? "" : "s"}?`)

    for (const [i, f] of rotatable.entries()) {
        progress(io, "rotating", i, rotatable.length, f.shown)
        try {
            await modifyEncryptedFile(io, f.abs, {}, async (opened, store) => {
                const r = await rotateDataKey(opened, store, io.now(), { remove: [key.recipient] })
                return r.output
            })
            report.rotated.push(f.shown)
        } catch (e) {
            reportError(io, e instanceof SecretsError ? e.about(quote(f.shown)) : e)
            report.failed.push(f.shown)
        }
    }

    const current = await readFile(loaded.path, "utf8")
    if (readNamedKeys(current).some((k) => k.anchor === key.anchor)) {
        await writeFileAtomic(loaded.path, new TextEncoder().encode(removeNamedKey(current, key.anchor)), { mode: 0o644 })
        report.configChanged = true
    }
    info(io, `revoked ${key.anchor}: removed from ${quote(configShown)}, new data key for ${report.rotated.length} file${report.rotated.length === 1 ? "" : "s"}`)
    if (exposed.length > 0) {
        info(io, "the revoked key could read the values listed above: change those secrets at their source (new passwords, new tokens), then store the new values")
    }
    const left = [...report.notRotatable, ...report.failed]
    if (left.length > 0) {
        throw new SecretsError(ExitCode.Generic, `${left.length} file${left.length === 1 ? "" : "s"} still open${left.length === 1 ? "s" : ""} with the revoked key's data key: ${left.map(quote).join(", ")}`, [
            "fix the cause shown above and rotate them (`secrets rotate -i FILE`, or sops for files with pgp/kms keys)",
        ])
    }
    return report
}

/** On stdout: each file the key could open and the key paths of its encrypted values. */
function printExposure(io: Io, key: NamedKey, exposed: readonly { file: string; paths: string[] }[]): void {
    if (exposed.length === 0) {
        info(io, `no encrypted file lists ${key.anchor}`)
        return
    }
    const lines = [`values ${key.anchor} could read:`]
    for (const e of exposed) {
        lines.push(`${e.file}`)
        for (const p of e.paths) lines.push(`    ${p}`)
        if (e.paths.length === 0) lines.push("    (no encrypted values)")
    }
    io.stdout.write(lines.join("\n") + "\n")
}
