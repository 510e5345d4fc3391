/**
 * Ask the program what it completes, in this process, through the full program's
 * hidden `__complete` command (what the shell scripts call): one line per
 * candidate, the last one being the directive (`:files`, `:`).
 */
import { Readable, Writable } from "node:stream"
import { expect } from "vitest"
import { main } from "../../src/main.js"

export async function completionLines(cwd: string, words: readonly string[], shell: "bash" | "zsh" | "fish" = "bash"): Promise<string[]> {
    let out = ""
    const io = {
        cwd,
        env: {},
        stdin: Readable.from([]),
        stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true) },
        stderr: new Writable({ write: (_c, _e, cb) => cb() }),
        now: () => new Date(0),
    }
    expect(await main(["__complete", shell, "--", ...words], io)).toBe(0)
    return out.split("\n").filter((l) => l !== "")
}
