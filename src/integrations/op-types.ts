/**
 * The contract between `secrets` and the 1Password CLI, as the rest of the program
 * sees it (issue 5). `op.ts` implements {@link OpClient} over a real `op` process;
 * commands and identity sources use only this interface, so they are tested with the
 * stand-in `op` (test/op-standin) and never depend on anything only the stand-in does.
 *
 * The JSON shapes are op 2.x's `--format json` output (../shared/docs/op-cli.md §3):
 * keys are omitted when empty, never null, and a field's `value` is absent when the
 * field is empty.
 */

/** `op://vault/item[/section]/field[?query]`, parsed (op-cli.md §1). */
export interface OpReference {
    readonly vault: string
    readonly item: string
    /** Present for four-segment references. */
    readonly section?: string
    readonly field: string
    /** The query string without `?`, e.g. `attribute=otp`; absent when there is none. */
    readonly query?: string
    /** The reference exactly as written. */
    readonly text: string
}

/** One field of an item (`op item get --format json`). */
export interface OpField {
    readonly id: string
    readonly type: string
    readonly purpose?: string
    readonly label?: string
    readonly value?: string
    readonly section?: { readonly id: string; readonly label?: string }
    readonly reference?: string
}

/** An item summary (`op item list --format json`): no fields, no sections. */
export interface OpItemSummary {
    readonly id: string
    readonly title: string
    readonly version: number
    readonly vault: { readonly id: string; readonly name: string }
    readonly category: string
    readonly tags?: readonly string[]
    readonly created_at?: string
    readonly updated_at?: string
}

/** A whole item (`op item get --format json --reveal`). */
export interface OpItem extends OpItemSummary {
    readonly sections?: readonly { readonly id: string; readonly label?: string }[]
    readonly fields?: readonly OpField[]
}

/**
 * An item template as `op item create -` / `op item edit ID` read it on stdin: the
 * item JSON shape, only the keys that matter. Values travel here, never on argv.
 */
export interface OpItemTemplate {
    readonly title: string
    readonly category: string
    readonly vault?: { readonly id: string }
    readonly tags?: readonly string[]
    readonly sections?: readonly { readonly id: string; readonly label?: string }[]
    readonly fields: readonly OpField[]
}

/** What an op failure was, classified from its stderr (op-cli.md §2, §3, §7). */
export type OpErrorKind =
    | "not-installed"
    | "signed-out"
    | "vault-not-found"
    | "item-not-found"
    | "field-not-found"
    | "ambiguous"
    | "bad-reference"
    | "rate-limited"
    | "conflict"
    | "forbidden"
    | "timeout"
    | "crashed"
    | "failed"

/**
 * The 1Password operations `secrets` needs. Every method throws an `OpError`
 * (op.ts, a SecretsError whose `kind` is an {@link OpErrorKind}) with a message that
 * names the reference or item and never a value.
 */
export interface OpClient {
    /** `op read --no-newline REF`: the value exactly as stored. Cached per reference for the client's life. */
    read(reference: string): Promise<string>
    /** `op item get ITEM --vault VAULT --format json --reveal`. */
    getItem(vault: string, item: string): Promise<OpItem>
    /** `op item list --vault VAULT [--tags T] [--categories C] --format json`. */
    listItems(vault: string, filter?: { readonly tags?: readonly string[]; readonly categories?: readonly string[] }): Promise<OpItemSummary[]>
    /** `op item create - --vault VAULT --format json` with the template on stdin. */
    createItem(vault: string, template: OpItemTemplate): Promise<OpItem>
    /** `op item edit ITEM --vault VAULT --format json` with the whole template on stdin (op >= 2.23). */
    editItem(vault: string, item: string, template: OpItemTemplate): Promise<OpItem>
}

/** How to reach `op`. */
export interface OpClientOptions {
    /** The complete environment for `op` (PATH, HOME, OP_SERVICE_ACCOUNT_TOKEN, OP_SESSION_*, …). */
    readonly env: Readonly<Record<string, string | undefined>>
    /** The program to run; `op` (found on PATH) unless `SECRETS_OP_BIN` says otherwise. */
    readonly bin?: string
    /** Per call; default 30 s (a desktop-app approval prompt can take a while). */
    readonly timeoutMs?: number
    /** Extra tries after a `(409) Conflict`, with backoff; default 3, as the Terraform provider does. */
    readonly conflictRetries?: number
}
