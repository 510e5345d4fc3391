/**
 * The argv of every op call `secrets` makes, built by pure functions so that tests
 * can hold them to exact arrays (style.md §5: pure argv builder + thin executor).
 *
 * Form: `--flag value` as separate words, after the positional argument, as
 * pyonepassword's captures of real op runs show (`item edit "X" ... --vault "V"`,
 * op-cli.md §4) and as the OpClient contract documents. op parses flags with
 * Cobra/pflag, where a string flag takes the next word whatever it starts with, so
 * a vault named `-x` is safe; a positional that starts with `-` is not (it would be
 * read as a flag), so then the flags go first and `--` ends them before it.
 *
 * No value ever goes on argv (op's docs: argv is visible to other processes):
 * create and edit take the whole item as a JSON template on stdin. OP_ACCOUNT,
 * OP_SESSION_* and OP_SERVICE_ACCOUNT_TOKEN reach op through its environment, so no
 * `--account` or `--session` is added here.
 */

/** `op read --no-newline REF`: the value exactly as stored, no newline added (op-cli.md §2). */
export function readArgv(reference: string): string[] {
    // A reference always starts with `op://` (op-reference.ts checks it first), so it
    // cannot be taken for a flag; the flag goes first as in op's own usage line.
    return ["read", "--no-newline", reference]
}

/** `op item get ITEM --vault VAULT --format json --reveal` (op ≥ 2.30 conceals values without --reveal). */
export function itemGetArgv(vault: string, item: string): string[] {
    return withPositional(["item", "get"], item, ["--vault", vault, "--format", "json", "--reveal"])
}

/** What {@link itemListArgv} can filter on; op matches both case-insensitively. */
export interface ItemListFilter {
    readonly tags?: readonly string[]
    readonly categories?: readonly string[]
}

/** `op item list --vault VAULT [--tags T,…] [--categories C,…] --format json`. */
export function itemListArgv(vault: string, filter: ItemListFilter = {}): string[] {
    const argv = ["item", "list", "--vault", vault]
    if (filter.tags !== undefined && filter.tags.length > 0) argv.push("--tags", csvJoin(filter.tags))
    if (filter.categories !== undefined && filter.categories.length > 0) argv.push("--categories", csvJoin(filter.categories))
    argv.push("--format", "json")
    return argv
}

/** `op item create - --vault VAULT --format json`: `-` makes op read the template from stdin (op-cli.md §4). */
export function itemCreateArgv(vault: string): string[] {
    return ["item", "create", "-", "--vault", vault, "--format", "json"]
}

/** `op item edit ITEM --vault VAULT --format json`, the template on stdin (op ≥ 2.23). */
export function itemEditArgv(vault: string, item: string): string[] {
    return withPositional(["item", "edit"], item, ["--vault", vault, "--format", "json"])
}

/** `op --version`. */
export function versionArgv(): string[] {
    return ["--version"]
}

/** The op subcommand of an argv, for messages: `op read`, `op item get`, `op --version`. */
export function describeArgv(argv: readonly string[]): string {
    const [first, second] = argv
    if (first === "item" && second !== undefined) return `op item ${second}`
    return first !== undefined ? `op ${first}` : "op"
}

function withPositional(command: string[], positional: string, flags: string[]): string[] {
    if (positional.startsWith("-")) return [...command, ...flags, "--", positional]
    return [...command, positional, ...flags]
}

/**
 * pflag reads string-slice flags as one CSV record, so a tag holding a comma or a
 * quote must be quoted the CSV way or op would split it.
 */
function csvJoin(values: readonly string[]): string {
    return values.map((v) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(",")
}
