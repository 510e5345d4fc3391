/**
 * 1Password secret references, `op://vault/item[/section]/field[?query]`
 * (op-cli.md §1). Pure: no process is run here.
 *
 * We check only what op itself checks (the `op://` prefix, 3 or 4 non-empty
 * segments) and leave names alone: op resolves names case-insensitively and by ID,
 * and the documented character set (letters, digits, `-`, `_`, `.`, space) is not
 * something op enforces on `read`, so being stricter would refuse references op
 * accepts. Nothing is URL-decoded: spaces are literal in op's references.
 *
 * A reference is not a secret and may appear in messages. A text that does not
 * start with `op://` may be a value passed by mistake, so that one is never echoed.
 */
import type { OpReference } from "./op-types.js"
import { OpError } from "./op-errors.js"

const PREFIX = "op://"

// op's own wording (op-cli.md §1, quoted from op 2.x), so users can search for it.
const TOO_FEW = "too few '/': secret references should have at least vault, item and field specified"
const TOO_MANY = "too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>"

/** True when `text` is meant as a 1Password reference: it starts with `op://`. */
export function isOpReference(text: string): boolean {
    return text.startsWith(PREFIX)
}

/**
 * Parse a secret reference. Throws OpError kind "bad-reference" with op's own
 * texts for too few or too many segments, and for an empty segment.
 */
export function parseOpReference(text: string): OpReference {
    if (!isOpReference(text)) {
        throw new OpError("bad-reference", "not a 1Password secret reference: it does not start with op://", [
            "a reference looks like op://vault/item/field or op://vault/item/section/field",
        ])
    }
    // A control character cannot be in a name op can resolve, and echoing one would
    // garble the terminal line of the message.
    if (/[\u0000-\u001f\u007f]/.test(text)) {
        throw new OpError("bad-reference", "invalid secret reference: it contains a control character (a newline?)")
    }
    const bad = (why: string): OpError => new OpError("bad-reference", `invalid secret reference '${text}': ${why}`, [
        "a reference looks like op://vault/item/field or op://vault/item/section/field; a name with '/' must be replaced by its ID",
    ])
    const rest = text.slice(PREFIX.length)
    const q = rest.indexOf("?")
    const path = q === -1 ? rest : rest.slice(0, q)
    const query = q === -1 ? undefined : rest.slice(q + 1)
    const segments = path.split("/")
    if (segments.length < 3) throw bad(TOO_FEW)
    if (segments.length > 4) throw bad(TOO_MANY)
    const names = ["vault", "item", ...(segments.length === 4 ? ["section"] : []), "field"]
    segments.forEach((s, i) => {
        if (s === "") throw bad(`the ${names[i] ?? "field"} name is empty`)
    })
    const [vault, item, third, fourth] = segments as [string, string, string, string | undefined]
    return {
        vault,
        item,
        ...(fourth !== undefined ? { section: third, field: fourth } : { field: third }),
        ...(query !== undefined && query !== "" ? { query } : {}),
        text,
    }
}

/** The reference text for `ref` (vault, item, section, field, query); `text` is ignored. */
export function formatOpReference(ref: Omit<OpReference, "text"> & { readonly text?: string }): string {
    const section = ref.section !== undefined ? `${ref.section}/` : ""
    const query = ref.query !== undefined && ref.query !== "" ? `?${ref.query}` : ""
    return `${PREFIX}${ref.vault}/${ref.item}/${section}${ref.field}${query}`
}
