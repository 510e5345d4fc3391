/**
 * The binary store (sops-format.md §6.2): any file sops does not recognise. The
 * whole input is one value under `data`; the encrypted form is a JSON document.
 */
import { binaryTooLarge, MAX_BINARY_BYTES } from "../core/input-limits.js"
import { FormatError } from "../errors.js"
import type { Branch, Node } from "../core/tree.js"
import { bytes, entry, map } from "../core/tree.js"
import { createJsonStore } from "./json.js"
import type { EncryptedDocument, Store, StoreOptions } from "./store.js"

const EMIT_ERROR = "error emitting binary store"

/** A binary store; `indent` is `stores.json_binary.indent` (default -1, one tab). */
export function createBinaryStore(opts: StoreOptions = {}): Store {
    const json = createJsonStore(opts)
    return {
        format: "binary",
        parsePlain(input: Uint8Array): Branch[] {
            // Above this its encrypted form would not fit one Buffer with room to spare
            // (input-limits.ts); from stdin, nothing checked the size before.
            if (input.length > MAX_BINARY_BYTES) throw binaryTooLarge(input.length)
            // Raw bytes, not text: a binary file need not be UTF-8, and its MAC is
            // the SHA-512 of exactly these bytes. Not copied: nothing writes to an
            // input buffer, and a copy doubled the memory of a large file.
            return [map(entry("data", bytes(input)))]
        },
        parseEncrypted(input: Uint8Array): EncryptedDocument {
            return json.parseEncrypted(input)
        },
        emitPlain(branches: readonly Branch[]): Uint8Array {
            if (branches.length !== 1) {
                throw new FormatError(EMIT_ERROR, ["there must be exactly one document"])
            }
            for (const item of branches[0]?.items ?? []) {
                if (item.kind !== "entry" || item.key !== "data") continue
                if (item.value.kind === "bytes") return item.value.value
                if (item.value.kind === "str") return new TextEncoder().encode(item.value.value)
                throw new FormatError(EMIT_ERROR, ["the \"data\" key does not hold a string"])
            }
            throw new FormatError(EMIT_ERROR, [
                "no \"data\" key found; to decrypt a structured file, pass --output-type (e.g. json or yaml)",
            ])
        },
        emitEncrypted(doc: EncryptedDocument): Uint8Array {
            return json.emitEncrypted(doc)
        },
        emitValue(_node: Node): Uint8Array {
            throw new FormatError("binary files are not structured and extracting a single value is not possible")
        },
    }
}
