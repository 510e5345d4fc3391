/**
 * The dynamic candidates, read from the file system the cheap way: no decryption,
 * no 1Password, no prompt, no config loading beyond the text of `.sops.yaml`. sops
 * keeps key names in clear, so the key paths of a file come from parsing it as an
 * encrypted document and dropping the `sops` block, without its data key.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { findConfig } from "../../config/find.js"
import type { Candidate, CompletionSources } from "./complete.js"

/** Directories never worth walking for secrets (and often huge). */
const SKIP_DIRS = new Set([".git", ".hg", ".svn", "node_modules", ".venv", ".direnv", ".terraform"])
/** Bounds on the walk, so that `secrets edit <TAB>` in `/` or `$HOME` still answers at once. */
const MAX_DEPTH = 8
const MAX_ENTRIES = 20_000
const MAX_SNIFFED = 5_000
/** sops puts its metadata last in every format; this much of a file's end holds it. */
const TAIL_BYTES = 64 * 1024
/** Key paths are read from files up to this size only. */
const MAX_PARSE_BYTES = 8 * 1024 * 1024

/**
 * Whether the end of a file looks like sops metadata: a `sops:` key with `mac` or
 * `lastmodified` (YAML), a `"sops":` key (JSON, and binary files, which sops wraps in
 * JSON), `sops_mac=`/`sops_version=` (dotenv) or a `[sops]` section (INI).
 */
export function looksLikeSops(tail: string): boolean {
    if (/^sops:[ \t]*\r?$/m.test(tail) && /^[ \t]+(mac|lastmodified):/m.test(tail)) return true
    if (/"sops"\s*:\s*\{/.test(tail) && /"(mac|lastmodified)"\s*:/.test(tail)) return true
    if (/^sops_(mac|version|lastmodified)=/m.test(tail)) return true
    return /^\[sops\][ \t]*\r?$/m.test(tail) && /^(mac|lastmodified)[ \t]*=/m.test(tail)
}

/** The sops files under `cwd`, relative to it with `/` separators, sorted. */
export function findEncryptedFiles(cwd: string): string[] {
    const found: string[] = []
    let entries = 0
    let sniffed = 0
    // `rel` is the path from cwd with `/`, built as the walk descends: entry names
    // hold no separator, so it equals relative(cwd, path), without path's
    // normalising twice per entry on every TAB (issue 14 target 6).
    // `dir` is absolute and normalised (resolve() once, then entry names), so `dir/name`
    // is what path.join gives, without join's normalising pass over the whole path for
    // every entry: a third of the walk's CPU on 200 files (issue 14 target 6).
    const visit = (dir: string, rel: string, depth: number): void => {
        let list
        try {
            list = readdirSync(dir, { withFileTypes: true })
        } catch {
            return
        }
        const prefix = dir.endsWith("/") ? dir : `${dir}/`
        for (const d of list) {
            if (++entries > MAX_ENTRIES) return
            const path = prefix + d.name
            const relPath = rel === "" ? d.name : `${rel}/${d.name}`
            if (d.isDirectory()) {
                if (depth < MAX_DEPTH && !SKIP_DIRS.has(d.name)) visit(path, relPath, depth + 1)
            } else if (d.isFile() && sniffed++ < MAX_SNIFFED && isSopsFile(path)) {
                found.push(relPath)
            }
        }
    }
    visit(resolve(cwd), "", 0)
    return found.sort()
}

/** One buffer for every sniff: the walk reads hundreds of tails. */
let tailBuffer: Buffer | undefined

function isSopsFile(path: string): boolean {
    let fd: number | undefined
    try {
        fd = openSync(path, "r")
        tailBuffer ??= Buffer.allocUnsafe(TAIL_BYTES)
        // Most files are smaller than the tail: one read from the start gets all of
        // it, and only a file that fills the buffer needs its size for the tail.
        let got = readSync(fd, tailBuffer, 0, TAIL_BYTES, 0)
        if (got === TAIL_BYTES) got = readSync(fd, tailBuffer, 0, TAIL_BYTES, fstatSync(fd).size - TAIL_BYTES)
        if (got < 10) return false
        // Most files in a repo are not sops files: a byte search rules them out without decoding.
        const tail = tailBuffer.subarray(0, got)
        return tail.includes("sops") && looksLikeSops(tail.toString("latin1"))
    } catch {
        return false
    } finally {
        if (fd !== undefined) closeSync(fd)
    }
}

/** The sources for a shell running in `cwd`. */
export function fileSources(cwd: string, env: Readonly<Record<string, string | undefined>>): CompletionSources {
    return {
        encryptedFiles: () => findEncryptedFiles(cwd).map((value) => ({ value, description: describeFile(value) })),
        keyPaths: async (file) => {
            const path = resolve(cwd, file)
            let bytes: Buffer
            try {
                if (statSync(path).size > MAX_PARSE_BYTES) return []
                bytes = readFileSync(path)
            } catch {
                return []
            }
            const { keyPathsOf } = await import("./key-paths.js")
            return keyPathsOf(bytes, file)
        },
        profileNames: async (config) => {
            const text = configText(cwd, env, config)
            if (text === undefined) return []
            const { parseDocument, isMap, isScalar } = await import("yaml")
            try {
                // Only the names, as written: the TAB key must not pay for validating the config.
                const profiles = parseDocument(text).getIn(["secrets", "profiles"], true)
                if (!isMap(profiles)) return []
                return profiles.items.flatMap((p) => (isScalar(p.key) && typeof p.key.value === "string" ? [{ value: p.key.value, description: "profile" }] : []))
            } catch {
                return []
            }
        },
        keyNames: async (config) => {
            const text = configText(cwd, env, config)
            if (text === undefined) return []
            const { readNamedKeys } = await import("../../config/named-keys.js")
            let keys
            try {
                keys = readNamedKeys(text)
            } catch {
                return []
            }
            // The short name where it is unambiguous, as `keys remove` accepts it; the anchor otherwise.
            return keys.map((k): Candidate => ({
                value: keys.filter((o) => o.name === k.name).length === 1 ? k.name : k.anchor,
                description: k.kind === "other" ? "key" : `${k.kind} key`,
            }))
        },
    }
}

/** The text of `--config`, SOPS_CONFIG or the nearest `.sops.yaml`; undefined when there is none or it cannot be read. */
function configText(cwd: string, env: Readonly<Record<string, string | undefined>>, config: string | undefined): string | undefined {
    const explicit = config ?? (env.SOPS_CONFIG !== undefined && env.SOPS_CONFIG !== "" ? env.SOPS_CONFIG : undefined)
    // config/find.ts, not config/load.ts: completion needs the text, not zod's validation.
    const configPath = findConfig({ cwd, explicit, exists: existsSync })
    if (configPath === undefined) return undefined
    try {
        return readFileSync(resolve(cwd, configPath), "utf8")
    } catch {
        return undefined
    }
}

function describeFile(path: string): string {
    if (path.endsWith(".yaml") || path.endsWith(".yml")) return "encrypted yaml"
    if (path.endsWith(".json")) return "encrypted json"
    if (path.endsWith(".env")) return "encrypted dotenv"
    if (path.endsWith(".ini")) return "encrypted ini"
    return "encrypted file"
}
