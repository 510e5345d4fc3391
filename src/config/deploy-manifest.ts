/**
 * The deploy manifest (issue 12): what each host receives, under `secrets:` in
 * `.sops.yaml` (sops never reads that key) or in a standalone `--manifest` file
 * of the same shape (`{ deploy, deploy_options }`, JSON or YAML).
 *
 * The manifest is untrusted input that `secrets deploy` acts on as root: anyone
 * who can commit to the repository can edit it. So every field is bounded here,
 * before anything is decrypted: a name stays inside the generation directory, a
 * `path:` is absolute and normalized, a mode has no setuid/setgid/sticky bit, a
 * unit name cannot become a `systemctl` option, and (in `.sops.yaml`) `file:` and
 * `template:` stay inside the repository, so that a committed manifest cannot
 * make root copy `/etc/shadow` or the host key into a file someone else reads.
 * Unknown fields are errors, not warnings: a typo (`onwer:`) must not silently
 * deploy 0400 root:root instead of what was meant.
 *
 * Pure: the caller reads files; errors are ConfigErrors naming the source, the
 * host, the entry (index and name) and the field.
 */
import { posix } from "node:path"
import { z } from "zod"
import { InputLimitError } from "../core/input-limits.js"
import { parseTreePath, type PathStep } from "../core/tree-path.js"
import { ConfigError, SecretsError } from "../errors.js"
import { FORMATS, type Format } from "../stores/store.js"
import { checkAliasExpansion, parseYamlStream } from "../stores/yaml-limits.js"
import { describe } from "./schema.js"

/** Where an entry's bytes come from. Paths are as written; {@link DeployManifest.baseDir} resolves relative ones. */
export type EntrySource =
    | { readonly kind: "file"; readonly file: string; readonly key?: { readonly text: string; readonly path: readonly PathStep[] }; readonly format?: Format }
    | { readonly kind: "template"; readonly template: string }
    | { readonly kind: "content"; readonly content: string }

/** An owner or group: a name looked up in the host's passwd/group, or a numeric id used as is. */
export type Account = { readonly kind: "name"; readonly name: string } | { readonly kind: "id"; readonly id: number }

export interface DeployEntry {
    /** Position in the host's list, for messages. */
    readonly index: number
    readonly name: string
    readonly source: EntrySource
    readonly owner: Account
    readonly group: Account
    readonly mode: number
    readonly path?: string
    readonly restartUnits: readonly string[]
    readonly reloadUnits: readonly string[]
    readonly neededForUsers: boolean
}

export interface DeployManifest {
    /** The manifest's file as named in messages. */
    readonly source: string
    /** Directory that relative `file:` / `template:` paths are relative to. */
    readonly baseDir: string
    /** False for `.sops.yaml`: sources must stay inside {@link baseDir}. */
    readonly absoluteSourcesAllowed: boolean
    readonly keepGenerations: number
    readonly hosts: ReadonlyMap<string, readonly DeployEntry[]>
}

export const DEFAULT_KEEP_GENERATIONS = 5
export const DEFAULT_MODE = 0o400
const MAX_NAME = 255
/** Enough for any real deployment; bounds the work an untrusted manifest can ask for. */
const MAX_ENTRIES_PER_HOST = 10_000
const NAME_SEGMENT = /^[A-Za-z0-9._@+-]+$/
const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,31}\$?$/
/** systemd unit names (systemd.unit(5)); a leading "-" would be read by systemctl as an option. */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]{0,254}$/
/** The generation's own bookkeeping file (generations.ts, and its temp file while written); an entry must not overwrite it. */
const RESERVED_PREFIX = ".manifest.json"
/** A `path:` here would put a link inside the trees `deploy` itself switches and prunes. */
const OWN_TREES = ["/run/secrets", "/run/secrets.d", "/run/secrets-for-users", "/run/secrets-for-users.d"]
const MAX_ID = 0xfffffffe // (uid_t)-1 means "unchanged" to chown(2)

