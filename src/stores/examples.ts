/**
 * The document `edit` opens for a file that does not exist yet (sops-format.md §10.2
 * step 1): sops' `EmitExample`, which each store takes from one of three example
 * trees in sops' stores/stores.go. YAML and JSON show off nesting, a comment, a
 * float and booleans; INI can only hold sections of strings, dotenv only flat
 * strings; a binary file is one line of text.
 */
import { bool, comment, entry, float, list, map, str, type Branch } from "../core/tree.js"
import type { Format } from "./store.js"

/** The greeting every example starts with, word for word as sops writes it. */
export const EXAMPLE_GREETING = "Welcome to SOPS! Edit this file as you please!"

/** sops' ExampleComplexTree: used by the YAML and JSON stores (JSON drops the comment). */
function complexTree(): Branch {
    return map(
        entry("hello", str(EXAMPLE_GREETING)),
        entry("example_key", str("example_value")),
        // sops keeps the space after `#` in the comment's value.
        comment(" Example comment"),
        entry("example_array", list(str("example_value1"), str("example_value2"))),
        entry("example_number", float(1234.56789)),
        entry("example_booleans", list(bool(true), bool(false))),
    )
}

/** sops' ExampleSimpleTree: one section of strings, which is all INI can hold. */
function simpleTree(): Branch {
    return map(
        entry(
            "Welcome!",
            map(comment(" This is an example file."), entry("hello", str(EXAMPLE_GREETING)), entry("example_key", str("example_value"))),
        ),
    )
}

/** sops' ExampleFlatTree: flat strings for dotenv, including a multi-line one. */
function flatTree(): Branch {
    return map(
        comment(" This is an example file."),
        entry("hello", str(EXAMPLE_GREETING)),
        entry("example_key", str("example_value")),
        entry("example_multiline", str("foo\nbar\nbaz")),
    )
}

/**
 * The example documents for a new file of `format`, fresh on every call (callers
 * may hand them on to code that keeps them). The binary store holds its whole
 * content under `data`, so its example is that one line, without a newline, as in
 * sops' BinaryStore.EmitExample.
 */
export function exampleBranches(format: Format): Branch[] {
    switch (format) {
        case "yaml":
        case "json":
            return [complexTree()]
        case "ini":
            return [simpleTree()]
        case "dotenv":
            return [flatTree()]
        case "binary":
            return [map(entry("data", str(EXAMPLE_GREETING)))]
    }
}
