/**
 * THE LAYOUT of a fleet repository, as pure data: which directories exist, which
 * creation rule each gets and which named keys (by anchor) each rule lists.
 *
 *   secrets/shared/         every user, every host, the recovery key
 *   secrets/hosts/<host>/   that host, every user, the recovery key
 *   secrets/users/<user>/   that user, the recovery key
 *   secrets/<profile>/      a profile with `readers:` (config/profiles.ts): every
 *                           user and host (`users`) or every host (`hosts`; CI is
 *                           a host), and the recovery key
 *
 * Rules come in the order hosts…, users…, profiles…, shared: sops takes the first rule whose
 * `path_regex` matches, and the three families never overlap, so the order only
 * keeps the file readable. Aliases in a rule are listed users, then hosts, then
 * recovery, so a diff of `.sops.yaml` after `keys add-host` touches as few lines as
 * possible.
 */
import type { KeyKind, NamedKey } from "../config/named-keys.js"
import type { ProfileReaders } from "../config/profiles.js"

/** The family of a layout rule. */
export type LayoutKind = "host" | "user" | "profile" | "shared"

/** A profile as the layout sees it: its name and whose keys read its directory. */
export interface LayoutProfile {
    readonly name: string
    readonly readers: ProfileReaders
}

/** One creation rule of the layout. */
export interface LayoutRule {
    readonly kind: LayoutKind
    /** The host or user name; empty for `shared`. */
    readonly name: string
    /** The rule's `path_regex`, e.g. `^secrets/hosts/web1/`. */
    readonly pathRegex: string
    /** The directory, relative to the config: `secrets/hosts/web1`. */
    readonly dir: string
    /** Anchors the rule's single key group lists, in order. */
    readonly anchors: string[]
}

/** Names of hosts and users are used in anchors and paths: keep them to what both accept. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/

/** The anchor a named key of `kind` called `name` gets in `.sops.yaml`. */
export function anchorFor(kind: Exclude<KeyKind, "other">, name: string): string {
    if (kind === "recovery") return "recovery"
    return `${kind}_${name}`
}

/** The directory of a host or user, or the shared one. */
export function dirFor(kind: LayoutKind, name: string): string {
    if (kind === "shared") return "secrets/shared"
    if (kind === "profile") return `secrets/${name}`
    return `secrets/${kind}s/${name}`
}

/** The `path_regex` of a layout rule. Names are [a-z0-9_-], so nothing needs escaping. */
export function pathRegexFor(kind: LayoutKind, name: string): string {
    return `^${dirFor(kind, name)}/`
}

/** Which layout rule a `path_regex` is, if any: the inverse of {@link pathRegexFor}. */
export function parseLayoutRegex(pathRegex: string): { kind: LayoutKind; name: string } | undefined {
    if (pathRegex === "^secrets/shared/") return { kind: "shared", name: "" }
    const m = /^\^secrets\/(hosts|users)\/([a-z0-9][a-z0-9_-]*)\/$/.exec(pathRegex)
    if (m !== null && m[1] !== undefined && m[2] !== undefined) return { kind: m[1] === "hosts" ? "host" : "user", name: m[2] }
    const p = /^\^secrets\/([a-z0-9][a-z0-9_-]*)\/$/.exec(pathRegex)
    if (p === null || p[1] === undefined || ["hosts", "users", "shared"].includes(p[1])) return undefined
    return { kind: "profile", name: p[1] }
}

/**
 * Every rule of the layout for these named keys, in file order. A rule that would
 * list no key at all is left out: sops refuses to encrypt to nobody, so such a rule
 * would only turn a clear error ("no rule matches") into a confusing one.
 *
 * `pendingHosts` are hosts declared before their key is known (`init --host web1`):
 * their directory gets a rule for the users and the recovery key right away, so
 * files can be written there at once; `keys add-host` later adds the host to that
 * rule and re-keys the files. A name that also has a host key is not pending.
 */
export function layoutRules(
    keys: readonly Pick<NamedKey, "kind" | "name" | "anchor">[],
    pendingHosts: readonly string[] = [],
    profiles: readonly LayoutProfile[] = [],
): LayoutRule[] {
    const users = keys.filter((k) => k.kind === "user").map((k) => k.anchor)
    const hosts = keys.filter((k) => k.kind === "host")
    const recovery = keys.filter((k) => k.kind === "recovery").map((k) => k.anchor)
    const rules: LayoutRule[] = []
    for (const h of hosts) rules.push(rule("host", h.name, [...users, h.anchor, ...recovery]))
    const keyless = [...new Set(pendingHosts)].filter((name) => !hosts.some((h) => h.name === name))
    if (users.length + recovery.length > 0) for (const name of keyless) rules.push(rule("host", name, [...users, ...recovery]))
    for (const u of keys.filter((k) => k.kind === "user")) rules.push(rule("user", u.name, [u.anchor, ...recovery]))
    for (const p of profiles) {
        // Developers' profiles are read by everyone; the others by machines only,
        // so a developer's laptop never holds a key that opens prod.
        const anchors = p.readers === "users" ? [...users, ...hosts.map((h) => h.anchor), ...recovery] : [...hosts.map((h) => h.anchor), ...recovery]
        if (anchors.length > 0) rules.push(rule("profile", p.name, anchors))
    }
    const shared = [...users, ...hosts.map((h) => h.anchor), ...recovery]
    if (shared.length > 0) rules.push(rule("shared", "", shared))
    return rules
}

/** The anchors the layout gives the rule of `kind`/`name`, or undefined when it has no such rule. */
export function anchorsForRule(keys: readonly Pick<NamedKey, "kind" | "name" | "anchor">[], kind: LayoutKind, name: string): string[] | undefined {
    return layoutRules(keys).find((r) => r.kind === kind && r.name === name)?.anchors
}

function rule(kind: LayoutKind, name: string, anchors: string[]): LayoutRule {
    return { kind, name, pathRegex: pathRegexFor(kind, name), dir: dirFor(kind, name), anchors }
}
