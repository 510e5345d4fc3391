/**
 * `--profile <TAB>` offers the profiles of `.sops.yaml` (issue 13 point 3) for
 * every command that takes one, read from the text without validating the config
 * or decrypting anything; no files are offered there. In-process, through the
 * program's `__complete`.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { completionLines } from "../../helpers/complete.js"
import { tempDir } from "../../helpers/tmp.js"

const answer = (cwd: string, words: string[]) => completionLines(cwd, words, "zsh")

describe("completion of --profile", () => {
    it("offers the declared profiles after --profile in run, ls, export and get", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, ".sops.yaml"), "creation_rules: []\nsecrets:\n  profiles:\n    dev:\n      readers: users\n    prod: {}\n")
        writeFileSync(join(dir, "dev.yaml"), "a: 1\n")
        for (const cmd of ["run", "ls", "export", "get"]) {
            expect(await answer(dir, [cmd, "--profile", ""]), cmd).toEqual(["dev\tprofile", "prod\tprofile", ":"])
        }
        expect(await answer(dir, ["run", "--profile", "p"])).toEqual(["prod\tprofile", ":"])
    })

    it("offers nothing (and no files) when the config declares no profiles", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, ".sops.yaml"), "creation_rules: []\n")
        expect(await answer(dir, ["run", "--profile", ""])).toEqual([":"])
    })
})
