/**
 * The lock modules as plain JavaScript, for tests that hold or wait for a lock in
 * a child process (a real pid to kill, real signals).
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { compileSrc } from "../cli-io/compiled.js"

/** Every module files/file-lock.ts needs at run time. */
const LOCK_SOURCES = [
    "errors.ts",
    "core/side-files.ts",
    "files/diagnostics.ts",
    "files/lock-holder.ts",
    "files/lock-cleanup.ts",
    "files/lock-debris.ts",
    "files/lock-files.ts",
    "files/file-lock.ts",
]

/** Compile the lock modules; `module` is the URL to import withFileLock from. */
export function compileLock(): { module: string; cleanup: () => void } {
    const c = compileSrc(LOCK_SOURCES)
    return { module: pathToFileURL(join(c.outDir, "files", "file-lock.js")).href, cleanup: c.cleanup }
}
