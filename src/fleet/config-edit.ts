/**
 * Edits of `.sops.yaml` for named keys, through the yaml Document API so that the
 * user's comments, key order and formatting survive (issue 4 §2). Every result is
 * a config real sops reads: the `keys:` list is moved first when needed, because
 * YAML only lets an alias refer to an anchor defined before it, and rules are only
 * created with at least one key (sops refuses to encrypt to nobody).
 *
 * Functions take and return the config's text; they never touch the file system.
 * Each validates its input completely before changing anything, so a failed edit
 * leaves the caller with nothing to write.
 */
import { Alias, isAlias, isMap, isScalar, isSeq, parseDocument, visit, YAMLMap, YAMLSeq, type Document, type Scalar } from "yaml"

import { parseConfig } from "../config/load.js"
import { ConfigError, quote } from "../errors.js"
import { parseRecipient } from "../keys/recipient.js"
import { checkProfileName, parseProfiles, type Profile } from "../config/profiles.js"
import { anchorFor, layoutRules, NAME_PATTERN, parseLayoutRegex, type LayoutKind, type LayoutProfile, type LayoutRule } from "./layout.js"
import { kindOfAnchor, readNamedKeys, type NamedKey } from "../config/named-keys.js"

/** A key to name in `.sops.yaml`. `name` is ignored for the recovery key. */
export interface KeyToAdd {
    readonly kind: "host" | "user" | "recovery"
    readonly name: string
    readonly recipient: string
}

/** The result of an edit: the new text and whether anything changed. */
export interface EditResult {
    readonly text: string
    readonly changed: boolean
    /** What the edit did, one short line each, for the user (`added rule ^secrets/hosts/web1/`). */
    readonly notes: string[]
}

const KEY_RANK: Record<NamedKey["kind"], number> = { user: 0, host: 1, recovery: 2, other: 3 }

/** `yaml`'s stringifier folds long lines by default; a post-quantum recipient is ~2000 characters. */

/** Throw unless `name` can be an anchor and a directory name. */
export function checkName(kind: string, name: string): void {
    if (!NAME_PATTERN.test(name)) {
        throw new ConfigError(`invalid ${kind} name ${quote(name)}`, [
            "names are lowercase letters, digits, '_' and '-', starting with a letter or digit",
        ])
    }
}

/**
 * Add a named key and the layout rules it brings. Adding a key that is already
 * there with the same recipient changes nothing (`changed: false`), so `init` can
 * run twice. A name taken by another recipient, or a recipient already named, is
 * a ConfigError.
 */
export function addNamedKey(text: string, key: KeyToAdd, path = ".sops.yaml"): EditResult {
    if (key.kind !== "recovery") checkName(key.kind, key.name)
    const recipient = parseRecipient(key.recipient).text
    parseConfig(text, path)
    const anchor = anchorFor(key.kind, key.name)
    const existing = readNamedKeys(text)
    const same = existing.find((k) => k.anchor === anchor)
    if (same !== undefined) {
        if (same.recipient === recipient) return syncLayout(text, path)
        throw new ConfigError(`${quote(path)} already has a key named ${anchor} with another recipient`, [
            `to replace it, use \`secrets keys rotate\`, or \`secrets keys remove ${key.name}\` first`,
        ])
    }
    const other = existing.find((k) => k.recipient === recipient)
    if (other !== undefined) {
        throw new ConfigError(`this recipient is already named ${other.anchor} in ${quote(path)}`, ["one key, one name: remove the other name first"])
    }

    const doc = load(text)
    const keys = keysSeq(doc)
    const node = doc.createNode(recipient) as Scalar
    node.anchor = anchor
    // After the last key of its kind (users, hosts, recovery, in that order), so a
    // glance at `keys:` shows who is who.
    const rankOf = (it: unknown) => (isScalar(it) && it.anchor !== undefined ? KEY_RANK[kindOfAnchor(it.anchor).kind] : KEY_RANK.other)
    const mine = KEY_RANK[key.kind]
    let at = keys.items.findLastIndex((it) => rankOf(it) === mine) + 1
    if (at === 0) {
        at = keys.items.findIndex((it) => rankOf(it) > mine && rankOf(it) !== KEY_RANK.other)
        if (at === -1) at = keys.items.length
    }
    keys.items.splice(at, 0, node)
    const synced = syncDoc(doc, path)
    return finish(doc, path, [`named ${anchor}`, ...synced])
}

