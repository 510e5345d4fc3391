/**
 * Pulling whole items (`secrets op pull FILE --vault V [--item I…] [--tags T]`):
 * which items are fetched, and where each field lands in the file.
 *
 * The shape, by target format (documented in docs/1password.md):
 *
 * - YAML / JSON: `<item title>: {<field label>: value}`; a field in a labelled
 *   section nests one level deeper, `<item title>: {<section label>: {<field label>: value}}`.
 *   Sections without a label (the app's default "add more" section) add no level.
 * - INI: one INI section per item, `[<item title>]`, with `<field label>` keys;
 *   a field in a labelled section is `<section label>.<field label>`.
 * - dotenv: one flat key per field, `ITEM_FIELD` or `ITEM_SECTION_FIELD` in upper
 *   snake case (every run of characters other than A-Z and 0-9 becomes `_`).
 *
 * With `flat` (`--item NAME --flat`: the file is that one item) the item level is
 * left out: YAML / JSON `<field label>: value` or `<section label>: {<field label>: value}`,
 * dotenv `FIELD` / `SECTION_FIELD`, INI `[<section label>]` with `<field label>`
 * keys (a field outside a section has no place in INI and is an error). This is
 * the inverse of `op push FILE --item NAME` (to-items.ts).
 *
 * A field's name is its label, or its id when it has no label (as op builds
 * references, op-cli.md §1). Fields with no value are left out: op omits `value`
 * for empty fields, and an empty `notesPlain` on every Login would be noise. Two
 * fields landing on one key are an error naming both references, never a guess.
 */
import { FormatError, SecretsError, ExitCode, quote } from "../errors.js"
import { describePath, type PathStep } from "../core/tree-path.js"
import type { Format } from "../stores/store.js"
import type { OpClient, OpField, OpItem } from "../integrations/op-types.js"
import type { PruneScope, WantedValue } from "./plan.js"

/** Which items a vault pull takes. */
export interface ItemSelection {
    readonly vault: string
    /** Titles or IDs; when given, only these are fetched (no listing). */
    readonly items?: readonly string[]
    /** Only items with one of these tags (op's `--tags`, nested tags match too). */
    readonly tags?: readonly string[]
    /** The file is the one named item: its fields without the item level. */
    readonly flat?: boolean
}

/**
 * Fetch the selected items with their values. Named items cost one `item get`
 * each; a whole vault costs one `item list` and then one `item get` per item by
 * vault and item ID, the cheapest form for a service account (op-cli.md §4, §8).
 */
export async function fetchItems(client: OpClient, sel: ItemSelection): Promise<OpItem[]> {
    if (sel.items !== undefined && sel.items.length > 0) {
        const unique: string[] = []
        for (const i of sel.items) if (!unique.some((u) => u.toLowerCase() === i.toLowerCase())) unique.push(i)
        const out: OpItem[] = []
        for (const i of unique) out.push(await client.getItem(sel.vault, i))
        return out
    }
    const summaries = await client.listItems(sel.vault, sel.tags !== undefined && sel.tags.length > 0 ? { tags: sel.tags } : undefined)
    const out: OpItem[] = []
    for (const s of summaries) out.push(await client.getItem(s.vault.id, s.id))
    return out
}

/** The values of `items` placed by the shape rules above for a `format` target. */
export function itemsToWanted(items: readonly OpItem[], format: Format, flat = false): WantedValue[] {
    if (format === "binary") {
        throw new SecretsError(ExitCode.ConflictingParameters, "a binary file holds one blob, not named values: pull into a .yaml, .json, .env or .ini file", [
            "or pass --input-type yaml (json, dotenv, ini) to say what the file is",
        ])
    }
    const out: WantedValue[] = []
    const taken = new Map<string, string>()
    for (const item of items) {
        for (const field of item.fields ?? []) {
            if (field.value === undefined) continue
            const path = placeField(item, field, format, flat)
            const source = field.reference ?? `op://${item.vault.name}/${item.title}/${fieldName(field)}`
            const shown = describePath(path)
            const other = taken.get(shown)
            if (other !== undefined) {
                throw new FormatError(`${other} and ${source} both land on ${shown}`, [
                    "rename one of the fields (or items) in 1Password, or pull with --mapping to choose the key paths",
                ])
            }
            taken.set(shown, source)
            out.push({ path, value: field.value, source })
        }
    }
    return out
}

/** Where `--prune` may remove keys after a vault pull: the whole file, or the named items' keys. */
export function itemScopes(items: readonly OpItem[], sel: ItemSelection, format: Format): PruneScope[] {
    if (sel.items === undefined || sel.items.length === 0 || sel.flat === true) return [{ path: [] }]
    return items.map((item) => (format === "dotenv" ? { path: [], keyPrefix: `${envName([item.title])}_` } : { path: [item.title] }))
}

function placeField(item: OpItem, field: OpField, format: Format, flat: boolean): PathStep[] {
    const name = fieldName(field)
    const section = field.section?.label !== undefined && field.section.label !== "" ? field.section.label : undefined
    if (flat) {
        if (format === "dotenv") return [envName(section === undefined ? [name] : [section, name])]
        if (section !== undefined) return [section, name]
        if (format === "ini") {
            throw new FormatError(`${field.reference ?? `op://${item.vault.name}/${item.title}/${name}`} is outside any section, and an INI file has no place for it`, [
                "pull without --flat (one [item] section), or into a .yaml, .json or .env file",
            ])
        }
        return [name]
    }
    switch (format) {
        case "dotenv":
            return [envName(section === undefined ? [item.title, name] : [item.title, section, name])]
        case "ini":
            return [item.title, section === undefined ? name : `${section}.${name}`]
        default:
            return section === undefined ? [item.title, name] : [item.title, section, name]
    }
}

function fieldName(f: OpField): string {
    return f.label !== undefined && f.label !== "" ? f.label : f.id
}

/** `["db prod", "password"]` -> `DB_PROD_PASSWORD`. */
export function envName(parts: readonly string[]): string {
    const name = parts
        .map((p) => p.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, ""))
        .filter((p) => p !== "")
        .join("_")
    if (name === "") throw new FormatError(`no dotenv name can be made from ${quote(parts.join("/"))}`, ["pull with --mapping to choose the key"])
    return /^[0-9]/.test(name) ? `_${name}` : name
}
