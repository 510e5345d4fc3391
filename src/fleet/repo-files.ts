/**
 * The files of a repository that `secrets` looks at, for the commands that walk a
 * whole tree (re-keying after a key change, `access`, `status`): every regular
 * file under a directory, in sorted order, without the directories that are never
 * secrets. Symbolic links are not followed: a link out of the repository is not
 * the repository's secret. Our own side files (a lock, an unfinished atomic write;
 * core/side-files.ts) are not the repository's either: `status` must not report a
 * lock held by a running `edit` as an unencrypted file under `secrets/`.
 */
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import { isSideFile } from "../core/side-files.js"

/** Directories never searched: dependencies, git, our own state. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".secrets"])

/** Absolute paths of the regular files under `root` whose names `skipFiles` does not hold. */
export async function* repoFiles(root: string, skipFiles: ReadonlySet<string>): AsyncGenerator<string> {
    const entries = await readdir(root, { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
        const abs = join(root, e.name)
        if (e.isDirectory()) {
            if (!SKIPPED_DIRS.has(e.name)) yield* repoFiles(abs, skipFiles)
        } else if (e.isFile() && !skipFiles.has(e.name) && !isSideFile(e.name)) {
            yield abs
        }
    }
}
