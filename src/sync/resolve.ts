/**
 * Resolving a mapping's references to values with as few `op` calls as possible.
 *
 * One `op item get` per distinct vault/item, not one `op read` per reference: a
 * service account pays 3 reads for either call (1 with IDs, op-cli.md §4 "Request
 * cost"), so an item with five mapped fields costs 3 reads instead of 15, and the
 * hourly limits (§8) are reached five times later. The field is then picked from
 * the item JSON with op's own rules. Two cases go to `op read` instead, because
 * only op can answer them: references with a query (`?attribute=otp`,
 * `?ssh-format=openssh`) and names that match no field (a file attachment, or a
 * genuinely missing field, for which op prints its own error text).
 */
import type { OpClient, OpField, OpItem, OpReference } from "../integrations/op-types.js"
import type { MappedValue } from "./mapping.js"
import type { WantedValue } from "./plan.js"

/**
 * The field `ref` names in `item`, by op's resolution rules (op-cli.md "Stand-in
 * contract", resolution rules): names are case-insensitive and may be IDs; with a
 * section, the section's label or id must match too; without one, a top-level field
 * wins over a field in a section. Undefined when nothing matches.
 */
export function findField(item: OpItem, section: string | undefined, field: string): OpField | undefined {
    const fields = item.fields ?? []
    const named = (f: OpField) => same(f.label, field) || same(f.id, field)
    if (section !== undefined) {
        return fields.find((f) => f.section !== undefined && (same(f.section.label, section) || same(f.section.id, section)) && named(f))
    }
    return fields.find((f) => f.section === undefined && named(f)) ?? fields.find(named)
}

function same(a: string | undefined, b: string): boolean {
    return a !== undefined && a.toLowerCase() === b.toLowerCase()
}

/** The key grouping references that one `op item get` answers (names are case-insensitive). */
export function itemKey(ref: Pick<OpReference, "vault" | "item">): string {
    return `${ref.vault.toLowerCase()}\u0000${ref.item.toLowerCase()}`
}

/**
 * The values of every mapped reference, in mapping order. Calls `getItem` once per
 * distinct item (sequentially: op's daemon and the 409 rule in §8 both favour one
 * call at a time) and `read` only for the cases above. Errors are the client's
 * OpErrors, which name the reference or item and never a value.
 */
export async function resolveMapping(client: OpClient, mapped: readonly MappedValue[]): Promise<WantedValue[]> {
    const items = new Map<string, OpItem>()
    const out: WantedValue[] = []
    for (const m of mapped) {
        const ref = m.reference
        let value: string
        if (ref.query !== undefined) {
            value = await client.read(ref.text)
        } else {
            const key = itemKey(ref)
            let item = items.get(key)
            if (item === undefined) {
                item = await client.getItem(ref.vault, ref.item)
                items.set(key, item)
            }
            const field = findField(item, ref.section, ref.field)
            // An empty field has no `value` key in op's JSON (op-cli.md §3).
            value = field !== undefined ? (field.value ?? "") : await client.read(ref.text)
        }
        out.push({ path: m.path, value, source: ref.text })
    }
    return out
}
