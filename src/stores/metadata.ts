/**
 * The on-disk `sops:` block <-> the typed Metadata of src/core/metadata.ts.
 *
 * This is the only module that knows the on-disk field names (sops-format.md §6).
 * Reading is lenient the way sops' mapstructure decoding is: keys in any order, null
 * or empty key lists, weakly typed scalars ("2" for an int, "true" for a bool, which
 * is all dotenv and INI can hold), key groups either flat at the top level or under
 * `key_groups`. Writing follows sops 3.13.2: every mapping's keys sorted, one group
 * flat at the top level, several groups under `key_groups`.
 */
import { FormatError } from "../errors.js"
import {
    KEY_TYPES,
    type AgeKey,
    type EncryptionRule,
    type ForeignKey,
    type KeyGroup,
    type KeyType,
    type MasterKey,
    type Metadata,
} from "../core/metadata.js"
import { entry, int, list, map, str, bool, type MapItem, type Mapping, type Node } from "../core/tree.js"

/** Rule fields: on-disk name -> EncryptionRule property. */
const RULE_FIELDS = {
    unencrypted_suffix: "unencryptedSuffix",
    encrypted_suffix: "encryptedSuffix",
    unencrypted_regex: "unencryptedRegex",
    encrypted_regex: "encryptedRegex",
    unencrypted_comment_regex: "unencryptedCommentRegex",
    encrypted_comment_regex: "encryptedCommentRegex",
} as const satisfies Record<string, keyof EncryptionRule>

/**
 * The order sops loads key types within a group (stores.go): it decides which key is
 * tried first when no `--decryption-order` says otherwise.
 */
const LOAD_ORDER: readonly KeyType[] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "age"]

const KNOWN_FIELDS = new Set<string>([
    ...KEY_TYPES,
    "key_groups",
    "shamir_threshold",
    "lastmodified",
    "mac",
    "mac_only_encrypted",
    "version",
    ...Object.keys(RULE_FIELDS),
])

/** Read the `sops` block. Throws FormatError naming the field at fault, never a value. */
export function metadataFromTree(tree: Mapping): Metadata {
    const fields = new Map<string, Node>()
    for (const item of tree.items) {
        if (item.kind !== "entry") continue
        if (!KNOWN_FIELDS.has(item.key)) {
            throw new FormatError(`unknown sops metadata field "${item.key}"`, [
                "the file may come from a newer sops; upgrade secrets, or remove the field if it was added by hand",
            ])
        }
        fields.set(item.key, item.value)
    }

    const flat = readGroup(tree, "sops")
    let keyGroups: KeyGroup[]
    if (flat.length > 0) {
        // A non-empty top-level list means one group; key_groups is then ignored (stores.go).
        keyGroups = [flat]
    } else {
        const groups = fields.get("key_groups")
        keyGroups = groups === undefined || groups.kind === "null" ? [] : listOf(groups, "key_groups").map((g, i) => {
            if (g.kind !== "map") throw new FormatError(`sops metadata field "key_groups[${i}]" is not a mapping`)
            return readGroup(g, `key_groups[${i}]`)
        })
    }
    if (keyGroups.length === 0 || keyGroups.every((g) => g.length === 0)) {
        throw new FormatError("no keys found in the sops metadata", ["the file has no recipients; it cannot be decrypted by anyone"])
    }

    const rule: Record<string, string> = {}
    for (const [name, prop] of Object.entries(RULE_FIELDS)) {
        const v = fields.get(name)
        if (v !== undefined && v.kind !== "null") {
            const s = stringOf(v, name)
            if (s !== "") rule[prop] = s
        }
    }

    const lastModified = fields.get("lastmodified")
    if (lastModified === undefined || lastModified.kind === "null") {
        throw new FormatError(`sops metadata has no "lastmodified" field`)
    }
    const lm = stringOf(lastModified, "lastmodified")
    if (!RFC3339.test(lm)) throw new FormatError(`sops metadata field "lastmodified" is not an RFC 3339 time`)

    const mac = fields.get("mac")
    const version = fields.get("version")
    const threshold = fields.get("shamir_threshold")
    const macOnly = fields.get("mac_only_encrypted")
    return {
        keyGroups,
        shamirThreshold: threshold === undefined || threshold.kind === "null" ? 0 : intOf(threshold, "shamir_threshold"),
        lastModified: lm,
        mac: mac === undefined || mac.kind === "null" ? "" : stringOf(mac, "mac"),
        rule,
        macOnlyEncrypted: macOnly === undefined || macOnly.kind === "null" ? false : boolOf(macOnly, "mac_only_encrypted"),
        version: version === undefined || version.kind === "null" ? "" : stringOf(version, "version"),
    }
}

