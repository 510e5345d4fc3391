/**
 * What `secrets import` does to a document (pure): every leaf of the imported
 * mapping is upserted at its key path (under `--at` if given), and with
 * `deleteMissing` every leaf under the same place that the import does not have is
 * removed, so the file mirrors the source. A leaf is a scalar or a list (a list is
 * replaced whole: its items have no names to match). The caller re-seals with the
 * IV stash, so an unchanged leaf keeps its exact ciphertext and a run that changes
 * nothing writes nothing.
 *
 * The summary names key paths only, never values.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { Branch, Node } from "../core/tree.js"
import { describePath, getAt, setAt, unsetAt, type PathStep } from "../core/tree-path.js"
import { sameNode } from "../core/same-node.js"

export interface ImportSummary {
    readonly added: string[]
    readonly updated: string[]
    readonly unchanged: string[]
    readonly deleted: string[]
}

export interface ImportResult {
    readonly doc: Branch
    readonly summary: ImportSummary
    readonly changed: boolean
}

/** The leaves of a node as [path, value], in document order. An empty mapping is a leaf too (it has nothing under it to upsert). */
export function leaves(node: Node, base: readonly PathStep[] = []): [PathStep[], Node][] {
    if (node.kind !== "map" || node.items.every((i) => i.kind === "comment")) return base.length === 0 ? [] : [[[...base], node]]
    return node.items.flatMap((item) => (item.kind === "entry" ? leaves(item.value, [...base, item.key]) : []))
}

export interface ImportOptions {
    readonly at: readonly PathStep[]
    readonly deleteMissing: boolean
    /** The encrypted file is dotenv, where every top-level `sops_` key is metadata. */
    readonly dotenv: boolean
}

export function planImport(current: Branch, imported: Branch, opts: ImportOptions): ImportResult {
    const { at, deleteMissing } = opts
    if (at.some((s) => typeof s === "number")) {
        throw new SecretsError(ExitCode.InvalidTreePathFormat, "--at names a place by mapping keys only, e.g. '[\"app\"][\"prod\"]'")
    }
    const reserved = (key: string) => key === "sops" || (opts.dotenv && key.startsWith("sops_"))
    const tops = at.length > 0 ? [String(at[0])] : imported.items.flatMap((i) => (i.kind === "entry" ? [i.key] : []))
    const clash = tops.find(reserved)
    if (clash !== undefined) {
        throw new SecretsError(ExitCode.InvalidSetFormat, `the top-level key ${quote(clash)} is reserved for the file's sops metadata`, [
            "import under another key with --at, or rename the key in the source",
        ])
    }
    const target = getAt(current, at)
    if (at.length > 0 && target !== undefined && target.kind !== "map") {
        throw new SecretsError(ExitCode.InvalidSetFormat, `${describePath(at)} holds a value, not a mapping, so nothing can be imported under it`)
    }
    const summary: ImportSummary = { added: [], updated: [], unchanged: [], deleted: [] }
    let doc = current
    const wanted = new Set<string>()
    for (const [rel, value] of leaves(imported)) {
        const path = [...at, ...rel]
        wanted.add(describePath(path))
        const before = getAt(doc, path)
        if (before === undefined) summary.added.push(describePath(path))
        else if (sameNode(before, value)) {
            summary.unchanged.push(describePath(path))
            continue
        } else summary.updated.push(describePath(path))
        doc = setAt(doc, path, value)
    }
    if (deleteMissing && target !== undefined) {
        for (const [rel] of leaves(target, [])) {
            const path = [...at, ...rel]
            if (wanted.has(describePath(path)) || isUnderWanted(path, wanted)) continue
            const next = unsetAt(doc, path)
            if (next === undefined) continue
            doc = next
            summary.deleted.push(describePath(path))
        }
    }
    const changed = summary.added.length + summary.updated.length + summary.deleted.length > 0
    return { doc, summary, changed }
}

/** A path below an imported leaf (the import replaced a mapping by a value) was already replaced, not deleted. */
function isUnderWanted(path: readonly PathStep[], wanted: Set<string>): boolean {
    for (let k = 1; k < path.length; k++) if (wanted.has(describePath(path.slice(0, k)))) return true
    return false
}