/**
 * Give every layout rule the keys the layout says, creating missing rules in the
 * layout's order. Only adds: an alias the user put in a rule by hand stays.
 */
export function syncLayout(text: string, path = ".sops.yaml"): EditResult {
    parseConfig(text, path)
    const doc = load(text)
    const notes = syncDoc(doc, path)
    if (notes.length === 0) return { text, changed: false, notes }
    return finish(doc, path, notes)
}

/**
 * Give host `name` its directory's rule before its key is known (`init --host web1`
 * without a recipient): the rule lists the users and the recovery key, so the next
 * steps init prints work at once, and `keys add-host web1 …` later adds the host to
 * it (the layout treats such a rule as a pending host: src/fleet/layout.ts).
 * Nothing changes when the rule exists or the host already has a key.
 */
export function declareHost(text: string, name: string, path = ".sops.yaml"): EditResult {
    checkName("host", name)
    parseConfig(text, path)
    const doc = load(text)
    if (!namedKeysIn(doc).some((k) => k.kind === "user" || k.kind === "recovery")) {
        throw new ConfigError(`cannot add a rule for host ${name}: ${quote(path)} names no user or recovery key to read its files`, [
            "add a user first (`secrets keys add-user NAME --age age1…`), or give the host's key: --host web1=age1…",
        ])
    }
    const notes = syncDoc(doc, path, [name])
    if (notes.length === 0) return { text, changed: false, notes }
    return finish(doc, path, notes)
}

/**
 * Declare profiles under `secrets.profiles` (`init --profiles dev,prod`) and add
 * their layout rules. A profile already declared keeps what it says: its
 * `readers:` is never changed here (a note says so when it differs), since that
 * decides who can read it.
 */
export function declareProfiles(text: string, profiles: readonly LayoutProfile[], path = ".sops.yaml"): EditResult {
    for (const p of profiles) checkProfileName(p.name, "--profiles")
    parseConfig(text, path)
    const doc = load(text)
    const declared = profilesIn(doc, path)
    const notes: string[] = []
    const added = new Set<string>()
    const root = doc.contents as YAMLMap
    for (const p of profiles) {
        if (added.has(p.name)) continue
        const had = declared.get(p.name)
        if (had !== undefined) {
            if (had.readers !== p.readers) notes.push(`profile ${p.name} is already declared${had.readers === undefined ? " without readers" : ` with readers: ${had.readers}`}; left as it is`)
            continue
        }
        if (!isMap(root.get("secrets", true))) root.set("secrets", new YAMLMap())
        const secrets = root.get("secrets", true) as unknown as YAMLMap
        if (!isMap(secrets.get("profiles", true))) secrets.set("profiles", new YAMLMap())
        const body = new YAMLMap()
        body.set("readers", p.readers)
        ;(secrets.get("profiles", true) as unknown as YAMLMap).set(p.name, body)
        added.add(p.name)
        notes.push(`declared profile ${p.name} (readers: ${p.readers})`)
    }
    const synced = syncDoc(doc, path)
    if (added.size === 0 && synced.length === 0) return { text, changed: false, notes }
    return finish(doc, path, [...notes, ...synced])
}

/**
 * Find a named key by its anchor (`host_web1`) or its bare name (`web1`).
 * Unknown and ambiguous names are ConfigErrors listing what there is.
 */
export function findNamedKey(text: string, nameOrAnchor: string, path = ".sops.yaml"): NamedKey {
    const keys = readNamedKeys(text)
    const exact = keys.find((k) => k.anchor === nameOrAnchor)
    if (exact !== undefined) return exact
    const byName = keys.filter((k) => k.name === nameOrAnchor)
    if (byName.length === 1 && byName[0] !== undefined) return byName[0]
    if (byName.length > 1) {
        throw new ConfigError(`${quote(nameOrAnchor)} names more than one key in ${quote(path)}`, [
            `say which: ${byName.map((k) => k.anchor).join(" or ")}`,
        ])
    }
    throw new ConfigError(`no key named ${quote(nameOrAnchor)} in ${quote(path)}`, [
        keys.length === 0 ? "the config has no named keys: add one with `secrets keys add-host` or `add-user`" : `the named keys are ${keys.map((k) => k.anchor).join(", ")}`,
    ])
}

