/**
 * The key paths of an encrypted file, for `set FILE <TAB>`, `unset FILE <TAB>` and
 * `--extract <TAB>`. sops encrypts values only, so the store parses the file as an
 * encrypted document and the paths are read off the tree without a data key. No
 * value is ever returned: the description is the value's type, which sops keeps in
 * clear too (`ENC[…,type:int]`).
 */
import type { Node } from "../../core/tree.js"
import { formatForPath, loadStore } from "../../stores/index.js"
import type { Candidate } from "./complete.js"

/** Bounds the output for huge files: completion lists are read by people. */
const MAX_PATHS = 2_000

/**
 * Every mapping key and list item of the first document (the one set/unset work on),
 * parents before children, in file order; `[]` when the file does not parse.
 */
export async function keyPathsOf(bytes: Uint8Array, file: string): Promise<Candidate[]> {
    let root
    try {
        const store = await loadStore(formatForPath(file))
        root = store.parseEncrypted(bytes).branches[0]
    } catch {
        return []
    }
    const out: Candidate[] = []
    if (root !== undefined) walk(root, "", out)
    return out
}

function walk(node: Node, prefix: string, out: Candidate[]): void {
    if (node.kind === "map") {
        for (const item of node.items) {
            if (item.kind !== "entry") continue
            // parseTreePath takes `["key"]` or `['key']` and unescapes nothing (as sops):
            // a key holding both quote characters cannot be written as a path.
            const quoted = !item.key.includes('"') ? `["${item.key}"]` : !item.key.includes("'") ? `['${item.key}']` : undefined
            if (quoted === undefined) continue
            visit(item.value, prefix + quoted, out)
        }
    } else if (node.kind === "list") {
        let index = 0
        for (const item of node.items) {
            if (item.kind === "comment") continue
            visit(item, `${prefix}[${index++}]`, out)
        }
    }
}

function visit(node: Node, path: string, out: Candidate[]): void {
    if (out.length >= MAX_PATHS) return
    out.push({ value: path, description: typeOf(node) })
    walk(node, path, out)
}

/** The type sops records for a value; an encrypted scalar is a `str` holding `ENC[…,type:T]`. */
function typeOf(node: Node): string {
    if (node.kind !== "str") return node.kind
    const m = /^ENC\[AES256_GCM,.*,type:(\w+)\]$/.exec(node.value)
    return m?.[1] ?? "str"
}
