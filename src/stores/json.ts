/**
 * The JSON store (sops-format.md §7.2): one document, a top-level object, the
 * metadata as a trailing `"sops"` object.
 */
import { FormatError } from "../errors.js"
import type { Branch, Mapping, Node } from "../core/tree.js"
import { entry } from "../core/tree.js"
import type { EncryptedDocument, Store, StoreOptions } from "./store.js"
import { emitJsonBytes, jsonIndentUnit } from "./json-emit.js"
import { parseJsonDocument } from "./json-parse.js"

const encoder = new TextEncoder()

/** The one document a JSON file holds; sops writes only the first of several. */
export function singleBranch(branches: readonly Branch[]): Branch {
    const first = branches[0]
    if (first === undefined) throw new FormatError("there is no document to write")
    return first
}

/** Split the top-level `sops` object off a parsed document. */
export function splitJsonMetadata(doc: Mapping): EncryptedDocument {
    let metadata: Node | undefined
    for (const item of doc.items) {
        // json.Unmarshal, which sops uses for the metadata, keeps the last duplicate.
        if (item.kind === "entry" && item.key === "sops") metadata = item.value
    }
    if (metadata === undefined) {
        throw new FormatError("no sops metadata found in file", ["is the file encrypted?"])
    }
    if (metadata.kind !== "map") throw new FormatError("the sops metadata is not an object")
    const items = doc.items.filter((item) => !(item.kind === "entry" && item.key === "sops"))
    return { branches: [{ kind: "map", items }], metadata }
}

/**
 * A JSON store. `indent`: -1 (default) one tab, 0 newlines without indentation,
 * N > 0 spaces.
 */
export function createJsonStore(opts: StoreOptions = {}): Store {
    const indent = opts.indent ?? -1
    // Reject a bad indent when the store is made, not halfway through a command.
    jsonIndentUnit(indent)
    const text = (node: Node): Uint8Array => emitJsonBytes(node, indent, true)
    return {
        format: "json",
        parsePlain(input: Uint8Array): Branch[] {
            return [parseJsonDocument(input)]
        },
        parseEncrypted(input: Uint8Array): EncryptedDocument {
            return splitJsonMetadata(parseJsonDocument(input))
        },
        emitPlain(branches: readonly Branch[]): Uint8Array {
            return text(singleBranch(branches))
        },
        emitEncrypted(doc: EncryptedDocument): Uint8Array {
            const branch = singleBranch(doc.branches)
            // The metadata goes last (§6), and the output ends with a newline (sops ≥ 3.10).
            return text({ kind: "map", items: [...branch.items, entry("sops", doc.metadata)] })
        },
        emitValue(node: Node): Uint8Array {
            // decrypt --extract: a string comes out raw, a mapping as a whole document,
            // anything else as json.Marshal + json.Indent without a trailing newline.
            if (node.kind === "str") return encoder.encode(node.value)
            if (node.kind === "bytes") return node.value
            if (node.kind === "map") return text(node)
            return emitJsonBytes(node, indent, false)
        },
    }
}