/**
 * Remove a named key: its item in `keys:`, every alias of it in the rules, and the
 * rule of its own directory. A layout rule left with no key is removed too; any
 * other rule left with no key, or an alias of it outside a list, is a ConfigError
 * (the edit is the user's to make by hand).
 */
export function removeNamedKey(text: string, nameOrAnchor: string, path = ".sops.yaml"): EditResult & { removed: NamedKey } {
    parseConfig(text, path)
    const removed = findNamedKey(text, nameOrAnchor, path)
    const doc = load(text)
    const notes: string[] = [`removed ${removed.anchor}`]

    const keys = keysSeq(doc)
    keys.items = keys.items.filter((it) => !(isScalar(it) && it.anchor === removed.anchor))

    let stray = false
    visit(doc, {
        Alias(_key, node, ancestry) {
            if (node.source !== removed.anchor) return undefined
            const parent = ancestry[ancestry.length - 1]
            if (isSeq(parent)) return visit.REMOVE
            stray = true
            return undefined
        },
    })
    if (stray) {
        throw new ConfigError(`${removed.anchor} is used in ${quote(path)} outside a list of keys`, [`remove that use of *${removed.anchor} by hand, then run this again`])
    }

    const rules = doc.get("creation_rules", true)
    if (isSeq(rules)) {
        const kept: unknown[] = []
        for (const [i, item] of rules.items.entries()) {
            const layout = isMap(item) ? layoutOf(item) : undefined
            const own = layout !== undefined && layout.kind === removed.kind && layout.name === removed.name
            if (own) {
                notes.push(`removed rule ${pathRegexOf(item as YAMLMap) ?? ""}`)
                continue
            }
            if (isMap(item) && keyCount(item) === 0) {
                if (layout === undefined) {
                    throw new ConfigError(`removing ${removed.anchor} would leave creation rule ${i + 1} of ${quote(path)} with no key`, [
                        "add another key to that rule first, or remove the rule",
                    ])
                }
                notes.push(`removed rule ${pathRegexOf(item) ?? ""} (no key left)`)
                continue
            }
            kept.push(item)
        }
        rules.items = kept
    }
    return { ...finish(doc, path, notes), removed }
}

// ---- the document ----------------------------------------------------------------------

/** The text each loaded document came from, so that an edit is written in its layout. */
const originals = new WeakMap<Document, string>()

function load(text: string): Document {
    const doc: Document = parseDocument(text === "" ? "{}\n" : text)
    originals.set(doc, text)
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = new YAMLMap()
    if (!isMap(doc.contents)) throw new ConfigError("the config must be a mapping", ["start with creation_rules:"])
    // An empty file parsed as `{}` would be written back in flow style.
    if (doc.contents.items.length === 0) doc.contents.flow = false
    return doc
}

function finish(doc: Document, path: string, notes: string[]): EditResult {
    const text = stringifyLike(doc, originals.get(doc) ?? "")
    // Never hand back a config that sops (or we) cannot read.
    parseConfig(text, path)
    return { text, changed: true, notes }
}

/**
 * The top-level `keys:` list, created if missing, and moved to the front of the
 * document when it is not: anchors must be defined before the rules use them.
 */
function keysSeq(doc: Document): YAMLSeq {
    const root = doc.contents as YAMLMap
    const index = root.items.findIndex((p) => isScalar(p.key) && p.key.value === "keys")
    if (index !== 0) {
        const pair = index === -1 ? doc.createPair("keys", new YAMLSeq()) : root.items.splice(index, 1)[0]
        if (pair === undefined) throw new ConfigError("internal: keys list missing")
        // A comment right above the first key is the file's header: it stays on top.
        const first = root.items[0]?.key
        if (isScalar(first) && first.commentBefore !== undefined && first.commentBefore !== null && isScalar(pair.key)) {
            pair.key.commentBefore = first.commentBefore
            first.commentBefore = undefined
        }
        root.items.unshift(pair)
    }
    const pair = root.items[0]
    if (pair === undefined) throw new ConfigError("internal: keys list missing")
    if (!isSeq(pair.value)) {
        if (pair.value !== null && !(isScalar(pair.value) && pair.value.value === null)) {
            throw new ConfigError("the top-level keys: of the config is not a list", ["make it a list of recipients with anchors: `- &user_alice age1…`"])
        }
        pair.value = new YAMLSeq()
    }
    return pair.value as YAMLSeq
}

