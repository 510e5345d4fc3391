/**
 * `render <TAB>` offers any file: a template is plain text, so the encrypted-file
 * source (which the argument's name would not pick anyway) must not hide it.
 * In-process, through the program's `__complete`.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { completionLines } from "../../helpers/complete.js"
import { tempDir } from "../../helpers/tmp.js"

const answer = (cwd: string, words: string[]) => completionLines(cwd, words, "zsh")

describe("completion of secrets render", () => {
    it("lets the shell complete file names for the template and for -o", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, "app.conf.tmpl"), "x={{ op://v/i/f }}\n")
        expect(await answer(dir, ["render", ""])).toEqual([":files"])
        expect(await answer(dir, ["render", "app.conf.tmpl", "-o", ""])).toEqual([":files"])
    })
})
