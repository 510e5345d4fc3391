/**
 * The files `secrets` itself leaves beside the user's files for a moment: the lock
 * of a file being changed (`app.yaml.lock`), the lock taken while a dead lock is
 * broken (`app.yaml.lock.break`), and the temp file of an atomic write
 * (`.app.yaml.1a2b3c4d5e6f.tmp`, from files/fs-atomic.ts; the lock module writes its
 * own content the same way). They are ours, never the user's: a listing of the
 * repository (`status`, `access`, the re-key walk) must not show them, and git must
 * not pick them up (init's `.gitignore` lines below). Pure names, no I/O.
 */

/** The lock of `path`: `<path>.lock`, next to it (files/file-lock.ts). */
export function lockPathFor(path: string): string {
    return `${path}.lock`
}

/** The lock held while a stale lock is removed, so that two waiters never both remove and re-take it. */
export function breakPathFor(lockPath: string): string {
    return `${lockPath}.break`
}

/** `.NAME.<12 hex>.tmp`: the temp name of files/fs-atomic.ts (6 random bytes in hex). */
const ATOMIC_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/

/**
 * Whether a directory entry named `name` is one of our side files. A `NAME.lock` is
 * taken for ours: a repository file with that name beside a secret is not a secret
 * either (a `flake.lock` or `yarn.lock` is not under `secrets/`, and elsewhere plain
 * files are not listed anyway).
 */
export function isSideFile(name: string): boolean {
    return name.endsWith(".lock") || name.endsWith(".lock.break") || ATOMIC_TEMP.test(name)
}

/**
 * The lines `secrets init` puts in the repository's `.gitignore`. Not a bare
 * `*.lock`: `flake.lock`, `Cargo.lock` and `yarn.lock` are files people commit.
 * Our locks end in the secret's own extension, and anything under `secrets/` (THE
 * LAYOUT's root) is covered whatever its name. The atomic-write temps are hidden
 * `.tmp` files, which nobody commits on purpose.
 */
export const GITIGNORE_LINES: readonly string[] = [
    "/secrets/**/*.lock",
    "*.yaml.lock",
    "*.yml.lock",
    "*.json.lock",
    "*.env.lock",
    "*.ini.lock",
    "*.lock.break",
    ".*.tmp",
]

/** The comment line above {@link GITIGNORE_LINES}. */
export const GITIGNORE_COMMENT = "# secrets: locks and unfinished atomic writes, left beside the files they protect"