const fail = (ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []): typeof z.NEVER => {
    ctx.addIssue({ code: "custom", message, path })
    return z.NEVER
}

const str = (what: string) => z.unknown().transform((v, ctx) => (typeof v === "string" ? v : fail(ctx, `expected ${what}, got ${describe(v)}`)))

const entryName = z.unknown().transform((v, ctx) => {
    if (typeof v !== "string") return fail(ctx, `expected a name such as "db-password", got ${describe(v)}`)
    if (v.length === 0 || v.length > MAX_NAME) return fail(ctx, `must be 1 to ${MAX_NAME} characters`)
    const segments = v.split("/")
    if (segments.some((s) => s === "" || s === "." || s === ".." || !NAME_SEGMENT.test(s))) {
        return fail(ctx, "must be a relative path of [A-Za-z0-9._@+-] segments joined by \"/\", without \".\" or \"..\" segments")
    }
    if ((segments[0] ?? "").startsWith(RESERVED_PREFIX)) return fail(ctx, `names starting with ${JSON.stringify(RESERVED_PREFIX)} are reserved for the generation's own manifest`)
    return v
})

const account = (what: "owner" | "group") =>
    z.unknown().transform((v, ctx): Account => {
        const id = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined
        if (id !== undefined) {
            if (Number.isInteger(id) && id >= 0 && id <= MAX_ID) return { kind: "id", id }
            return fail(ctx, `a numeric ${what === "owner" ? "uid" : "gid"} must be a whole number from 0 to ${MAX_ID}`)
        }
        if (typeof v === "string" && ACCOUNT_NAME.test(v)) return { kind: "name", name: v }
        return fail(ctx, `expected a ${what === "owner" ? "user" : "group"} name or a numeric id, got ${typeof v === "string" ? "an invalid name" : describe(v)}`)
    })

const mode = z.unknown().transform((v, ctx) => {
    if (typeof v !== "string" || !/^0?[0-7]{3}$/.test(v)) {
        // YAML reads an unquoted 0440 as the decimal number 440: say how to write it.
        const got = typeof v === "number" ? "a number (quote it: mode: \"0440\")" : typeof v === "string" ? "a string that is not 3 or 4 octal digits ≤ 0777" : describe(v)
        return fail(ctx, `expected an octal string such as "0440", got ${got}`)
    }
    return Number.parseInt(v, 8)
})

const targetPath = z.unknown().transform((v, ctx) => {
    if (typeof v !== "string") return fail(ctx, `expected an absolute path, got ${describe(v)}`)
    if (!v.startsWith("/") || v.includes("\0") || v === "/" || posix.normalize(v) !== v || v.endsWith("/")) {
        return fail(ctx, "must be an absolute, normalized path such as /etc/app/db-password (no \"..\", \"//\" or trailing \"/\")")
    }
    if (OWN_TREES.some((t) => v === t || v.startsWith(`${t}/`))) return fail(ctx, `must be outside ${OWN_TREES.join(", ")}: secrets there are managed by deploy itself`)
    return v
})

const units = z.unknown().transform((v, ctx) => {
    if (!Array.isArray(v)) return fail(ctx, `expected a list of unit names, got ${describe(v)}`)
    const bad = v.findIndex((u) => typeof u !== "string" || !UNIT_NAME.test(u))
    if (bad >= 0) return fail(ctx, "expected a systemd unit name such as app.service", [bad])
    return [...new Set(v as string[])]
})

const bool = z.unknown().transform((v, ctx) => (typeof v === "boolean" ? v : fail(ctx, `expected true or false, got ${describe(v)}`)))

