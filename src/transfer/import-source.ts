/**
 * The plaintext source of `secrets import`: a `.env` (dotenv-source.ts), YAML or
 * JSON file, or stdin. It holds secrets in clear, so every error names the source
 * and a line or key, never its text.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { Branch } from "../core/tree.js"
import { loadStore } from "../stores/index.js"
import { parseDotenvSource } from "./dotenv-source.js"

export const SOURCE_TYPES = ["dotenv", "yaml", "json"] as const
export type SourceType = (typeof SOURCE_TYPES)[number]

/** The type a source's name says: `.json`, `.yaml`/`.yml`, and `.env`, `x.env` or `.env.local` for dotenv. */
export function sourceTypeFor(name: string): SourceType | undefined {
    const base = name.split(/[\\/]/).pop() ?? ""
    if (base.endsWith(".json")) return "json"
    if (base.endsWith(".yaml") || base.endsWith(".yml")) return "yaml"
    if (base.endsWith(".env") || base === ".env" || base.startsWith(".env.")) return "dotenv"
    return undefined
}

export function parseImportSource(bytes: Uint8Array, type: SourceType, name: string): Promise<Branch> {
    return parse(bytes, type).catch((e: unknown) => {
        if (e instanceof SecretsError) {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, e.detail, e.hints).about(quote(name))
        }
        throw e
    })
}

async function parse(bytes: Uint8Array, type: SourceType): Promise<Branch> {
    let text: string
    try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes)
    } catch {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, "is not UTF-8 text")
    }
    if (type === "dotenv") return parseDotenvSource(text)
    const store = await loadStore(type)
    const docs = store.parsePlain(bytes)
    const first = docs[0]
    if (first === undefined) return { kind: "map", items: [] }
    if (docs.length > 1) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `has ${docs.length} YAML documents; import reads one`, ["split it and import each document"])
    }
    return first
}
