/**
 * What `secrets op pull|push|sync` share: the source options (`--mapping MAP` or
 * `--vault V [--item I…] [--tags T]`), their checks, and turning a source into
 * the values wanted in the file. Commander objects only; the heavy modules are
 * imported inside the functions, as in every command.
 */
import { Option, type Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { PathStep } from "../../core/tree-path.js"
import type { Format } from "../../stores/store.js"
import type { OpClient } from "../../integrations/op-types.js"
import type { MappedValue } from "../../sync/mapping.js"
import type { ItemSelection } from "../../sync/from-items.js"
import type { PruneScope, WantedValue } from "../../sync/plan.js"
import type { Io } from "../../files/io.js"

/** The source flags as commander gives them. */
export interface SourceOptions {
    mapping?: string
    vault?: string
    item?: string[]
    tags?: string
    flat?: boolean
}

/** A checked source. */
export type Source =
    | { readonly kind: "mapping"; readonly file: string; readonly mapped: readonly MappedValue[] }
    | { readonly kind: "vault"; readonly selection: ItemSelection }

/** Add `--mapping`, `--vault`, `--item` (repeatable) and `--tags` to `cmd`. */
export function addSourceOptions(cmd: Command, verb: "pull" | "sync"): Command {
    return cmd
        .addOption(new Option("--mapping <file>", `a YAML/JSON file mirroring the file's tree with op:// references as leaves`))
        .addOption(new Option("--vault <vault>", `${verb} the items of this vault (name or ID)`))
        .addOption(new Option("--item <item>", "only this item (title or ID); repeat for several").argParser(collect))
        .addOption(new Option("--tags <tags>", "only items with one of these comma-separated tags"))
        .addOption(new Option("--flat", "with one --item: the file is that item, its fields at the top level (no item key)"))
}

function collect(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value]
}

/** Exactly one of `--mapping` and `--vault`; `--item`/`--tags` only with `--vault`, not together (exit 8). */
export function checkSourceFlags(opts: SourceOptions): void {
    const usage = "use --mapping MAP, or --vault VAULT with optional --item or --tags"
    if (opts.mapping !== undefined && opts.vault !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--mapping and --vault cannot be used together: a mapping names its vaults itself", [usage])
    }
    if (opts.mapping === undefined && opts.vault === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "say where the values come from", [usage])
    }
    if (opts.vault === undefined && ((opts.item?.length ?? 0) > 0 || opts.tags !== undefined)) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--item and --tags choose items of a vault: they need --vault", [usage])
    }
    if ((opts.item?.length ?? 0) > 0 && opts.tags !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--item and --tags cannot be used together: named items are fetched whatever their tags", [usage])
    }
    if (opts.flat === true && opts.item?.length !== 1) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--flat needs exactly one --item: the file is that one item", [
            "e.g. secrets op pull .env --vault Dev --item myapp --flat",
        ])
    }
}

/** Read and check the source: the mapping file is parsed here, before any op call. */
export async function loadSource(io: Io, opts: SourceOptions): Promise<Source> {
    checkSourceFlags(opts)
    if (opts.mapping !== undefined) {
        return { kind: "mapping", file: opts.mapping, mapped: await readMapping(io, opts.mapping) }
    }
    const tags = opts.tags
        ?.split(",")
        .map((t) => t.trim())
        .filter((t) => t !== "")
    return {
        kind: "vault",
        selection: {
            vault: opts.vault ?? "",
            ...((opts.item?.length ?? 0) > 0 ? { items: opts.item } : {}),
            ...(tags !== undefined && tags.length > 0 ? { tags } : {}),
            ...(opts.flat === true ? { flat: true } : {}),
        },
    }
}

export async function readMapping(io: Io, file: string): Promise<MappedValue[]> {
    const { readFile } = await import("node:fs/promises")
    const { resolve } = await import("node:path")
    let text: string
    try {
        text = await readFile(resolve(io.cwd, file), "utf8")
    } catch (e) {
        const code = (e as { code?: string }).code
        throw new SecretsError(
            code === "ENOENT" ? ExitCode.NoFileSpecified : ExitCode.CouldNotReadInputFile,
            `cannot read mapping ${quote(file)}: ${code === "ENOENT" ? "it does not exist" : (code ?? "unknown error")}`,
        )
    }
    const { parseMapping } = await import("../../sync/mapping.js")
    return parseMapping(text, file)
}

/**
 * Mapped paths must fit the target format before anything is fetched: dotenv is
 * flat (one key per value) and INI is two levels (section, key).
 */
export function checkMappingFits(mapped: readonly MappedValue[], format: Format, mappingFile: string): void {
    const depth = format === "dotenv" ? 1 : format === "ini" ? 2 : undefined
    if (format === "binary") {
        throw new SecretsError(ExitCode.ConflictingParameters, "a binary file holds one blob, not named values: use a .yaml, .json, .env or .ini file", [
            "or pass --input-type to say what the file is",
        ])
    }
    if (depth === undefined) return
    for (const m of mapped) {
        if (m.path.length !== depth || m.path.some((s) => typeof s === "number")) {
            throw new SecretsError(ExitCode.ConflictingParameters, `mapping ${quote(mappingFile)}: ${show(m.path)} does not fit a ${format} file`, [
                format === "dotenv" ? "a dotenv file is flat: map top-level keys only, e.g. DB_PASSWORD: op://Prod/db/password" : "an INI file has sections of keys: map section.key pairs, e.g. db: {password: op://Prod/db/password}",
            ])
        }
    }
}

function show(path: readonly PathStep[]): string {
    return path.map((s) => (typeof s === "number" ? `[${s}]` : `["${s}"]`)).join("")
}

/** The wanted values and the prune scopes for `source`, fetched through `client`. */
export async function wantedFrom(client: OpClient, source: Source, format: Format): Promise<{ wanted: WantedValue[]; scopes: PruneScope[] }> {
    if (source.kind === "mapping") {
        checkMappingFits(source.mapped, format, source.file)
        const { resolveMapping } = await import("../../sync/resolve.js")
        const wanted = await resolveMapping(client, source.mapped)
        // With a mapping, prune works inside the mappings it names (e.g. under
        // ["db"]), never at the top level, where hand-set values live.
        const parents = new Map<string, readonly PathStep[]>()
        for (const m of source.mapped) if (m.path.length > 1) parents.set(show(m.path.slice(0, -1)), m.path.slice(0, -1))
        return { wanted, scopes: [...parents.values()].map((path) => ({ path })) }
    }
    const { fetchItems, itemsToWanted, itemScopes } = await import("../../sync/from-items.js")
    const items = await fetchItems(client, source.selection)
    return { wanted: itemsToWanted(items, format, source.selection.flat === true), scopes: itemScopes(items, source.selection, format) }
}

/** A client for this run; one per run (or per `--watch` round), so `read` caching never serves stale values. */
export async function opClient(io: Io): Promise<OpClient> {
    const { opClientFromEnv } = await import("../../integrations/op.js")
    return opClientFromEnv(io.env)
}
