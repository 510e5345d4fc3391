/**
 * The format-agnostic document tree that every store reads into and writes from.
 *
 * It mirrors sops' TreeBranch/TreeItem model (sops.go) with discriminated unions in
 * place of `interface{}`: a file is a list of documents (YAML may have several, every
 * other format has one), a document is a mapping, and mappings keep their items in
 * file order. Comments are items too, because sops encrypts them and because an edit
 * must put them back where they were.
 *
 * Scalars carry the type sops would give them (go-yaml v3 / encoding/json typing),
 * because the type decides both the `type:` tag of an ENC value and the bytes the MAC
 * hashes (sops-format.md §1, §4).
 */

/** A leaf value. */
export type Scalar =
    | { readonly kind: "str"; readonly value: string }
    /**
     * Raw bytes that need not be UTF-8: the whole input of the binary store, or a
     * decrypted `str` value that was not valid UTF-8. Encrypts as `type:str`.
     */
    | { readonly kind: "bytes"; readonly value: Uint8Array }
    /** A Go int64, kept exact. */
    | { readonly kind: "int"; readonly value: bigint }
    /** A Go float64. */
    | { readonly kind: "float"; readonly value: number }
    | { readonly kind: "bool"; readonly value: boolean }
    /**
     * A YAML timestamp, held as the text Go's `time.Time.MarshalText` prints for it
     * (RFC 3339 with nanoseconds trimmed, `Z` for UTC), which is also what sops
     * encrypts and hashes.
     */
    | { readonly kind: "time"; readonly value: string }
    /** YAML `null`/`~`/empty, JSON `null`: never encrypted, never hashed. */
    | { readonly kind: "null" }

/** A comment line, without its leading `#`. */
export interface Comment {
    readonly kind: "comment"
    readonly text: string
    /**
     * True for a comment that stood on the same line as the value it follows
     * (`key: value # note`); YAML emits it inline again (sops ≥ 3.13.0).
     */
    readonly inline?: boolean
}

export interface Mapping {
    readonly kind: "map"
    readonly items: MapItem[]
}

export interface Sequence {
    readonly kind: "list"
    readonly items: ListItem[]
}

export interface Entry {
    readonly kind: "entry"
    readonly key: string
    readonly value: Node
}

export type Node = Scalar | Mapping | Sequence
export type MapItem = Entry | Comment
export type ListItem = Node | Comment

/** One document of a file. Top-level arrays and scalars are not supported (sops-format.md §11.9). */
export type Branch = Mapping

// Small constructors keep fixtures and stores readable.
export const str = (value: string): Scalar => ({ kind: "str", value })
export const bytes = (value: Uint8Array): Scalar => ({ kind: "bytes", value })
export const int = (value: bigint | number): Scalar => ({ kind: "int", value: BigInt(value) })
export const float = (value: number): Scalar => ({ kind: "float", value })
export const bool = (value: boolean): Scalar => ({ kind: "bool", value })
export const time = (value: string): Scalar => ({ kind: "time", value })
export const nil: Scalar = { kind: "null" }
export const comment = (text: string, inline = false): Comment =>
    inline ? { kind: "comment", text, inline } : { kind: "comment", text }
export const entry = (key: string, value: Node): Entry => ({ kind: "entry", key, value })
export const map = (...items: MapItem[]): Mapping => ({ kind: "map", items })
export const list = (...items: ListItem[]): Sequence => ({ kind: "list", items })

export function isScalar(n: Node | Comment): n is Scalar {
    return n.kind !== "map" && n.kind !== "list" && n.kind !== "comment"
}

/** The value under `key` in a mapping, or undefined. The first match wins, as in sops. */
export function lookup(m: Mapping, key: string): Node | undefined {
    for (const item of m.items) {
        if (item.kind === "entry" && item.key === key) return item.value
    }
    return undefined
}