const entrySchema = z
    .strictObject({
        name: entryName,
        file: str("a path to an encrypted file").optional(),
        template: str("a path to a template file").optional(),
        content: str("the template text").optional(),
        key: str("a key path such as '[\"db\"][\"password\"]'").optional(),
        format: z.enum(FORMATS, { error: () => `expected one of ${FORMATS.join(", ")}` }).optional(),
        owner: account("owner").optional(),
        group: account("group").optional(),
        mode: mode.optional(),
        path: targetPath.optional(),
        restart_units: units.optional(),
        reload_units: units.optional(),
        needed_for_users: bool.optional(),
    }, { error: (iss) => (iss.code === "unrecognized_keys" ? undefined : `expected a mapping, got ${describe(iss.input)}`) })

const optionsSchema = z.strictObject({
    keep_generations: z
        .unknown()
        .transform((v, ctx) => (typeof v === "number" && Number.isInteger(v) && v >= 2 && v <= 1000 ? v : fail(ctx, "expected a whole number from 2 to 1000 (rollback needs the previous generation)")))
        .optional(),
}, { error: (iss) => (iss.code === "unrecognized_keys" ? undefined : `expected a mapping, got ${describe(iss.input)}`) })

/** Where a manifest's value came from, and what it may reference. */
export interface ManifestOrigin {
    /** The file as named in messages: `.sops.yaml` or the `--manifest` path. */
    readonly source: string
    readonly baseDir: string
    /** True for a `--manifest` file (written by root, e.g. the NixOS module, with store paths). */
    readonly absoluteSourcesAllowed: boolean
}

/**
 * The manifest in `value`: the `secrets:` mapping of `.sops.yaml` (other keys of it
 * are left to their readers) or the whole of a `--manifest` file (where any other
 * top-level key is an error).
 */
export function parseDeployManifest(value: unknown, origin: ManifestOrigin, standalone: boolean): DeployManifest {
    const prefix = standalone ? "" : "secrets."
    const where = (path: readonly PropertyKey[], data: unknown) => `${origin.source}: ${prefix}${describePath(path, data)}`
    if (value === undefined || value === null) return emptyManifest(origin)
    if (typeof value !== "object" || Array.isArray(value)) throw new ConfigError(`${origin.source}: ${standalone ? "the manifest" : "secrets"}: expected a mapping, got ${describe(value)}`)
    const top = value as Record<string, unknown>
    if (standalone) {
        const extra = Object.keys(top).filter((k) => k !== "deploy" && k !== "deploy_options")
        if (extra.length > 0) throw new ConfigError(`${origin.source}: unknown field ${JSON.stringify(extra[0])}`, ["a manifest file holds deploy: and deploy_options: only"])
    }
    const options = optionsSchema.safeParse(top.deploy_options ?? {})
    if (!options.success) throw issueError(options.error, ["deploy_options"], top, where)
    const deploy = top.deploy ?? {}
    if (typeof deploy !== "object" || deploy === null || Array.isArray(deploy)) {
        throw new ConfigError(`${where(["deploy"], top)}: expected a mapping of host names to lists of entries, got ${describe(deploy)}`)
    }
    const hosts = new Map<string, DeployEntry[]>()
    for (const [host, list] of Object.entries(deploy as Record<string, unknown>)) {
        if (!Array.isArray(list)) throw new ConfigError(`${where(["deploy", host], top)}: expected a list of entries, got ${describe(list)}`)
        if (list.length > MAX_ENTRIES_PER_HOST) throw new ConfigError(`${where(["deploy", host], top)}: more than ${MAX_ENTRIES_PER_HOST} entries`)
        const entries = list.map((raw, index) => parseEntry(raw, index, ["deploy", host, index], top, where, origin.absoluteSourcesAllowed))
        checkNames(entries, (i) => where(["deploy", host, i], top))
        hosts.set(host, entries)
    }
    return { ...origin, keepGenerations: options.data.keep_generations ?? DEFAULT_KEEP_GENERATIONS, hosts }
}

function emptyManifest(origin: ManifestOrigin): DeployManifest {
    return { ...origin, keepGenerations: DEFAULT_KEEP_GENERATIONS, hosts: new Map() }
}

type Where = (path: readonly PropertyKey[], data: unknown) => string