function rulesSeq(doc: Document): YAMLSeq {
    const root = doc.contents as YAMLMap
    const rules = root.get("creation_rules", true)
    if (isSeq(rules)) return rules
    const seq = new YAMLSeq()
    root.set("creation_rules", seq)
    return seq
}

function pathRegexOf(rule: YAMLMap): string | undefined {
    const v = rule.get("path_regex")
    return typeof v === "string" ? v : undefined
}

function layoutOf(rule: YAMLMap): { kind: LayoutKind; name: string } | undefined {
    const re = pathRegexOf(rule)
    return re === undefined ? undefined : parseLayoutRegex(re)
}

/** Keys of any type left in a rule: list items under key_groups or the rule's own key fields. */
function keyCount(rule: YAMLMap): number {
    let n = 0
    const countIn = (m: YAMLMap) => {
        for (const p of m.items) {
            if (!isScalar(p.key) || p.key.value === "path_regex" || p.key.value === "key_groups") continue
            if (isSeq(p.value)) n += p.value.items.length
            else if (isAlias(p.value)) n++
            else if (isScalar(p.value) && typeof p.value.value === "string" && p.value.value.trim() !== "" && isKeyField(String(p.key.value))) n++
        }
    }
    countIn(rule)
    const groups = rule.get("key_groups", true)
    if (isSeq(groups)) for (const g of groups.items) if (isMap(g)) countIn(g)
    return n
}

