import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

/**
 * Every file under `dir`, recursively, `.git` included: for tests that search a
 * repository and git's own files for plaintext that must not be there (git's
 * objects are compressed, but MERGE_MSG, the index and temp files are not).
 */
export function filesUnder(dir: string): string[] {
    const out: string[] = []
    for (const name of readdirSync(dir)) {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) out.push(...filesUnder(p))
        else out.push(p)
    }
    return out
}
