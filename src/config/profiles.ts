/**
 * Profiles (issue 13 point 3): named sets of secret files, such as `dev` and
 * `prod`, declared under `secrets.profiles` in `.sops.yaml` (sops never reads
 * that key):
 *
 *     secrets:
 *       profiles:
 *         dev:
 *           readers: users            # developers, CI and hosts open it
 *         prod:
 *           readers: hosts            # only CI and hosts (and the recovery key)
 *           op: { vault: Prod, item: app }
 *
 * A profile's files are `secrets/<name>/` unless `files:` lists others (files or
 * directories, relative to the config). `readers:` makes THE LAYOUT
 * (fleet/layout.ts) keep a creation rule for `secrets/<name>/` listing those keys,
 * so adding a host or removing a user re-keys the profile like any other layout
 * directory. `op:` is the 1Password item `secrets get` asks last; `order:` the
 * order of `get`'s loaders; `flatten:` passes nested values as `A__B`.
 *
 * `.sops.yaml` is untrusted (anyone who can commit writes it): a profile's
 * paths must stay inside the config's directory, names are plain words, and
 * nothing here can add a reader: `readers:` only picks among the keys the
 * layout already lists for everyone or for hosts. Pure: no file system.
 */
import { posix } from "node:path"
import { ConfigError, quote } from "../errors.js"
import { describe } from "./schema.js"

/** Where `secrets get` looks for a name, in order (issue 13 point 4). */
export const LOADERS = ["env", "files", "op"] as const
export type LoaderName = (typeof LOADERS)[number]
export const DEFAULT_ORDER: readonly LoaderName[] = LOADERS

/** Whose keys the layout gives a profile's directory: everyone (`users`), or machines only (`hosts`). */
export type ProfileReaders = "users" | "hosts"
const READERS: readonly ProfileReaders[] = ["users", "hosts"]

export interface OpItem {
    readonly vault: string
    readonly item: string
}

export interface Profile {
    readonly name: string
    /** Files or directories relative to the config's directory (posix), in order: a later file's name wins. */
    readonly files: readonly string[]
    readonly readers?: ProfileReaders
    readonly op?: OpItem
    readonly order: readonly LoaderName[]
    readonly flatten: boolean
}

/** Profile names become directories (`secrets/<name>/`) and anchors of nothing: the layout's name rule. */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
/** THE LAYOUT's own directories under secrets/: a profile there would share its rule. */
const RESERVED = new Set(["hosts", "users", "shared"])
const KNOWN_FIELDS = new Set(["files", "readers", "op", "order", "flatten", "description"])
const MAX_PROFILES = 100
const MAX_PATHS = 1000

/** The directory a profile gets by default and the layout's rule covers. */
export function profileDir(name: string): string {
    return `secrets/${name}`
}

/**
 * Who reads a profile when `init --profiles` names it without `=users`/`=hosts`:
 * machines only, the safe side (no laptop opens it), except the profiles whose
 * names say they are the developers' own.
 */
export function defaultReaders(name: string): ProfileReaders {
    return ["dev", "development", "local", "test"].includes(name) ? "users" : "hosts"
}

/** Check a profile name given on the command line or in the config. */
export function checkProfileName(name: string, where: string): void {
    if (!PROFILE_NAME.test(name)) {
        throw new ConfigError(`${where}: ${quote(name)} is not a profile name`, ["use lowercase letters, digits, - and _ (it becomes the directory secrets/NAME/)"])
    }
    if (RESERVED.has(name)) {
        throw new ConfigError(`${where}: a profile cannot be called ${quote(name)}`, [`secrets/${name}/ is the layout's own directory; pick another name`])
    }
}

/** The profiles under the `secrets:` mapping of the config at `source` (empty when there are none). */
export function parseProfiles(secrets: Readonly<Record<string, unknown>> | undefined, source: string): ReadonlyMap<string, Profile> {
    const out = new Map<string, Profile>()
    const raw = secrets?.["profiles"]
    if (raw === undefined || raw === null) return out
    const at = (...path: string[]) => `${source}: secrets.profiles${path.map((p) => `.${p}`).join("")}`
    if (typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`${at()}: expected a mapping of profile names, got ${describe(raw)}`)
    const entries = Object.entries(raw as Record<string, unknown>)
    if (entries.length > MAX_PROFILES) throw new ConfigError(`${at()}: more than ${MAX_PROFILES} profiles`)
    for (const [name, body] of entries) {
        checkProfileName(name, at())
        out.set(name, parseProfile(name, body ?? {}, (...p) => at(name, ...p)))
    }
    return out
}

