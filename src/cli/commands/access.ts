/**
 * `secrets access [--json]`: who can read what (issue 4 §5). A table of the
 * encrypted files under the config × the keys that can open them, from the
 * recipients stored in each file (not from the rules: the file is what an attacker
 * holding a key would open). Keys are named by their `.sops.yaml` anchors
 * (src/config/named-keys.ts); a recipient with no name shows as its first 12
 * characters. Files whose recipients differ from their creation rule are flagged,
 * cell by cell: `+` readable but not in the rule, `-` in the rule but not readable.
 */
import { Command, Option } from "commander"
import type { InventoryEntry } from "../../fleet/inventory.js"
import type { NamedKey } from "../../config/named-keys.js"
import type { LoadedFleetConfig } from "../../fleet/rekey-repo.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface AccessFlags {
    json?: boolean
}

/** A column of the table: a named key, or a recipient found in a file that has no name. */
export interface AccessKey {
    readonly name: string
    /** The named key's kind, or `unnamed`. */
    readonly kind: NamedKey["kind"] | "unnamed"
    readonly recipient: string
}

/** The `--json` document. */
export interface AccessReport {
    readonly files: { path: string; recipients: string[]; expected: string[]; inStep: boolean; categories?: string[] }[]
    readonly keys: AccessKey[]
}

export function registerAccess(program: Command, ctx: CommandContext): void {
    program
        .command("access")
        .description("show which keys can read which files, from the recipients stored in each file")
        .addOption(new Option("--json", "print the table as JSON"))
        .action(async (_opts: AccessFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<AccessFlags & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("access", [], opts, () => runAccess(ctx, opts))
        })
}

export async function runAccess(ctx: CommandContext, opts: AccessFlags & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { fleetConfigPath, PROGRESS_MIN_FILES } = await import("./status.js")
    const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const { takeInventory } = await import("../../fleet/inventory.js")
    const { readNamedKeys } = await import("../../config/named-keys.js")
    const { warn } = await import("../report.js")
    const loaded = await loadFleetConfig(io, await fleetConfigPath(io, opts.config))
    // At a terminal, a large repository shows how far the walk is (as status does).
    const { progressLine } = await import("../progress.js")
    const progress = progressLine(io, { minTotal: PROGRESS_MIN_FILES })
    let entries: InventoryEntry[]
    try {
        entries = await takeInventory(progress.io, loaded, (done, total) => progress.count("reading files", done, total))
    } finally {
        progress.clear()
    }
    for (const e of entries) if (!e.encrypted) warn(io, `${e.path} is not encrypted: anyone with the repository can read it`)
    const report = await withCategories(io, loaded, accessReport(readNamedKeys(loaded.text), entries), entries)
    io.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderAccess(report))
}

/**
 * The report for these named keys and inventory entries (plaintext entries are
 * left out: they have no recipients). Named keys come first in `.sops.yaml` order,
 * then unnamed recipients in the order files show them.
 */
export function accessReport(named: readonly NamedKey[], entries: readonly InventoryEntry[]): AccessReport {
    const keys: AccessKey[] = []
    const byRecipient = new Map<string, string>()
    const counts = new Map<string, number>()
    for (const k of named) counts.set(k.name, (counts.get(k.name) ?? 0) + 1)
    for (const k of named) {
        if (byRecipient.has(k.recipient)) continue
        // A host and a user may share a name (web1): the anchor keeps them apart.
        const name = (counts.get(k.name) ?? 0) > 1 ? k.anchor : k.name
        byRecipient.set(k.recipient, name)
        keys.push({ name, kind: k.kind, recipient: k.recipient })
    }
    const nameOf = (r: string): string => {
        const known = byRecipient.get(r)
        if (known !== undefined) return known
        const name = r.slice(0, 12)
        byRecipient.set(r, name)
        keys.push({ name, kind: "unnamed", recipient: r })
        return name
    }
    const files = entries
        .filter((e) => e.encrypted)
        .map((e) => ({
            path: e.path,
            recipients: e.recipients.map(nameOf),
            expected: (e.expected ?? []).map(nameOf),
            inStep: e.inStep,
        }))
    return { files, keys }
}

/**
 * Each file's categories (the `category:` of the value policies matching its key
 * paths, read from the encrypted text: nothing is decrypted), only when the config
 * gives categories, so that the table of a config without them is unchanged.
 */
async function withCategories(io: CommandContext["io"], loaded: LoadedFleetConfig, report: AccessReport, entries: readonly InventoryEntry[]): Promise<AccessReport> {
    const { relative } = await import("node:path")
    const { valuePolicies } = await import("../../fleet/value-policy.js")
    const { fileCategories, hasCategories } = await import("../../fleet/value-categories.js")
    const policies = valuePolicies(loaded.config.secrets, relative(io.cwd, loaded.path) || loaded.path)
    if (!hasCategories(policies)) return report
    const byPath = new Map(entries.map((e) => [e.path, e]))
    const files = await Promise.all(report.files.map(async (f) => {
        const entry = byPath.get(f.path)
        return { ...f, categories: entry === undefined ? [] : await fileCategories(policies, entry) }
    }))
    return { ...report, files }
}

/** FILE [| CATEGORIES] | one column per key | a trailing mark for files out of step. */
export function renderAccess(report: AccessReport): string {
    if (report.files.length === 0) return "no encrypted files under the config's directory\n"
    const withCategories = report.files.some((f) => f.categories !== undefined)
    const rows: string[][] = [["FILE", ...(withCategories ? ["CATEGORIES"] : []), ...report.keys.map((k) => k.name), ""]]
    for (const f of report.files) {
        const has = new Set(f.recipients)
        const want = new Set(f.expected)
        const cells = report.keys.map((k) => {
            if (has.has(k.name)) return f.inStep || want.has(k.name) ? "x" : "+"
            return !f.inStep && want.has(k.name) ? "-" : "."
        })
        const categories = withCategories ? [f.categories === undefined || f.categories.length === 0 ? "-" : f.categories.join(",")] : []
        rows.push([f.path, ...categories, ...cells, f.inStep ? "" : f.expected.length === 0 ? "! no rule" : "! out of step"])
    }
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? []
    const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd())
    const legend = report.files.some((f) => !f.inStep)
        ? ["", "x can read   . cannot read   + can read, not in its rule   - in its rule, cannot read"]
        : []
    return [...lines, ...legend].join("\n") + "\n"
}
