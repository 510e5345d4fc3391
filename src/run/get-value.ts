/**
 * `secrets get NAME` (issue 13 point 4): one value by name from the first loader
 * of the chain (run/loader-chain.ts) that has it. The three loaders:
 *
 * - env: our own environment. Never for an identity variable (SOPS_AGE_KEY, …)
 *   nor a 1Password credential (OP_SERVICE_ACCOUNT_TOKEN, OP_SESSION_*): `get`
 *   answers names that scripts and templates often take from committed files,
 *   and must not become a way to print the key that opens every file. Such a
 *   name can still come from a file (a deploy key kept encrypted there is a
 *   value the caller could decrypt anyway).
 * - files: the profile's files, then each `--file`, first document only. A name
 *   is a top-level key with a scalar value, or, when it has `__`, a flat name
 *   (`db__password`, core/flat-names.ts; a top-level `a__b` is one too), refused
 *   when two key paths share it. As in `secrets run`, a later file
 *   wins, so the files are searched from the last one back and the search stops
 *   at the first that has the name: earlier files are not decrypted at all.
 * - op: the profile's 1Password item (`op: {vault, item}`), read once, the field
 *   whose label is the name. No item in the profile: nothing to look in.
 *
 * What counts as absent: an unset or EMPTY environment variable (a CI variable
 * that expands to nothing must not hide the real value behind it), a null in a
 * file (nothing authenticates a null, as in run and exec-env), a 1Password field
 * with no value. An empty string written in a file is a value.
 *
 * Values become text as in exec-env and run (valueToString: sops' number and
 * boolean forms). Nothing here puts a value into a message.
 */
import type { Node } from "../core/tree.js"
import { FLAT_SEPARATOR, flatLeaves } from "../core/flat-names.js"
import { describePath } from "../core/tree-path.js"
import { DEFAULT_ORDER, parseLoaderOrder, type LoaderName, type OpItem } from "../config/profiles.js"
import type { OpenedFile } from "../engine/open.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { IDENTITY_VARIABLES } from "../files/identity-variables.js"
import type { Io } from "../files/io.js"
import { openInput, readInput } from "../files/open-file.js"
import { selectProfile } from "../fleet/profile-files.js"
import { formatOpReference } from "../integrations/op-reference.js"
import type { OpClient, OpField } from "../integrations/op-types.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { valueToString } from "../stores/flatten.js"
import { firstHit, type ChainHit, type Hit, type Loader } from "./loader-chain.js"

export interface GetValueOptions {
    readonly name: string
    /** A profile of .sops.yaml: its files, its 1Password item, its loader order. */
    readonly profile?: string
    /** More files, searched after the profile's (so they win over them). */
    readonly files?: readonly string[]
    /** `--order env,files,op`, over the profile's `order:`. */
    readonly order?: string
    /** `--config`, where the profile is looked up. */
    readonly config?: string
    /** How a file is opened; by default openInput with the usual identities. */
    readonly open?: (file: string) => Promise<OpenedFile>
    /** The 1Password client, made only when the op loader is asked. */
    readonly opClient: () => OpClient
}

/**
 * Names the environment never answers: the identity variables, anything our own
 * identity lookup may read in future (SOPS_AGE_*, SECRETS_AGE_*), and the
 * credentials that open a 1Password account.
 */
export function credentialVariable(name: string): boolean {
    return (
        IDENTITY_VARIABLES.includes(name) ||
        name.startsWith("SOPS_AGE_") ||
        name.startsWith("SECRETS_AGE_") ||
        name === "OP_SERVICE_ACCOUNT_TOKEN" ||
        name === "OP_CONNECT_TOKEN" ||
        name.startsWith("OP_SESSION_")
    )
}

export function envLoader(env: Readonly<Record<string, string | undefined>>): Loader {
    return {
        name: "env",
        where: "env",
        lookup: async (name) => {
            if (credentialVariable(name)) return undefined
            const value = env[name]
            return value === undefined || value === "" ? undefined : { value, source: "env" }
        },
    }
}

/** A name the files have only as a mapping or list, for the not-found hint. */
export interface NestedName {
    readonly file: string
    readonly kind: "mapping" | "list"
}

export function filesLoader(
    files: readonly string[],
    open: (file: string) => Promise<OpenedFile>,
    onNested: (n: NestedName) => void = () => {},
    where = `files (${files.length === 0 ? "none given" : files.length})`,
): Loader {
    return {
        name: "files",
        where,
        lookup: async (name) => {
            for (let i = files.length - 1; i >= 0; i--) {
                const file = files[i]!
                let found: Hit | undefined
                try {
                    found = inFile(await open(file), file, name, onNested)
                } catch (e) {
                    throw e instanceof SecretsError ? e.about(quote(file)) : e
                }
                if (found !== undefined) return found
            }
            return undefined
        },
    }
}