function parseProfile(name: string, body: unknown, at: (...path: string[]) => string): Profile {
    if (typeof body !== "object" || Array.isArray(body) || body === null) throw new ConfigError(`${at()}: expected a mapping, got ${describe(body)}`)
    const b = body as Record<string, unknown>
    for (const k of Object.keys(b)) {
        // A typo (`reader:`) must not silently change who the layout lets read prod.
        if (!KNOWN_FIELDS.has(k)) throw new ConfigError(`${at(k)}: unknown field`, [`a profile has ${[...KNOWN_FIELDS].join(", ")}`])
    }
    return {
        name,
        files: b["files"] === undefined || b["files"] === null ? [profileDir(name)] : paths(b["files"], at("files")),
        ...(b["readers"] === undefined || b["readers"] === null ? {} : { readers: readers(b["readers"], at("readers")) }),
        ...(b["op"] === undefined || b["op"] === null ? {} : { op: opItem(b["op"], at("op")) }),
        order: b["order"] === undefined || b["order"] === null ? DEFAULT_ORDER : parseLoaderOrder(b["order"], at("order")),
        flatten: b["flatten"] === undefined || b["flatten"] === null ? false : bool(b["flatten"], at("flatten")),
    }
}

function paths(v: unknown, where: string): string[] {
    const list = typeof v === "string" ? [v] : v
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${where}: expected a list of files or directories, got ${describe(v)}`)
    if (list.length > MAX_PATHS) throw new ConfigError(`${where}: more than ${MAX_PATHS} entries`)
    return list.map((p, i) => {
        if (typeof p !== "string" || p.trim() === "") throw new ConfigError(`${where}[${i}]: expected a path, got ${typeof p === "string" ? "an empty string" : describe(p)}`)
        const norm = posix.normalize(p.trim())
        // Inside the repository only: a committed profile must not make CI read
        // (and put into a job's environment) files from elsewhere on the runner.
        if (posix.isAbsolute(norm) || norm === ".." || norm.startsWith("../") || p.includes("\0")) {
            throw new ConfigError(`${where}[${i}]: ${quote(p)} is outside the repository`, ["list paths relative to .sops.yaml's directory, inside it"])
        }
        return norm.replace(/\/+$/, "") || "."
    })
}

function readers(v: unknown, where: string): ProfileReaders {
    if (typeof v === "string" && (READERS as readonly string[]).includes(v)) return v as ProfileReaders
    throw new ConfigError(`${where}: expected users or hosts, got ${typeof v === "string" ? quote(v) : describe(v)}`, [
        "users: every user, host and the recovery key; hosts: hosts (CI is a host) and the recovery key",
    ])
}

function opItem(v: unknown, where: string): OpItem {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(`${where}: expected { vault: V, item: I }, got ${describe(v)}`)
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) if (k !== "vault" && k !== "item") throw new ConfigError(`${where}.${k}: unknown field`, ["op: has vault: and item:"])
    const field = (k: "vault" | "item"): string => {
        const s = o[k]
        // A leading "-" would read as an option to op (op-argv.ts passes names after
        // "--" anyway); refusing it here gives the clearer message.
        if (typeof s !== "string" || s.trim() === "" || s.startsWith("-")) throw new ConfigError(`${where}.${k}: expected a 1Password ${k} name, got ${typeof s === "string" ? quote(s) : describe(s)}`)
        return s
    }
    return { vault: field("vault"), item: field("item") }
}

/** A loader order from the config (a list) or a flag (`env,files,op`): each loader at most once. */
export function parseLoaderOrder(v: unknown, where: string): LoaderName[] {
    const list = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${where}: expected a list of loaders (${LOADERS.join(", ")}), got ${describe(v)}`)
    const seen = new Set<LoaderName>()
    for (const item of list) {
        if (typeof item !== "string" || !(LOADERS as readonly string[]).includes(item)) {
            throw new ConfigError(`${where}: ${typeof item === "string" ? quote(item) : describe(item)} is not a loader`, [`the loaders are ${LOADERS.join(", ")}`])
        }
        if (seen.has(item as LoaderName)) throw new ConfigError(`${where}: ${quote(item)} is listed twice`)
        seen.add(item as LoaderName)
    }
    return [...seen]
}

function bool(v: unknown, where: string): boolean {
    if (typeof v === "boolean") return v
    throw new ConfigError(`${where}: expected true or false, got ${describe(v)}`)
}

/** The profile called `name`, or an error listing the ones there are. */
export function profileNamed(profiles: ReadonlyMap<string, Profile>, name: string, source: string): Profile {
    const p = profiles.get(name)
    if (p !== undefined) return p
    const known = [...profiles.keys()]
    throw new ConfigError(`${source} has no profile ${quote(name)}`, [
        known.length === 0 ? "declare profiles under secrets.profiles, or run `secrets init --profiles dev,prod`" : `its profiles: ${known.join(", ")}`,
    ])
}
