/**
 * Messages of issue 11 §10 through the built binary: an unknown command gets a
 * correct suggestion or none, a directory given as a file is named once, and the
 * "up to date" line of a re-key reads naturally for 0, 1 and more files.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

describe("unknown commands", () => {
    // `get` was the example here until it became a command (issue 13 point 4).
    it("`cat` is told what does that here, not a command one letter away, with or without arguments", async () => {
        const dir = tempDir()
        for (const args of [["cat"], ["cat", "secrets/app.yaml"]]) {
            const r = await runCli(args, { cwd: dir })
            expect(r.code).toBe(1)
            expect(r.stderr).toBe(
                'secrets: error: unknown command "cat"\n' +
                    "secrets: hint: to print a decrypted file: secrets view FILE\n" +
                    "secrets: hint: to create a new file, give it an extension: secrets NAME.yaml\n",
            )
        }
    })
})

describe("a directory given as a file", () => {
    it("is named once, with the fix, by every command that takes a file", async () => {
        const dir = tempDir()
        mkdirSync(join(dir, "secrets"))
        for (const args of [["decrypt", "secrets/"], ["updatekeys", "-y", "secrets/"], ["groups", "add", "--file", "secrets/", "--age", "age1x"]]) {
            const r = await runCli(args, { cwd: dir })
            expect(r.code).toBe(2)
            const first = r.stderr.split("\n")[0] ?? ""
            expect(first.split('"secrets/"')).toHaveLength(2)
            expect(first).toMatch(/^secrets: error: "secrets\/":? (is )?a directory, not a file$/)
            expect(r.stderr).toContain("secrets: hint: name a file inside it\n")
        }
    })
})

describe("the re-key summary of keys add-user", () => {
    it("reads naturally for no file, one file and more", async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        const home = join(root, "home")
        mkdirSync(dir)
        mkdirSync(home)
        run("git", ["init", "-q", dir])
        const cli = (args: string[]) => runCli(args, { cwd: dir, home })
        expect((await cli(["init", "--yes", "--user", "alice"])).code).toBe(0)
        const lastLine = (s: string) => s.trimEnd().split("\n").pop()

        const none = await cli(["keys", "add-user", "bob", "--age", ageKeygen(root, "bob").recipient, "--yes"])
        expect(none.code).toBe(0)
        expect(lastLine(none.stderr)).toBe("secrets: no encrypted files yet: nothing to re-key")

        // One file alice alone reads: adding carol re-keys nothing.
        writeFileSync(join(dir, "secrets/users/alice/notes.yaml"), "a: 1\n")
        expect((await cli(["encrypt", "-i", "secrets/users/alice/notes.yaml"])).code).toBe(0)
        const one = await cli(["keys", "add-user", "carol", "--age", ageKeygen(root, "carol").recipient, "--yes"])
        expect(one.code).toBe(0)
        expect(lastLine(one.stderr)).toBe("secrets: the one encrypted file is up to date")

        writeFileSync(join(dir, "secrets/users/alice/more.yaml"), "b: 2\n")
        expect((await cli(["encrypt", "-i", "secrets/users/alice/more.yaml"])).code).toBe(0)
        const two = await cli(["keys", "add-user", "dave", "--age", ageKeygen(root, "dave").recipient, "--yes"])
        expect(two.code).toBe(0)
        expect(lastLine(two.stderr)).toBe("secrets: all 2 encrypted files are up to date")
    }, 120_000)
})