/** `name` in the first document of one opened file, or undefined. */
function inFile(opened: OpenedFile, file: string, name: string, onNested: (n: NestedName) => void): Hit | undefined {
    const doc = opened.branches[0]
    if (doc === undefined || name === "") return undefined
    if (name.includes(FLAT_SEPARATOR)) {
        // A flat name (a top-level `a__b` is one too). Flattening refuses two key
        // paths with one flat name (core/flat-names.ts), as run --flatten and export
        // do: which one get printed would otherwise depend on key order.
        const leaf = flatLeaves(doc, "rename one of the keys").find((l) => l.name === name)
        if (leaf === undefined || leaf.node.kind === "map" || leaf.node.kind === "list" || leaf.node.kind === "null") return undefined
        return { value: valueToString(leaf.node), source: leaf.path.length === 1 ? `file ${file}` : `file ${file}#${describePath(leaf.path)}` }
    }
    let top: Node | undefined
    // The last of duplicate keys, as `run` (which assigns in file order) would leave it.
    for (const item of doc.items) if (item.kind === "entry" && item.key === name) top = item.value
    if (top === undefined || top.kind === "null") return undefined
    if (top.kind === "map" || top.kind === "list") {
        onNested({ file, kind: top.kind === "map" ? "mapping" : "list" })
        return undefined
    }
    return { value: valueToString(top), source: `file ${file}` }
}

export function opLoader(item: OpItem | undefined, client: () => OpClient, why = "the profile names no item"): Loader {
    let fields: Promise<readonly OpField[]> | undefined
    return {
        name: "op",
        where: item === undefined ? `op (${why})` : `op (item ${quote(item.item)} in vault ${quote(item.vault)})`,
        lookup: async (name) => {
            if (item === undefined) return undefined
            // One `op item get` however many names are asked: each op call may be a
            // network round trip, a rate-limited request or an approval prompt.
            fields ??= client()
                .getItem(item.vault, item.item)
                .then((got) => got.fields ?? [])
            const matches = (await fields).filter((f) => f.label === name)
            if (matches.length > 1) {
                const where = matches.map((f) => (f.section?.label !== undefined ? `section ${quote(f.section.label)}` : "no section")).join(", ")
                throw new SecretsError(ExitCode.Generic, `1Password item ${quote(`${item.vault}/${item.item}`)} has ${matches.length} fields labelled ${quote(name)} (${where})`, [
                    "rename all but one in 1Password: which one get printed would be a guess",
                ])
            }
            const field = matches[0]
            if (field === undefined || field.value === undefined || field.value === "") return undefined
            return { value: field.value, source: `op ${formatOpReference({ vault: item.vault, item: item.item, field: name })}` }
        },
    }
}

/** Open one file with the identities `io` carries, its format from its name. */
export async function openFile(io: Io, file: string): Promise<OpenedFile> {
    return openInput(io, file, await readInput(io, file), await loadStore(formatForPath(file)), {})
}

/** The value of `opts.name` from the first loader that has it; a SecretsError (exit 1) naming where it looked when none has. */
export async function getValue(io: Io, opts: GetValueOptions): Promise<ChainHit> {
    const name = opts.name
    if (name === "") throw new SecretsError(ExitCode.Generic, "the name is empty", ["give the name of a value, e.g. secrets get DB_PASSWORD"])
    const selected = opts.profile === undefined ? undefined : await selectProfile(io, opts.profile, opts.config)
    const order: readonly LoaderName[] = opts.order !== undefined ? parseLoaderOrder(opts.order, "--order") : (selected?.profile.order ?? DEFAULT_ORDER)
    const files = [...(selected?.files ?? []), ...(opts.files ?? [])]
    const open = opts.open ?? ((file: string) => openFile(io, file))
    const nested: NestedName[] = []
    const loaders = [
        envLoader(io.env),
        filesLoader(files, open, (n) => nested.push(n), filesWhere(files.length, selected?.profile.name, (opts.files ?? []).length > 0)),
        opLoader(selected?.profile.op, opts.opClient, selected === undefined ? "no profile" : "the profile names no item"),
    ]
    const hit = await firstHit(order, loaders, name)
    if (hit !== undefined) return hit
    throw notFound(name, order, loaders, { nested, haveFiles: files.length > 0 })
}

/** `files (3 of profile "dev" and --file)`: how many were searched and where they came from. */
function filesWhere(count: number, profile: string | undefined, flags: boolean): string {
    const from = [...(profile !== undefined ? [`profile ${quote(profile)}`] : []), ...(flags ? ["--file"] : [])].join(" and ")
    if (count === 0) return profile !== undefined ? `files (profile ${quote(profile)} has none)` : "files (none given)"
    return `files (${count}${from === "" ? "" : ` of ${from}`})`
}

function notFound(name: string, order: readonly LoaderName[], loaders: readonly Loader[], seen: { nested: readonly NestedName[]; haveFiles: boolean }): SecretsError {
    const looked = order.map((n) => loaders.find((l) => l.name === n)?.where ?? n)
    const hints: string[] = []
    for (const n of seen.nested) hints.push(`${quote(n.file)} has ${quote(name)} as a ${n.kind}: ask for one of its values by its flat name, e.g. ${name}${FLAT_SEPARATOR}${n.kind === "list" ? "0" : "KEY"}`)
    if (order.includes("env") && credentialVariable(name)) {
        hints.push(`the environment is never searched for ${name}: it holds an identity or a 1Password credential, which get does not print`)
    }
    if (order.includes("files") && !seen.haveFiles) hints.push("name the files to search with --profile P or --file F")
    hints.push("names are case-sensitive; secrets ls FILE lists the key paths of a file")
    return new SecretsError(ExitCode.Generic, `${quote(name)} not found: looked in ${looked.join(", ")}`, hints)
}
