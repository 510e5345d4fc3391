/**
 * Turning a config issue path into `file:line: field.path: message`, the way compilers
 * report, so a bad `.sops.yaml` points at the line to fix.
 *
 * Lines come from the yaml Document's node ranges: the path is followed through the
 * parsed nodes (resolving aliases, so a bad value reached through `*alias` points at
 * its anchor, where the fix goes) and the deepest node found gives the offset.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml"

export type IssuePath = readonly PropertyKey[]

/** `creation_rules[1].age`: keys joined with dots, indices in brackets. */
export function formatPath(path: IssuePath): string {
    let out = ""
    for (const seg of path) {
        if (typeof seg === "number") out += `[${seg}]`
        else out += out === "" ? String(seg) : `.${String(seg)}`
    }
    return out
}

/**
 * The 1-based line of the node at `path`, or of its nearest ancestor that exists.
 * With `key`, a mapping entry's line is that of its key (for "unknown field" warnings
 * and for values that are missing or empty).
 */
export function lineOf(doc: Document, counter: LineCounter, path: IssuePath, key = false): number {
    let node: unknown = doc.contents
    let offset = rangeStart(node) ?? 0
    for (const [i, seg] of path.entries()) {
        node = resolve(doc, node)
        let next: unknown
        let keyNode: unknown
        if (isMap(node)) {
            const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg))
            keyNode = pair?.key
            next = pair?.value
        } else if (isSeq(node) && typeof seg === "number") {
            next = node.items[seg]
        }
        if (next === undefined && keyNode === undefined) break
        next = resolve(doc, next)
        const last = i === path.length - 1
        const at = (key && last ? rangeStart(keyNode) : undefined) ?? rangeStart(next) ?? rangeStart(keyNode)
        if (at !== undefined) offset = at
        if (next === undefined || next === null) break
        node = next
    }
    return counter.linePos(offset).line
}

function resolve(doc: Document, node: unknown): unknown {
    // Bounded: an alias can only point at an anchor defined before it.
    for (let i = 0; i < 1000 && isAlias(node); i++) node = node.resolve(doc)
    return node
}

function rangeStart(node: unknown): number | undefined {
    if (node === null || node === undefined || typeof node !== "object") return undefined
    const range = (node as Partial<Node>).range
    return range?.[0]
}

/** The hint that helps with a field, by its last named component. */
export function hintFor(path: IssuePath): string | undefined {
    const names = path.filter((s): s is string => typeof s === "string")
    const last = names[names.length - 1]
    const inGroup = names.includes("key_groups")
    switch (last) {
        case "age":
            return inGroup
                ? "inside key_groups, age is a YAML list of recipients"
                : "age takes a recipient, several separated by commas, or a YAML list of recipients"
        case "pgp":
        case "kms":
        case "gcp_kms":
        case "azure_keyvault":
        case "hc_vault_transit_uri":
            return `${last} takes one string of comma-separated keys or a YAML list of strings`
        case "path_regex":
            return "path_regex is a Go regular expression matched against the file's path relative to the config's directory"
        case "shamir_threshold":
            return "shamir_threshold is a whole number; 0 means the number of key groups"
        case "indent":
            return "indent is a whole number of spaces (for JSON, -1 means one tab)"
        case "key_groups":
        case "merge":
            return "key_groups is a list of mappings such as {age: [age1…], merge: [...]}"
        case "mac_only_encrypted":
            return "mac_only_encrypted is true or false"
        case "creation_rules":
            return "creation_rules is a list of rules, each a mapping starting with - path_regex: …"
        default:
            if (last?.endsWith("_regex") === true) return `${last} is a Go regular expression`
            return undefined
    }
}
