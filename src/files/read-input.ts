/**
 * Reading the file a command works on, with errors that name the file. Apart from
 * open-file.ts, which re-exports it, so that a command that only reads (filestatus)
 * does not load the engine, the keys and node:crypto with it (issue 14 target 2).
 */
import { readFileSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { inputTooLarge, MAX_INPUT_BYTES } from "../core/input-limits.js"
import { noteFile } from "./audit-collector.js"
import type { Io } from "./io.js"
import { readStdin } from "./io.js"

/** How much readInput reads: MAX_INPUT_BYTES unless a binary path can take more (input-limits.ts). */
export interface ReadLimit {
    readonly bytes: number
    readonly tooLarge: (size: number) => SecretsError
}

/** The bytes of `file` (or stdin when undefined); a missing file exits 100 as in sops. */
export async function readInput(io: Io, file: string | undefined, limit?: ReadLimit): Promise<Uint8Array> {
    if (file === undefined || file === "-") return readStdin(io)
    noteFile(io, file)
    try {
        const path = resolve(io.cwd, file)
        // Refuse a file too large to handle before reading it (input-limits.ts).
        // Synchronous, and read-whole.ts only for a file that needs it: a command waits
        // for its one input anyway, and node:fs/promises (which loads readline's
        // internals) cost every small decrypt ~2 ms of start-up (issue 14 target 2).
        const { size } = statSync(path)
        if (size > (limit?.bytes ?? MAX_INPUT_BYTES)) throw limit !== undefined ? limit.tooLarge(size) : inputTooLarge(quote(file), size)
        // fs.readFile stops at 2 GiB; a large binary file's encrypted form may be more.
        return size > MAX_INPUT_BYTES ? await (await import("./read-whole.js")).readWhole(path, size) : readFileSync(path)
    } catch (e) {
        if (e instanceof SecretsError) throw e
        const code = (e as { code?: string }).code
        // Each carries a detail without the file's name: a caller that names the file
        // itself (updatekeys, groups: `"f": …`) then does not name it twice.
        if (code === "ENOENT") throw new SecretsError(ExitCode.NoFileSpecified, `${quote(file)} does not exist`, [], "no such file")
        if (code === "EISDIR") {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(file)} is a directory, not a file`, ["name a file inside it"], "a directory, not a file")
        }
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `cannot read ${quote(file)}: ${code ?? "unknown error"}`, [], `cannot read it: ${code ?? "unknown error"}`)
    }
}