function isKeyField(field: string): boolean {
    return ["age", "pgp", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault_transit_uri", "hc_vault", "merge", "plugins"].includes(field)
}

const RANK: Record<LayoutKind, number> = { host: 0, user: 1, profile: 2, shared: 3 }

/**
 * Add what the layout asks for to `doc`; returns one note per change. `declared`
 * hosts get a rule even without a key; so do hosts whose rule is already pending.
 */
function syncDoc(doc: Document, path: string, declared: readonly string[] = []): string[] {
    const named = namedKeysIn(doc)
    const rules = rulesSeq(doc)
    const notes: string[] = []
    const pending = [...rules.items.flatMap((r) => (isMap(r) ? pendingHostOf(r) : [])), ...declared]
    for (const want of layoutRules(named, pending, layoutProfilesIn(doc, path))) {
        const found = rules.items.find((r): r is YAMLMap => isMap(r) && pathRegexOf(r) === want.pathRegex)
        if (found === undefined) {
            rules.items.splice(insertionPoint(rules, want.kind), 0, newRule(doc, want))
            notes.push(`added rule ${want.pathRegex}`)
            continue
        }
        const age = ageListOf(found)
        if (age === undefined) {
            notes.push(`rule ${want.pathRegex} does not have the layout's form (key_groups: - age: [...]); left as it is`)
            continue
        }
        for (const [i, anchor] of want.anchors.entries()) {
            if (age.items.some((it) => (isAlias(it) && it.source === anchor) || (isScalar(it) && it.anchor === anchor))) continue
            // Keep the layout's order: before the first alias the layout puts after this one.
            let at = age.items.findIndex((it) => isAlias(it) && want.anchors.indexOf(it.source) > i)
            if (at === -1) at = age.items.length
            age.items.splice(at, 0, new Alias(anchor))
            notes.push(`rule ${want.pathRegex}: added *${anchor}`)
        }
    }
    return notes
}

/** The profiles that ask the layout for a rule (`readers:` set), in the config's order. */
function layoutProfilesIn(doc: Document, path: string): LayoutProfile[] {
    return [...profilesIn(doc, path).values()].flatMap((p) => (p.readers === undefined ? [] : [{ name: p.name, readers: p.readers }]))
}

/** The profiles declared under `secrets.profiles` of `doc`, validated. */
function profilesIn(doc: Document, path: string): ReadonlyMap<string, Profile> {
    const secrets: unknown = (doc.contents as YAMLMap).get("secrets") === undefined ? undefined : (doc.toJS() as Record<string, unknown>)["secrets"]
    if (secrets === null || typeof secrets !== "object" || Array.isArray(secrets)) return new Map()
    return parseProfiles(secrets as Record<string, unknown>, path)
}

function namedKeysIn(doc: Document): { kind: NamedKey["kind"]; name: string; anchor: string }[] {
    const keys = (doc.contents as YAMLMap).get("keys", true)
    if (!isSeq(keys)) return []
    return keys.items.flatMap((it) => (isScalar(it) && it.anchor !== undefined ? [{ ...kindOfAnchor(it.anchor), anchor: it.anchor }] : []))
}

/**
 * The host of a rule that waits for its host's key: a layout host rule whose keys
 * are only aliases of users and the recovery key, as {@link declareHost} writes it.
 * A host rule with any other key is the user's own, and is not widened.
 */
function pendingHostOf(rule: YAMLMap): string[] {
    const layout = layoutOf(rule)
    if (layout?.kind !== "host") return []
    const age = ageListOf(rule)
    if (age === undefined || keyCount(rule) !== age.items.length) return []
    const onlyReaders = age.items.every((it) => isAlias(it) && ["user", "recovery"].includes(kindOfAnchor(it.source).kind))
    return onlyReaders ? [layout.name] : []
}

/** The `age:` list of the rule's first key group, the place the layout keeps its aliases. */
function ageListOf(rule: YAMLMap): YAMLSeq | undefined {
    const groups = rule.get("key_groups", true)
    if (!isSeq(groups)) return undefined
    const first = groups.items[0]
    if (!isMap(first)) return undefined
    const age = first.get("age", true)
    return isSeq(age) ? age : undefined
}

/**
 * Where a new layout rule goes: after the last layout rule of its family or an
 * earlier one, else before the first of a later family, else at the end — but
 * always before a catch-all rule (no or empty path_regex), which would shadow it.
 */
function insertionPoint(rules: YAMLSeq, kind: LayoutKind): number {
    let after = -1
    let before = -1
    let catchAll = -1
    for (const [i, item] of rules.items.entries()) {
        if (!isMap(item)) continue
        const re = pathRegexOf(item)
        if ((re === undefined || re === "" || re === ".*") && catchAll === -1) catchAll = i
        const layout = layoutOf(item)
        if (layout === undefined) continue
        if (RANK[layout.kind] <= RANK[kind]) after = i
        else if (before === -1) before = i
    }
    let at = after !== -1 ? after + 1 : before !== -1 ? before : rules.items.length
    if (catchAll !== -1 && at > catchAll) at = catchAll
    return at
}

function newRule(doc: Document, want: LayoutRule): YAMLMap {
    const age = new YAMLSeq()
    for (const a of want.anchors) age.items.push(new Alias(a))
    const group = new YAMLMap()
    group.set("age", age)
    const groups = new YAMLSeq()
    groups.items.push(group)
    const rule = new YAMLMap()
    rule.set("path_regex", doc.createNode(want.pathRegex))
    rule.set("key_groups", groups)
    return rule
}

/**
 * The document written in the layout of `original`: its indent width, sequences
 * indented under their key or not, and flow collections without inner padding
 * (`[*a, *b]`), so that an edit changes only the lines it must.
 */
export function stringifyLike(doc: Document, original: string): string {
    const lines = original.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"))
    // The indent width is how far the first child of a top-level key is indented.
    let indent = 2
    for (const [i, l] of lines.entries()) {
        const next = lines[i + 1]
        if (next === undefined || !/^[^\s#-][^:]*:\s*$/.test(l)) continue
        const width = next.length - next.trimStart().length
        if (width > 0) {
            indent = Math.min(width, 9)
            break
        }
    }
    const indentSeq = !lines.some((l, i) => i > 0 && l.startsWith("- ") && /^[^\s-][^:]*:\s*$/.test(lines[i - 1] ?? ""))
    // lineWidth 0: a post-quantum recipient is ~2000 characters and must stay on one line.
    return doc.toString({ indent, indentSeq, flowCollectionPadding: false, lineWidth: 0 })
}
