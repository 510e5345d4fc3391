/**
 * `render <TAB>` offers any file: a template is plain text, so the encrypted-file
 * source (which the argument's name would not pick anyway) must not hide it.
 * In-process, through the program's `__complete`.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable, Writable } from "node:stream"
import { describe, expect, it } from "vitest"
import { main } from "../../../src/main.js"
import { tempDir } from "../../helpers/tmp.js"

async function answer(cwd: string, words: string[]): Promise<string[]> {
    let out = ""
    const io = {
        cwd,
        env: {},
        stdin: Readable.from([]),
        stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true) },
        stderr: new Writable({ write: (_c, _e, cb) => cb() }),
        now: () => new Date(0),
    }
    expect(await main(["__complete", "zsh", "--", ...words], io)).toBe(0)
    return out.split("\n").filter((l) => l !== "")
}

describe("completion of secrets render", () => {
    it("lets the shell complete file names for the template and for -o", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, "app.conf.tmpl"), "x={{ op://v/i/f }}\n")
        expect(await answer(dir, ["render", ""])).toEqual([":files"])
        expect(await answer(dir, ["render", "app.conf.tmpl", "-o", ""])).toEqual([":files"])
    })
})
