/**
 * What `secrets scan` and the pre-commit hook need to know about sops files:
 * whether a file is one (well-formed metadata with a version and a MAC, as
 * `filestatus` decides), looks like one but is broken, or is plain; and whether a
 * plain file sits where `.sops.yaml` says files are encrypted
 * (`secrets/plaintext-in-encrypted-path`).
 *
 * "Encrypted path": the first creation rule matching the file (sops' choice, with
 * path_regex in Go's regexp semantics through config/match.ts) has a non-empty
 * path_regex, or the file is under `secrets/` (THE LAYOUT's root). A catch-all
 * rule (no path_regex) marks nothing: it serves files encrypted by name on the
 * command line, and would otherwise make every README a finding.
 */
import { posix } from "node:path"
import { SecretsError, quote } from "../errors.js"
import type { Format } from "../stores/store.js"

export type SopsClass =
    | { readonly kind: "sops"; readonly format: Format }
    | { readonly kind: "broken"; readonly format: Format; readonly problem: string }
    | { readonly kind: "plain" }

/** Files that configure git or sops, never secrets themselves. */
const NEVER_SECRETS = new Set([".sops.yaml", ".sops.yml", ".gitignore", ".gitattributes", ".gitkeep", ".secretsignore"])
/** THE LAYOUT's root, relative to the config's directory. */
const LAYOUT_ROOT = "secrets/"

/** Whether a store of `format` would take `text` for a sops file: its top-level metadata is there. */
function hasSopsMarker(format: Format, text: string): boolean {
    switch (format) {
        case "yaml":
            return /^sops:/m.test(text)
        case "json":
            return /"sops"\s*:/.test(text)
        case "dotenv":
            return /^sops_(version|mac|lastmodified)=/m.test(text)
        case "ini":
            return /^\[sops\]\s*$/m.test(text)
        case "binary":
            // A file without a known extension is a sops file only as JSON (sops' binary store).
            return /^\s*\{/.test(text) && /"sops"\s*:/.test(text)
    }
}

/** What kind of file `bytes` is, judged by the store its name picks. */
export async function sopsClassOf(file: string, bytes: Uint8Array): Promise<SopsClass> {
    const { formatForPath, loadStore } = await import("../stores/index.js")
    const { metadataFromTree } = await import("../stores/metadata.js")
    const format = formatForPath(file)
    const text = new TextDecoder().decode(bytes.subarray(0, 1 << 20))
    // The marker alone could be any tool's `sops:` setting; a sops file also has an
    // ENC value or a lastmodified date (even one cut short or hand-made has one).
    if (!hasSopsMarker(format, text) || !/ENC\[AES256_GCM,|lastmodified/.test(text)) return { kind: "plain" }
    try {
        const md = metadataFromTree((await loadStore(format)).parseEncrypted(bytes).metadata)
        if (md.version === "" || md.mac === "") return { kind: "broken", format, problem: "its sops metadata has no version or no MAC" }
        return { kind: "sops", format }
    } catch (e) {
        if (!(e instanceof SecretsError)) throw e
        return { kind: "broken", format, problem: e.detail }
    }
}

/** How the plaintext rule reads the repository's `.sops.yaml` files (from the disk or the index). */
export interface ConfigLookup {
    readonly root: string
    read(rel: string): Promise<string | undefined>
    warn(message: string): void
}

type LoadedConfig = { readonly dir: string; readonly config: import("../config/schema.js").Config } | undefined
const loaded = new WeakMap<ConfigLookup, Map<string, Promise<LoadedConfig>>>()

/** The nearest `.sops.yaml` at or above `dir` (relative to the root, "" for the top), parsed. */
async function nearestConfig(lookup: ConfigLookup, dir: string): Promise<LoadedConfig> {
    let cache = loaded.get(lookup)
    if (cache === undefined) loaded.set(lookup, (cache = new Map()))
    let p = cache.get(dir)
    if (p === undefined) {
        p = (async () => {
            const rel = dir === "" ? ".sops.yaml" : `${dir}/.sops.yaml`
            const text = await lookup.read(rel)
            if (text === undefined) return dir === "" ? undefined : nearestConfig(lookup, parentOf(dir))
            const { parseConfig } = await import("../config/load.js")
            try {
                return { dir, config: parseConfig(text, rel) }
            } catch (e) {
                if (!(e instanceof SecretsError)) throw e
                // sops cannot encrypt under a config it cannot read either; the other rules still run.
                lookup.warn(`${e.message}; files under it are not checked for plaintext`)
                return undefined
            }
        })()
        cache.set(dir, p)
    }
    return p
}

function parentOf(dir: string): string {
    const d = posix.dirname(dir)
    return d === "." ? "" : d
}

/**
 * Why `file` (relative to the root, with `/`) must be encrypted: the creation rule
 * or the layout that says so, as a phrase; undefined when nothing does.
 */
export async function encryptedPathRule(lookup: ConfigLookup, file: string): Promise<string | undefined> {
    if (file.startsWith("/") || NEVER_SECRETS.has(posix.basename(file))) return undefined
    const found = await nearestConfig(lookup, parentOf(file))
    if (found === undefined) return undefined
    const { matchRule } = await import("../config/match.js")
    const fromConfig = found.dir === "" ? file : file.slice(found.dir.length + 1)
    const rootAbs = "/__scan_root__"
    const configDir = found.dir === "" ? rootAbs : `${rootAbs}/${found.dir}`
    let rule
    try {
        rule = matchRule(found.config, configDir, `${configDir}/${fromConfig}`, { keysOnCommandLine: true })
    } catch (e) {
        if (!(e instanceof SecretsError)) throw e
        lookup.warn(`${e.message}; ${quote(file)} is not checked for plaintext`)
        return undefined
    }
    if (rule !== undefined && (rule.path_regex ?? "") !== "") {
        const index = found.config.creation_rules?.indexOf(rule) ?? -1
        return `${found.config.path}'s creation_rules[${index}] (path_regex ${quote(rule.path_regex ?? "")})`
    }
    if (fromConfig.startsWith(LAYOUT_ROOT)) return `the layout (files under ${found.dir === "" ? "" : `${found.dir}/`}secrets/ are encrypted)`
    return undefined
}
