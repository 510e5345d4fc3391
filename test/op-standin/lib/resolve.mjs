// Resolution rules shared by read, inject, run and the item commands (op-cli.md,
// Stand-in contract "Resolution rules"): vault by ID then case-insensitive name, item
// by ID then title, field with or without a section; op's own error texts.
import { OpFail } from "./common.mjs"
import { visibleVaults } from "./store.mjs"

const ci = (a, b) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase()

/** The vault named or identified by `spec`, or the vault-not-found failure. */
export function findVault(store, auth, spec) {
    const vaults = visibleVaults(store, auth)
    const v = vaults.find((x) => x.id === spec) ?? vaults.find((x) => ci(x.name, spec))
    if (!v) throw new OpFail(`"${spec}" isn't a vault in this account. Specify the vault with its ID or name.`)
    return v
}

/**
 * The item `spec` in `vaultSpec` (or in every visible vault): exact ID first (archived
 * included, as op does for IDs), then case-insensitive title, skipping archived items
 * unless asked. Several matches give op's multi-line ambiguity block (§3).
 */
export function findItem(store, auth, spec, vaultSpec, includeArchive) {
    const vaults = vaultSpec !== undefined ? [findVault(store, auth, vaultSpec)] : visibleVaults(store, auth)
    for (const vault of vaults) {
        const item = vault.items.find((i) => i.id === spec)
        if (item) return { vault, item }
    }
    const matches = []
    for (const vault of vaults) {
        for (const item of vault.items) {
            if (ci(item.title, spec) && (includeArchive || !item.archived)) matches.push({ vault, item })
        }
    }
    if (matches.length === 1) return matches[0]
    if (matches.length > 1) {
        // op's text ends the first line with "ID: " (trailing space), then one tab line per match.
        const lines = matches.map((m) => `\t* for the item "${m.item.title}" in vault ${m.vault.name}: ${m.item.id}`)
        throw new OpFail(`More than one item matches "${spec}". Try again and specify the item by its ID: \n${lines.join("\n")}`)
    }
    if (vaultSpec !== undefined) {
        throw new OpFail(`"${spec}" isn't an item in the "${vaults[0].name}" vault. Specify the item with its UUID, name, or domain.`)
    }
    throw new OpFail(`"${spec}" isn't an item. Specify the item with its UUID, name, or domain.`)
}

/**
 * Split `op://vault/item[/section]/field[?query]` (op-cli.md §1). Exactly 3 or 4
 * segments; the query is `attribute=`/`attr=` and `ssh-format=`.
 */
export function parseReference(ref) {
    if (!ref.startsWith("op://")) {
        // [?] op's text for a missing scheme is not captured; stand-in choice.
        throw new OpFail(`invalid secret reference '${ref}': secret references must start with 'op://'`)
    }
    const q = ref.indexOf("?")
    const path = q < 0 ? ref.slice(5) : ref.slice(5, q)
    const query = new URLSearchParams(q < 0 ? "" : ref.slice(q + 1))
    const parts = path.split("/")
    if (parts.length < 3) {
        throw new OpFail(`invalid secret reference '${ref}': too few '/': secret references should have at least vault, item and field specified`)
    }
    if (parts.length > 4) {
        throw new OpFail(`invalid secret reference '${ref}': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>`)
    }
    const [vault, item] = parts
    const section = parts.length === 4 ? parts[2] : undefined
    const field = parts[parts.length - 1]
    return { vault, item, section, field, attribute: query.get("attribute") ?? query.get("attr") ?? undefined, sshFormat: query.get("ssh-format") ?? undefined }
}

const fieldMatches = (f, name) => ci(f.label, name) || ci(f.id, name)

/**
 * The field (or file) a reference names. With a section: the section by label or id,
 * then the field by label or id inside it. Without: top-level fields first, then any
 * section, then files by name, then `website` as the item's primary URL.
 */
export function findField(item, r) {
    const fields = item.fields ?? []
    const files = item.files ?? []
    if (r.section !== undefined) {
        const sections = (item.sections ?? []).filter((s) => ci(s.label, r.section) || ci(s.id, r.section))
        const ids = new Set(sections.map((s) => s.id))
        const field = fields.find((f) => f.section?.id && ids.has(f.section.id) && fieldMatches(f, r.field))
        if (field) return { field }
        const file = files.find((f) => f.section?.id && ids.has(f.section.id) && (ci(f.name, r.field) || ci(f.id, r.field)))
        if (file) return { file }
        return undefined
    }
    const field = fields.find((f) => !f.section?.id && fieldMatches(f, r.field)) ?? fields.find((f) => fieldMatches(f, r.field))
    if (field) return { field }
    const file = files.find((f) => ci(f.name, r.field) || ci(f.id, r.field))
    if (file) return { file }
    if (ci(r.field, "website")) {
        const url = (item.urls ?? []).find((u) => u.primary) ?? (item.urls ?? [])[0]
        if (url) return { field: { id: "website", type: "URL", label: "website", value: url.href } }
    }
    return undefined
}