/** Write the `sops` block as sops 3.13.2 does: sorted keys, omitempty fields left out. */
export function metadataToTree(md: Metadata): Mapping {
    const items: MapItem[] = []
    if (md.keyGroups.length === 1) {
        items.push(...groupItems(md.keyGroups[0] ?? [], false))
    } else {
        items.push(entry("key_groups", list(...md.keyGroups.map((g) => map(...groupItems(g, true))))))
    }
    items.push(entry("lastmodified", str(md.lastModified)))
    items.push(entry("mac", str(md.mac)))
    if (md.macOnlyEncrypted) items.push(entry("mac_only_encrypted", bool(true)))
    if (md.shamirThreshold !== 0) items.push(entry("shamir_threshold", int(md.shamirThreshold)))
    for (const [name, prop] of Object.entries(RULE_FIELDS)) {
        const v = md.rule[prop]
        if (v !== undefined && v !== "") items.push(entry(name, str(v)))
    }
    items.push(entry("version", str(md.version)))
    return map(...sortItems(items))
}

function groupItems(group: KeyGroup, inKeyGroups: boolean): MapItem[] {
    const items: MapItem[] = []
    for (const type of KEY_TYPES) {
        const keys = group.filter((k) => k.type === type)
        // Inside key_groups, hc_vault and age are written even when empty (no omitempty tag).
        const always = inKeyGroups && (type === "age" || type === "hc_vault")
        if (keys.length === 0 && !always) continue
        items.push(entry(type, list(...keys.map(keyToTree))))
    }
    return sortItems(items)
}

function keyToTree(k: MasterKey): Mapping {
    if (k.type === "age") return map(entry("enc", str(k.enc)), entry("recipient", str(k.recipient)))
    return sortDeep(k.fields)
}

function readGroup(m: Mapping, where: string): MasterKey[] {
    const keys: MasterKey[] = []
    for (const type of LOAD_ORDER) {
        const v = lookupField(m, type)
        if (v === undefined || v.kind === "null") continue
        listOf(v, `${where}.${type}`).forEach((k, i) => {
            const at = `${where}.${type}[${i}]`
            if (k.kind !== "map") throw new FormatError(`sops metadata field "${at}" is not a mapping`)
            keys.push(type === "age" ? readAgeKey(k, at) : readForeignKey(type, k))
        })
    }
    if (where !== "sops") {
        for (const item of m.items) {
            if (item.kind === "entry" && !(KEY_TYPES as readonly string[]).includes(item.key) && item.key !== "merge") {
                throw new FormatError(`unknown key type "${item.key}" in sops metadata field "${where}"`)
            }
        }
    }
    return keys
}

function readAgeKey(m: Mapping, at: string): AgeKey {
    const recipient = lookupField(m, "recipient")
    const enc = lookupField(m, "enc")
    if (recipient === undefined || enc === undefined) {
        throw new FormatError(`sops metadata field "${at}" needs both "recipient" and "enc"`)
    }
    return { type: "age", recipient: stringOf(recipient, `${at}.recipient`).trim(), enc: stringOf(enc, `${at}.enc`) }
}

function readForeignKey(type: Exclude<KeyType, "age">, m: Mapping): ForeignKey {
    return { type, fields: stringifyLeaves(m) }
}

/** Foreign key fields are all strings in sops; keep them as strings so they are re-emitted quoted as sops does. */
function stringifyLeaves(m: Mapping): Mapping {
    return map(
        ...m.items.map((item): MapItem => {
            if (item.kind !== "entry") return item
            const v = item.value
            if (v.kind === "map") return entry(item.key, stringifyLeaves(v))
            if (v.kind === "time") return entry(item.key, str(v.value))
            return item
        }),
    )
}

function sortDeep(m: Mapping): Mapping {
    return map(...sortItems(m.items.map((item) => (item.kind === "entry" && item.value.kind === "map" ? entry(item.key, sortDeep(item.value)) : item))))
}

function sortItems(items: MapItem[]): MapItem[] {
    const key = (i: MapItem) => (i.kind === "entry" ? i.key : "")
    return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

function lookupField(m: Mapping, key: string): Node | undefined {
    for (const item of m.items) if (item.kind === "entry" && item.key === key) return item.value
    return undefined
}

function listOf(n: Node, field: string): Node[] {
    if (n.kind !== "list") throw new FormatError(`sops metadata field "${field}" is not a list`)
    return n.items.filter((i): i is Node => i.kind !== "comment")
}

function stringOf(n: Node, field: string): string {
    switch (n.kind) {
        case "str":
        case "time":
            return n.value
        case "int":
            return n.value.toString()
        case "bool":
            return n.value ? "true" : "false"
        default:
            throw new FormatError(`sops metadata field "${field}" is not a string`)
    }
}

function intOf(n: Node, field: string): number {
    if (n.kind === "int") return Number(n.value)
    if (n.kind === "str" && /^[+-]?\d+$/.test(n.value.trim())) return Number.parseInt(n.value.trim(), 10)
    throw new FormatError(`sops metadata field "${field}" is not an integer`)
}

function boolOf(n: Node, field: string): boolean {
    if (n.kind === "bool") return n.value
    if (n.kind === "str") {
        // Go strconv.ParseBool, as mapstructure's weak decoding uses.
        if (["1", "t", "T", "TRUE", "true", "True"].includes(n.value)) return true
        if (["0", "f", "F", "FALSE", "false", "False", ""].includes(n.value)) return false
    }
    throw new FormatError(`sops metadata field "${field}" is not a boolean`)
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
