/**
 * Pushing a file's values to 1Password (`secrets op push`): which items get which
 * fields, and the item template that `op item create -` / `op item edit ITEM`
 * read on stdin (op-cli.md §4), so that no value ever goes on op's argv.
 *
 * Two ways to say where values go:
 * - a mapping (the same file `op pull` reads): each reference names the item, the
 *   optional section and the field of the value at its key path;
 * - one item per top-level key (the default, YAML/JSON/INI): `db: {password: x,
 *   creds: {user: y}}` becomes item "db" with field "password" and field "user" in
 *   section "creds" — the inverse of the vault pull shape, so push then pull is a
 *   round trip.
 *
 * - the whole file as one item (`--item NAME`, any format but binary): top-level
 *   values become fields and a top-level mapping one section, `db: {password: x}`
 *   field "password" in section "db"; a dotenv file's keys are the field names.
 *   The inverse of `op pull FILE --item NAME --flat`.
 *
 * New fields are CONCEALED custom fields with an empty id, which 1Password fills
 * in ("If left empty, 1Password will generate a random ID", item JSON template
 * docs); new items are Secure Notes, the category with no required built-in
 * fields (a Password item without a password is refused, op-cli.md §4). An
 * edited item keeps everything the file does not mention: other fields, sections,
 * tags, URLs, its category and the types of existing fields.
 */
import { FormatError, quote } from "../errors.js"
import type { Branch, Node } from "../core/tree.js"
import { describePath, getAt, type PathStep } from "../core/tree-path.js"
import type { Format } from "../stores/store.js"
import type { OpField, OpItem, OpItemTemplate } from "../integrations/op-types.js"
import type { MappedValue } from "./mapping.js"
import { findField, itemKey } from "./resolve.js"

/** One value to write into an item. */
export interface PushField {
    readonly section?: string
    readonly field: string
    readonly value: string
    /** Where it comes from in the file, for messages. */
    readonly path: readonly PathStep[]
}

/** One item to create or edit. `item` is a title (or an ID, from a mapping). */
export interface ItemTarget {
    readonly vault: string
    readonly item: string
    readonly fields: readonly PushField[]
}

/** What a push does to one item. */
export type PushAction = "create" | "update" | "unchanged"

export interface ItemChange {
    readonly action: PushAction
    readonly template: OpItemTemplate
    /** Fields added or changed, as `section.field` or `field`; never values. */
    readonly fields: readonly string[]
}

/** The targets a mapping describes, with each value read from the file's first document. */
export function targetsFromMapping(tree: Branch, mapped: readonly MappedValue[], file: string): ItemTarget[] {
    const groups = new Map<string, { vault: string; item: string; fields: PushField[] }>()
    for (const m of mapped) {
        const node = getAt(tree, m.path)
        if (node === undefined) {
            throw new FormatError(`${quote(file)} has no value at ${describePath(m.path)}, which the mapping sends to ${m.reference.text}`, [
                "set it first, or remove it from the mapping",
            ])
        }
        const ref = m.reference
        const key = itemKey(ref)
        let g = groups.get(key)
        if (g === undefined) {
            g = { vault: ref.vault, item: ref.item, fields: [] }
            groups.set(key, g)
        }
        g.fields.push({ ...(ref.section !== undefined ? { section: ref.section } : {}), field: ref.field, value: valueText(node, m.path, file), path: m.path })
    }
    return [...groups.values()]
}

/** One item per top-level key (YAML, JSON, INI). Throws for dotenv and for values that do not fit. */
export function targetsFromTopLevel(tree: Branch, vault: string, format: Format, file: string): ItemTarget[] {
    if (format === "dotenv" || format === "binary") {
        throw new FormatError(`${quote(file)} has no top-level mappings to turn into items`, [
            "push a flat file with --mapping, e.g. DB_PASSWORD: op://Prod/db/password",
        ])
    }
    const out: ItemTarget[] = []
    for (const top of tree.items) {
        if (top.kind !== "entry" || top.key === "sops") continue
        const itemPath = [top.key]
        if (top.value.kind !== "map") {
            throw new FormatError(`${quote(file)}: ${describePath(itemPath)} is not a mapping, so it cannot become an item`, [
                "each top-level key becomes an item and its keys become fields; use --mapping for other shapes",
            ])
        }
        const fields: PushField[] = []
        for (const f of top.value.items) {
            if (f.kind !== "entry") continue
            const path = [top.key, f.key]
            if (f.value.kind === "map") {
                for (const s of f.value.items) {
                    if (s.kind !== "entry") continue
                    const inner = [...path, s.key]
                    fields.push({ section: f.key, field: s.key, value: valueText(s.value, inner, file), path: inner })
                }
            } else {
                fields.push({ field: f.key, value: valueText(f.value, path, file), path })
            }
        }
        out.push({ vault, item: top.key, fields })
    }
    return out
}

