/**
 * The VALUE of `secrets set`: a JSON text turned into a tree node, typed the way
 * the JSON store types a file (sops-format.md §7.2, §10 "set").
 *
 * sops (cmd/sops/main.go jsonValueToTreeInsertableValue) first decodes the text
 * with encoding/json into `interface{}` and then, for an object, decodes it again
 * through the JSON store. So objects keep their key order and their integral
 * numbers become `int`, but a bare scalar number becomes a Go float64: `sops set f
 * '["n"]' 5` writes `type:float`. We deliberately type a bare number like the JSON
 * store does instead — an int64-sized integer literal is `int`, anything else
 * (`5.0`, `1e3`, beyond int64) is `float` — because `5` is what the user typed and
 * meant, the value then round-trips through decrypt/encrypt unchanged, and real
 * sops reads `type:int` and `type:float` alike. The only visible difference from
 * sops is the `type:` tag and the MAC input of that one value (`5` either way).
 *
 * A top-level JSON array is refused, as in sops (its JSON store needs an object),
 * with exit 7 (ErrorInvalidSetFormat), and so is text that is not JSON. Neither
 * message quotes the text: it is usually a secret.
 */
import { ExitCode, SecretsError } from "../errors.js"
import type { Node } from "../core/tree.js"
import { parseJsonDocument } from "../stores/json-parse.js"

const encoder = new TextEncoder()
// The value is parsed as the member of a one-key object, so that the JSON store's
// parser (ordered, int64-exact, Go's typing and Go's U+FFFD for invalid UTF-8) also
// handles bare scalars, which it refuses as whole documents.
const OPEN = encoder.encode("{\"v\":")
const CLOSE = encoder.encode("}")

/**
 * Parse the JSON text of a `set` value. Leading and trailing JSON whitespace
 * (a trailing newline from `echo` or an editor) is allowed. Throws a SecretsError
 * with exit code 7 for invalid JSON or an array, never quoting the text.
 */
export function parseJsonValue(input: string | Uint8Array): Node {
    const bytes = typeof input === "string" ? encoder.encode(input) : input
    const wrapped = new Uint8Array(OPEN.length + bytes.length + CLOSE.length)
    wrapped.set(OPEN, 0)
    wrapped.set(bytes, OPEN.length)
    wrapped.set(CLOSE, OPEN.length + bytes.length)

    let doc
    try {
        doc = parseJsonDocument(wrapped)
    } catch (e) {
        if (e instanceof SecretsError) throw invalidJson()
        throw e
    }
    // Text such as `1, "w": 2` parses as a second member of the wrapper: it is not one value.
    const only = doc.items[0]
    if (doc.items.length !== 1 || only === undefined || only.kind !== "entry") throw invalidJson()
    if (only.value.kind === "list") {
        throw new SecretsError(ExitCode.InvalidSetFormat, "invalid value: a JSON array cannot be set as a whole", [
            `set the elements one by one ('["list"][0]'), or wrap the array in an object: {"items": [...]}`,
        ])
    }
    return only.value
}

function invalidJson(): SecretsError {
    return new SecretsError(ExitCode.InvalidSetFormat, "invalid value: expected JSON, e.g. '\"text\"'", [
        "strings need double quotes inside the shell's single quotes: '\"my value\"'; numbers, true, false, null and {objects} are written as in JSON",
        "to store a file's text as a string, JSON-encode it first, e.g. jq -Rs . < file | secrets set --value-stdin FILE INDEX",
    ])
}
