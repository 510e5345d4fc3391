import { createYamlStore } from "../../../src/stores/yaml.js"
import type { Branch } from "../../../src/core/tree.js"

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Parse one plaintext YAML document. */
export function parse1(text: string): Branch {
    const docs = createYamlStore().parsePlain(enc(text))
    if (docs.length !== 1 || docs[0] === undefined) throw new Error(`expected one document, got ${docs.length}`)
    return docs[0]
}

export function emit(branches: Branch[], indent = 4): string {
    return dec(createYamlStore({ indent }).emitPlain(branches))
}
