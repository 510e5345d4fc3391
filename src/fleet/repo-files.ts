/**
 * The files of a repository that `secrets` looks at, for the commands that walk a
 * whole tree (re-keying after a key change, `access`, `status`): every regular
 * file under a directory, in sorted order, without the directories that are never
 * secrets. Symbolic links are not followed: a link out of the repository is not
 * the repository's secret. Our own side files (a lock, an unfinished atomic write;
 * core/side-files.ts) are not the repository's either: `status` must not report a
 * lock held by a running `edit` as an unencrypted file under `secrets/`.
 *
 * A directory with its own `.sops.yaml` is another project's files (vendored sops
 * test vectors, a subproject with its own recipients): sops run there uses that
 * config, not ours, so our rules cannot judge its files, and the reports (`status`,
 * `access`) stop there, as git stops at a nested repository. Not inside `secrets/`
 * (THE LAYOUT's root): there every file is ours, and a planted
 * `secrets/shared/.sops.yaml` must not hide a plaintext file from `status --check`.
 * The re-keys (revoke, rotate, add-host) walk everything: a `.sops.yaml` anyone can
 * commit must not keep a revoked key's files out of a revoke.
 */
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import { isSideFile } from "../core/side-files.js"

/** Directories never searched: dependencies, git, our own state. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".secrets"])

/** A config file that makes its directory another project's (config/load.ts's names). */
const CONFIG_NAMES = new Set([".sops.yaml", ".sops.yml"])
/** THE LAYOUT's root, relative to the walk's root: never cut short by a nested config. */
const LAYOUT_ROOT = "secrets"

/** Absolute paths of the regular files under `root` whose names `skipFiles` does not hold. */
export async function* repoFiles(root: string, skipFiles: ReadonlySet<string>, opts: WalkOptions = {}): AsyncGenerator<string> {
    yield* walk(root, "", skipFiles, opts.skipNestedProjects === true)
}

export interface WalkOptions {
    /** Stop at a directory outside `secrets/` with its own `.sops.yaml` (reports only). */
    readonly skipNestedProjects?: boolean
}

async function* walk(dir: string, rel: string, skipFiles: ReadonlySet<string>, skipNested: boolean): AsyncGenerator<string> {
    const entries = await readdir(dir, { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const inLayout = rel === LAYOUT_ROOT || rel.startsWith(`${LAYOUT_ROOT}/`)
    if (skipNested && rel !== "" && !inLayout && entries.some((e) => e.isFile() && CONFIG_NAMES.has(e.name))) return
    for (const e of entries) {
        const abs = join(dir, e.name)
        if (e.isDirectory()) {
            if (!SKIPPED_DIRS.has(e.name)) yield* walk(abs, rel === "" ? e.name : `${rel}/${e.name}`, skipFiles, skipNested)
        } else if (e.isFile() && !skipFiles.has(e.name) && !isSideFile(e.name)) {
            yield abs
        }
    }
}