function parseEntry(raw: unknown, index: number, at: readonly PropertyKey[], top: unknown, where: Where, absoluteOk: boolean): DeployEntry {
    const parsed = entrySchema.safeParse(raw)
    if (!parsed.success) throw issueError(parsed.error, at, top, where)
    const e = parsed.data
    const bad = (field: string, message: string, hints: string[] = []) => new ConfigError(`${where([...at, field], top)}: ${message}`, hints)
    const given = (["file", "template", "content"] as const).filter((k) => e[k] !== undefined)
    if (given.length !== 1) {
        throw new ConfigError(`${where(at, top)}: needs exactly one of file, template or content${given.length > 1 ? `, not ${given.join(" and ")}` : ""}`)
    }
    if (e.file === undefined && (e.key !== undefined || e.format !== undefined)) throw bad(e.key !== undefined ? "key" : "format", "only goes with file:")
    if (e.key !== undefined && e.format !== undefined) throw bad("format", "converts a whole file; it cannot go with key:, which picks one value")
    for (const field of ["file", "template"] as const) {
        const p = e[field]
        if (p !== undefined) checkSourcePath(p, absoluteOk, (m, h) => bad(field, m, h))
    }
    let source: EntrySource
    if (e.file !== undefined) {
        let key: { text: string; path: PathStep[] } | undefined
        if (e.key !== undefined) {
            try {
                key = { text: e.key, path: parseTreePath(e.key) }
            } catch (err) {
                throw err instanceof SecretsError ? bad("key", err.detail, [...err.hints]) : err
            }
        }
        source = { kind: "file", file: e.file, ...(key !== undefined ? { key } : {}), ...(e.format !== undefined ? { format: e.format } : {}) }
    } else if (e.template !== undefined) {
        source = { kind: "template", template: e.template }
    } else {
        source = { kind: "content", content: e.content ?? "" }
    }
    const root: Account = { kind: "id", id: 0 }
    const owner = e.owner ?? root
    const group = e.group ?? root
    const neededForUsers = e.needed_for_users ?? false
    if (neededForUsers) {
        // Deployed before users exist (sops-nix's neededForUsers): no name can be looked up yet.
        for (const [field, a] of [["owner", owner], ["group", group]] as const) {
            if (!(a.kind === "id" && a.id === 0)) throw bad(field, "must be root (0) with needed_for_users: true, which deploys before users exist")
        }
    }
    return {
        index,
        name: e.name,
        source,
        owner,
        group,
        mode: e.mode ?? DEFAULT_MODE,
        ...(e.path !== undefined ? { path: e.path } : {}),
        restartUnits: e.restart_units ?? [],
        reloadUnits: e.reload_units ?? [],
        neededForUsers,
    }
}

/**
 * A `file:` / `template:` path. In `.sops.yaml` it must be relative and stay inside
 * the repository (the deploy checks again after resolving symlinks); a `--manifest`
 * file, written by root, may name absolute paths (the NixOS module's store paths).
 */
function checkSourcePath(p: string, absoluteOk: boolean, bad: (message: string, hints?: string[]) => ConfigError): void {
    if (p === "" || p.includes("\0")) throw bad("must be a file path")
    if (posix.isAbsolute(p)) {
        if (!absoluteOk) throw bad("must be relative to the directory of .sops.yaml", ["an absolute path is accepted only in a --manifest file"])
        return
    }
    const normal = posix.normalize(p)
    if (normal === ".." || normal.startsWith("../")) throw bad("must stay inside the directory of the manifest (no leading \"..\")")
}

