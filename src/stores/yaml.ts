/**
 * The YAML store: byte-compatible with what sops 3.13 (go.yaml.in/yaml/v3 v3.0.4)
 * reads and writes (sops-format.md §6, §7.1, §11).
 *
 * Parsing lives in yaml-parse.ts (typing in yaml-resolve.ts); writing goes tree ->
 * events (yaml-events.ts) -> a port of yaml.v3's emitter (yaml-emitter.ts).
 */
import { FormatError } from "../errors.js"
import type { Branch, MapItem, Mapping, Node } from "../core/tree.js"
import type { EncryptedDocument, Store, StoreOptions } from "./store.js"
import { emitEvents } from "./yaml-emitter.js"
import { documentEvents, valueEvents } from "./yaml-events.js"
import { readCanonical } from "./yaml-canonical.js"
import { generalYaml } from "./yaml-general.js"

const encoder = new TextEncoder()

function decodeText(input: Uint8Array): string {
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(input)
    } catch {
        throw new FormatError("invalid YAML: the input is not valid UTF-8")
    }
}

/**
 * parseEncrypted's general path, for any YAML file sops reads: the `yaml` package
 * and our typing (loaded on first use, yaml-general.ts). Exported for the tests that
 * hold the canonical reader to it.
 */
export function parseEncryptedYaml(text: string): EncryptedDocument {
    const docs = generalYaml().parseYaml(text)
    const first = docs[0]
    let metadata: Mapping | undefined
    for (const item of first?.items ?? []) {
        if (item.kind === "entry" && item.key === "sops") {
            if (item.value.kind !== "map") throw new FormatError("sops metadata is not a mapping")
            metadata = item.value
            break
        }
    }
    if (metadata === undefined) throw new FormatError("sops metadata not found")
    // sops repeats the metadata in every document and strips it from all of them.
    const branches = docs.map((d) => ({
        kind: "map" as const,
        items: d.items.filter((it) => !(it.kind === "entry" && it.key === "sops")),
    }))
    return { branches, metadata }
}

/**
 * A block scalar header with an indentation indicator (`|4-`, `>2`): the emitter
 * writes one only for a multi-line string that starts with a space or a line
 * break. Anchored at a line's end, no nested quantifier: linear on any text.
 */
const INDENT_INDICATOR = /[|>](?:[1-9][+-]?|[+-][1-9])$/m

/**
 * Refuse to write an encrypted file that could not be read back. go-yaml (and so
 * sops, and our emitter, which writes its bytes) counts the indentation indicator
 * of a block scalar in a list item from the wrong column (docs/format.md, "a flaw
 * we share with sops"): such a value kept in clear (`unencrypted_suffix`, …) would
 * make a file that neither sops nor secrets can open, and the values in it lost.
 * Only text with such a header is read again, so other writes pay for one scan.
 */
function refuseUnreadable(text: string): void {
    if (!INDENT_INDICATOR.test(text)) return
    try {
        parseEncryptedYaml(text)
    } catch {
        throw new FormatError("error emitting YAML: the file would not read back (a multi-line value kept in clear in a list starts with a space or a line break, which YAML writers sops uses cannot write readably)", [
            "encrypt that value (do not keep it in clear), or start it with another character",
        ])
    }
}

/** Creates the YAML store; `indent` outside 2–9 becomes 2 as in libyaml (default 4). */
export function createYamlStore(opts: StoreOptions = {}): Store {
    const requested = opts.indent ?? 4
    const indent = requested < 2 || requested > 9 ? 2 : requested

    const emitDocs = (docs: readonly MapItem[][]): Uint8Array =>
        docs.length === 0 ? new Uint8Array() : encoder.encode(emitEvents(documentEvents(docs), indent))

    return {
        format: "yaml",

        parsePlain(input: Uint8Array): Branch[] {
            return generalYaml().parseYaml(decodeText(input))
        },

        parseEncrypted(input: Uint8Array): EncryptedDocument {
            const text = decodeText(input)
            // A file exactly as the emitter writes it (as sops and secrets write files
            // without comments at this indentation, in the common case) is read by a line
            // parser, and accepted only when re-emitting its tree gives the same bytes, so
            // the tree is the one the general parser gives (yaml-canonical.ts says why).
            // A small decrypt then never loads the `yaml` package (yaml-general.ts).
            const canonical = readCanonical(text, indent)
            if (canonical !== undefined) return canonical.doc
            return parseEncryptedYaml(text)
        },

        emitPlain(branches: readonly Branch[]): Uint8Array {
            return emitDocs(branches.map((b) => b.items))
        },

        emitEncrypted(doc: EncryptedDocument): Uint8Array {
            const sops: MapItem = { kind: "entry", key: "sops", value: doc.metadata }
            const docs = doc.branches.map((b) => [...b.items, sops])
            if (docs.length === 0) return new Uint8Array()
            const text = emitEvents(documentEvents(docs), indent)
            refuseUnreadable(text)
            return encoder.encode(text)
        },

        emitValue(node: Node): Uint8Array {
            if (node.kind === "str") return encoder.encode(node.value)
            if (node.kind === "bytes") return node.value
            return encoder.encode(emitEvents(valueEvents(node), indent))
        },
    }
}