/** The whole file as the one item `item`: top-level values are fields, a top-level mapping a section. */
export function targetsFromFile(tree: Branch, vault: string, item: string, file: string): ItemTarget[] {
    const fields: PushField[] = []
    for (const top of tree.items) {
        if (top.kind !== "entry" || top.key === "sops") continue
        if (top.value.kind !== "map") {
            fields.push({ field: top.key, value: valueText(top.value, [top.key], file), path: [top.key] })
            continue
        }
        for (const f of top.value.items) {
            if (f.kind !== "entry") continue
            const path = [top.key, f.key]
            fields.push({ section: top.key, field: f.key, value: valueText(f.value, path, file), path })
        }
    }
    return [{ vault, item, fields }]
}

/** A scalar as the text 1Password stores; mappings and lists cannot be one field. */
function valueText(node: Node, path: readonly PathStep[], file: string): string {
    switch (node.kind) {
        case "str":
        case "time":
            return node.value
        case "int":
            return node.value.toString()
        case "float":
            return String(node.value)
        case "bool":
            return node.value ? "true" : "false"
        case "null":
            return ""
        case "bytes": {
            try {
                return new TextDecoder("utf-8", { fatal: true }).decode(node.value)
            } catch {
                throw new FormatError(`${quote(file)}: ${describePath(path)} is not UTF-8 text, which a 1Password field cannot hold`)
            }
        }
        case "map":
        case "list":
            throw new FormatError(`${quote(file)}: ${describePath(path)} is a ${node.kind === "map" ? "mapping" : "list"}, not one value`, [
                "a field holds one value; map the keys inside it one by one",
            ])
    }
}

/**
 * The template for `target`: a new Secure Note when `existing` is undefined, else
 * `existing` with the target's fields set (matched by op's field rules, see
 * resolve.ts) and new ones appended. `unchanged` when every value is already there.
 */
export function planItem(target: ItemTarget, existing: OpItem | undefined): ItemChange {
    if (existing === undefined) {
        const sections = newSections(target.fields, [])
        const template: OpItemTemplate = {
            title: target.item,
            category: "SECURE_NOTE",
            ...(sections.length > 0 ? { sections } : {}),
            fields: target.fields.map((f) => newField(f, sections)),
        }
        return { action: "create", template, fields: target.fields.map(fieldName) }
    }
    const fields: OpField[] = [...(existing.fields ?? [])]
    const sections = [...(existing.sections ?? [])]
    sections.push(...newSections(target.fields.filter((f) => findField(existing, f.section, f.field) === undefined), sections))
    const touched: string[] = []
    const added: OpField[] = []
    for (const f of target.fields) {
        const match = findField({ ...existing, fields: [...fields, ...added] }, f.section, f.field)
        if (match === undefined) {
            added.push(newField(f, sections))
            touched.push(fieldName(f))
        } else if ((match.value ?? "") !== f.value) {
            const i = fields.indexOf(match)
            if (i >= 0) fields[i] = { ...match, value: f.value }
            else added[added.indexOf(match)] = { ...match, value: f.value }
            touched.push(fieldName(f))
        }
    }
    // Spread the item as op printed it, so keys this program does not model (urls,
    // favorite, password history) go back unchanged with the whole-item template.
    const template: OpItemTemplate = {
        ...existing,
        title: existing.title,
        category: existing.category,
        vault: { id: existing.vault.id },
        ...(sections.length > 0 ? { sections } : {}),
        fields: [...fields, ...added],
    }
    return { action: touched.length === 0 ? "unchanged" : "update", template, fields: touched }
}

/** A new CONCEALED custom field; its section is an existing one when the name matches one. */
function newField(f: PushField, sections: readonly { id: string; label?: string }[] = []): OpField {
    const name = f.section?.toLowerCase()
    const section = name === undefined ? undefined : sections.find((s) => s.id.toLowerCase() === name || s.label?.toLowerCase() === name)
    return {
        id: "",
        type: "CONCEALED",
        label: f.field,
        value: f.value,
        ...(f.section !== undefined ? { section: section ?? { id: f.section, label: f.section } } : {}),
    }
}

/** Sections the fields need that `have` lacks; a new section's id is its label. */
function newSections(fields: readonly PushField[], have: readonly { id: string; label?: string }[]): { id: string; label: string }[] {
    const out: { id: string; label: string }[] = []
    const known = (name: string) =>
        [...have, ...out].some((s) => s.id.toLowerCase() === name.toLowerCase() || s.label?.toLowerCase() === name.toLowerCase())
    for (const f of fields) if (f.section !== undefined && !known(f.section)) out.push({ id: f.section, label: f.section })
    return out
}

function fieldName(f: PushField): string {
    return f.section === undefined ? f.field : `${f.section}.${f.field}`
}
