/**
 * `secrets export` below the CLI: the first document of an opened file in one of
 * the export formats. json and yaml keep the nesting (the stores' plain output, as
 * `decrypt --output-type` prints it); env, docker and k8s-secret flatten it
 * (flat-values.ts). Everything is built before anything is written.
 */
import type { Branch } from "../core/tree.js"
import { loadStore } from "../stores/index.js"
import { flatValues } from "./flat-values.js"
import { dockerEnvText, envText, secretManifest } from "./export-formats.js"

export const EXPORT_FORMATS = ["env", "json", "yaml", "docker", "k8s-secret"] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportOptions {
    readonly format: ExportFormat
    /** k8s-secret: metadata.name (already defaulted by the caller) and namespace. */
    readonly name?: string
    readonly namespace?: string
    readonly indent?: number
}

export interface ExportResult {
    readonly bytes: Uint8Array
    /** Key paths with no text (null, empty), left out of a flat format. */
    readonly skipped: readonly string[]
}

export async function exportText(doc: Branch, opts: ExportOptions): Promise<ExportResult> {
    const storeOpts = opts.indent === undefined ? {} : { indent: opts.indent }
    if (opts.format === "json" || opts.format === "yaml") {
        const store = await loadStore(opts.format, storeOpts)
        return { bytes: store.emitPlain([doc]), skipped: [] }
    }
    const flat = flatValues(doc)
    const enc = new TextEncoder()
    if (opts.format === "env") return { bytes: enc.encode(envText(flat.pairs)), skipped: flat.skipped }
    if (opts.format === "docker") return { bytes: enc.encode(dockerEnvText(flat.pairs)), skipped: flat.skipped }
    const manifest = secretManifest(flat.pairs, {
        name: opts.name ?? "",
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    })
    // Kubernetes manifests are conventionally indented by 2 (the YAML store's default is sops' 4).
    const yaml = await loadStore("yaml", { indent: opts.indent ?? 2 })
    return { bytes: yaml.emitPlain([manifest]), skipped: flat.skipped }
}
