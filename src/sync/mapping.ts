/**
 * The mapping file of `secrets op pull|push|sync --mapping MAP` (issue 5 §2–§3): a
 * YAML or JSON document that mirrors the target file's tree, whose leaves are
 * 1Password secret references:
 *
 * ```yaml
 * db:
 *     password: op://Prod/db/password
 * '["api"]["keys"][0]': op://Prod/api/credential   # flat form: a top-level key in index syntax
 * ```
 *
 * A mapping holds no secret (references name things, op-cli.md §1), so its key
 * paths and references may appear in messages; its other text still does not,
 * because a value pasted by mistake in place of a reference would be a secret.
 */
import { parseDocument } from "yaml"
import { FormatError, quote } from "../errors.js"
import { describePath, parseTreePath, type PathStep } from "../core/tree-path.js"
import type { OpReference } from "../integrations/op-types.js"
import { isOpReference, parseOpReference } from "../integrations/op-reference.js"

/** One leaf of a mapping: where the value goes in the target file, and where it lives in 1Password. */
export interface MappedValue {
    readonly path: readonly PathStep[]
    readonly reference: OpReference
}

/**
 * Parse the mapping file `name` (its text). Throws FormatError naming the file and
 * the key path for: YAML/JSON syntax errors (by line and column), a leaf that is not
 * an `op://` reference, a malformed reference, a list, two spellings of one path,
 * and an empty mapping.
 */
export function parseMapping(text: string, name: string): MappedValue[] {
    const where = `mapping ${quote(name)}`
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
    const first = doc.errors[0]
    if (first !== undefined) {
        // The yaml library's own message can quote the line; give the position only.
        const pos = first.linePos?.[0]
        const at = pos ? `line ${pos.line}, column ${pos.col}` : "its start"
        throw new FormatError(`${where} is not valid YAML or JSON (${first.code.toLowerCase().replace(/_/g, " ")} at ${at})`)
    }
    const root: unknown = doc.toJS({ maxAliasCount: 100 })
    if (root === null || root === undefined) throw new FormatError(`${where} is empty`, [MAPPING_HINT])
    if (!isPlainObject(root)) throw new FormatError(`${where} must be a mapping of keys to op:// references`, [MAPPING_HINT])

    const out: MappedValue[] = []
    const seen = new Set<string>()
    const add = (path: PathStep[], leaf: unknown): void => {
        const shown = describePath(path)
        if (typeof leaf !== "string") {
            throw new FormatError(`${where}: ${shown} must be an op:// reference, not ${describeKind(leaf)}`, [MAPPING_HINT])
        }
        if (!isOpReference(leaf)) {
            // Never echo it: a value pasted here by mistake is a secret.
            throw new FormatError(`${where}: ${shown} is not an op:// reference`, [MAPPING_HINT])
        }
        let reference: OpReference
        try {
            reference = parseOpReference(leaf)
        } catch (e) {
            throw new FormatError(`${where}: ${shown}: ${(e as Error).message}`, (e as { hints?: readonly string[] }).hints ?? [])
        }
        if (seen.has(shown)) throw new FormatError(`${where} names ${shown} twice`)
        seen.add(shown)
        out.push({ path, reference })
    }
    const walk = (path: PathStep[], node: unknown): void => {
        if (isPlainObject(node)) {
            const keys = Object.keys(node)
            if (keys.length === 0) throw new FormatError(`${where}: ${describePath(path)} is an empty mapping`)
            for (const k of keys) walk([...path, k], node[k])
        } else if (Array.isArray(node)) {
            throw new FormatError(`${where}: ${describePath(path)} is a list; lists are not supported in a mapping`, [
                `use the flat form for list items: '${describePath([...path, 0])}': op://vault/item/field`,
            ])
        } else {
            add(path, node)
        }
    }
    for (const [key, value] of Object.entries(root)) {
        if (key.startsWith("[")) {
            // The flat form: a whole index path as one top-level key.
            let path: PathStep[]
            try {
                path = parseTreePath(key)
            } catch {
                throw new FormatError(`${where}: the key ${quote(key)} starts with [ but is not an index path like ["db"]["password"]`)
            }
            if (isPlainObject(value) || Array.isArray(value)) {
                throw new FormatError(`${where}: ${describePath(path)} is written in the flat form, so its value must be one op:// reference`)
            }
            add(path, value)
        } else {
            walk([key], value)
        }
    }
    if (out.length === 0) throw new FormatError(`${where} has no references`, [MAPPING_HINT])
    rejectOverlaps(out, where)
    return out
}

/** A path that is a prefix of another would ask for a value and a mapping at one place. */
function rejectOverlaps(values: readonly MappedValue[], where: string): void {
    const shown = values.map((v) => describePath(v.path))
    for (const a of shown) {
        for (const b of shown) {
            if (a !== b && b.startsWith(a)) throw new FormatError(`${where}: ${a} is a reference and also holds ${b}`)
        }
    }
}

const MAPPING_HINT = "a mapping mirrors the file's tree with op:// references as leaves, e.g. db: {password: op://Prod/db/password}"

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array)
}

function describeKind(v: unknown): string {
    if (v === null) return "null"
    if (typeof v === "number" || typeof v === "bigint") return "a number"
    if (typeof v === "boolean") return "a boolean"
    return "a non-string value"
}
