/**
 * Finding `.sops.yaml` (sops-format.md §8), apart from parsing it: decrypt (for
 * `secrets.age_key_op`) and shell completion look the config up on every run, and
 * the parser's module loads zod, about 180 ms. Pure: the caller supplies `exists`.
 */
import path from "node:path"

export const CONFIG_NAME = ".sops.yaml"
const ALTERNATE_NAME = ".sops.yml"
/** sops' `maxDepth`: how many directories the upward search visits. */
const MAX_DEPTH = 100

export interface FindConfigOptions {
    /** The file being encrypted (absolute, or relative to `cwd`). */
    readonly filePath?: string
    /** The working directory, absolute. */
    readonly cwd: string
    /** `--config` or `SOPS_CONFIG`, already chosen by the caller. */
    readonly explicit?: string
    readonly exists: (p: string) => boolean
    /** Receives a message when a `.sops.yml` is seen, which neither sops nor we read. */
    readonly warn?: (message: string) => void
}

/**
 * The config file to use, or undefined. An explicit path wins. Otherwise the search
 * walks up from the target file's directory, then from the working directory. sops
 * only does the second (issue #242, open since 2017): running it from the repo root on
 * `services/a/secrets.yaml` misses `services/a/.sops.yaml`. Starting at the file finds
 * the config that belongs to it; falling back to the cwd keeps every lookup sops makes.
 */
export function findConfig(opts: FindConfigOptions): string | undefined {
    if (opts.explicit !== undefined && opts.explicit !== "") return opts.explicit
    const starts: string[] = []
    if (opts.filePath !== undefined && opts.filePath !== "") starts.push(path.dirname(path.resolve(opts.cwd, opts.filePath)))
    starts.push(path.resolve(opts.cwd))
    let alternate: string | undefined
    const seen = new Set<string>()
    for (const start of starts) {
        let dir = start
        for (let i = 0; i < MAX_DEPTH; i++) {
            if (!seen.has(dir)) {
                seen.add(dir)
                const candidate = path.join(dir, CONFIG_NAME)
                if (opts.exists(candidate)) {
                    if (alternate !== undefined) opts.warn?.(alternateWarning(alternate, candidate))
                    return candidate
                }
                const alt = path.join(dir, ALTERNATE_NAME)
                if (alternate === undefined && opts.exists(alt)) alternate = alt
            }
            const parent = path.dirname(dir)
            if (parent === dir) break
            dir = parent
        }
    }
    if (alternate !== undefined) opts.warn?.(alternateWarning(alternate, undefined))
    return undefined
}

function alternateWarning(alternate: string, used: string | undefined): string {
    const base = `ignoring ${JSON.stringify(alternate)}: the config file must be called ${JSON.stringify(CONFIG_NAME)}`
    return used === undefined ? base : `${base}; using ${JSON.stringify(used)} instead`
}