/** Duplicate names, and a name that is also another's directory (`a` and `a/b`), cannot both be files. */
function checkNames(entries: readonly DeployEntry[], where: (index: number) => string): void {
    const seen = new Map<string, number>()
    for (const e of entries) {
        const key = `${e.neededForUsers ? "u" : "s"}:${e.name}`
        const first = seen.get(key)
        if (first !== undefined) throw new ConfigError(`${where(e.index)}.name: ${JSON.stringify(e.name)} is already the name of entry [${first}]`)
        seen.set(key, e.index)
    }
    for (const e of entries) {
        const segments = e.name.split("/")
        for (let i = 1; i < segments.length; i++) {
            const dir = seen.get(`${e.neededForUsers ? "u" : "s"}:${segments.slice(0, i).join("/")}`)
            if (dir !== undefined) throw new ConfigError(`${where(e.index)}.name: ${JSON.stringify(e.name)} is inside entry [${dir}], which is a file`)
        }
    }
}

function issueError(error: z.ZodError, at: readonly PropertyKey[], top: unknown, where: Where): ConfigError {
    const issue = error.issues[0]
    if (issue === undefined) return new ConfigError(`${where(at, top)}: invalid`)
    const path = [...at, ...issue.path]
    if (issue.code === "unrecognized_keys") {
        const key = issue.keys[0] ?? ""
        return new ConfigError(`${where([...path, key], top)}: unknown field`, [hintForUnknown(key, at[0] === "deploy_options")])
    }
    const more = error.issues.length > 1 ? [`${error.issues.length - 1} more problem(s) after this one`] : []
    return new ConfigError(`${where(path, top)}: ${issue.message}`, more)
}

function hintForUnknown(key: string, options: boolean): string {
    if (options) return "deploy_options takes keep_generations"
    const fields = Object.keys(entrySchema.shape)
    const norm = (k: string) => k.toLowerCase().replaceAll(/[_-]/g, "")
    const close = fields.find((f) => norm(f) === norm(key)) ?? fields.find((f) => editDistance(f, key.toLowerCase()) <= 2)
    return close !== undefined ? `did you mean ${close}? an entry takes ${fields.join(", ")}` : `an entry takes ${fields.join(", ")}`
}

/** Levenshtein distance, for "did you mean" (keys are short: at most 16 characters are compared). */
function editDistance(a: string, b: string): number {
    const x = a.slice(0, 16)
    const y = b.slice(0, 16)
    let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
    for (let i = 1; i <= x.length; i++) {
        const row = [i]
        for (let j = 1; j <= y.length; j++) row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1)))
        prev = row
    }
    return prev[y.length] ?? 0
}

/** `deploy.web1[2] ("nginx.conf").mode`: the entry's name after its index, when it has one. */
function describePath(path: readonly PropertyKey[], data: unknown): string {
    let out = ""
    let node: unknown = data
    for (const seg of path) {
        if (typeof seg === "number") {
            out += `[${seg}]`
            node = Array.isArray(node) ? node[seg] : undefined
            const name = node !== null && typeof node === "object" ? (node as Record<string, unknown>).name : undefined
            if (typeof name === "string" && name.length <= MAX_NAME) out += ` (${JSON.stringify(name)})`
        } else {
            out += out === "" ? String(seg) : `.${String(seg)}`
            node = node !== null && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>)[String(seg)] : undefined
        }
    }
    return out
}

/**
 * A standalone `--manifest` file (JSON or YAML; JSON is read as YAML, which it is),
 * under the same input limits as `.sops.yaml`.
 */
export function parseManifestFile(text: string, origin: ManifestOrigin): DeployManifest {
    let data: unknown
    try {
        const doc = parseYamlStream(text, { uniqueKeys: true, logLevel: "error" })[0]
        if (doc === undefined) return emptyManifest(origin)
        const syntax = doc.errors[0]
        if (syntax !== undefined) throw new ConfigError(`${origin.source}: invalid YAML or JSON (${syntax.code.toLowerCase().replaceAll("_", " ")})`)
        checkAliasExpansion(doc, () => 0)
        data = doc.toJS({ maxAliasCount: -1 })
    } catch (e) {
        if (e instanceof InputLimitError) throw new ConfigError(`${origin.source}: ${e.detail}`, e.hints)
        throw e
    }
    return parseDeployManifest(data, origin, true)
}
