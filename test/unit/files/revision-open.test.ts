/**
 * readRevision (src/files/revision-open.ts, over integrations/git-revision.ts) with
 * real git: git's revision syntax (a tag peels to its commit, `HEAD~1`), what is
 * not a revision of a file (a tree id, an option-looking text: never passed to git
 * as an option), a path given from a subdirectory, a file deleted since (with
 * its directory: its history is still read), a directory, a file outside any
 * work tree.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Io } from "../../../src/files/io.js"
import { readRevision } from "../../../src/files/revision-open.js"
import { valueHistory } from "../../../src/files/value-history.js"
import { tempDir } from "../../helpers/tmp.js"

function ioAt(cwd: string, home: string): Io {
    return {
        cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_CEILING_DIRECTORIES: join(home, "..") },
        stdin: process.stdin,
        stdout: { write: () => true },
        stderr: { write: () => true },
        now: () => new Date(0),
    }
}

describe("readRevision", () => {
    it("reads a file at git revisions and refuses what names no commit", { timeout: 60_000 }, async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        mkdirSync(join(dir, "sub"), { recursive: true })
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, GIT_CONFIG_NOSYSTEM: "1" }
        const git = (args: string[]) => execFileSync("git", args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] }).toString().trim()
        git(["-c", "init.defaultBranch=main", "init", "-q"])
        git(["config", "user.name", "t"])
        git(["config", "user.email", "t@example.org"])
        writeFileSync(join(dir, "app.yaml"), "one\n")
        writeFileSync(join(dir, "sub", "x.yaml"), "x\n")
        git(["add", "-A"])
        git(["commit", "-qm", "one"])
        git(["tag", "-a", "v1", "-m", "first"])
        const first = git(["rev-parse", "HEAD"])
        writeFileSync(join(dir, "app.yaml"), "two\n")
        git(["commit", "-qam", "two"])
        git(["rm", "-q", "sub/x.yaml"])
        git(["commit", "-qm", "three"])

        const io = ioAt(dir, root)
        const text = (b: Uint8Array) => Buffer.from(b).toString()
        // An annotated tag peels to its commit; HEAD~2 is the same commit.
        const tagged = await readRevision(io, "app.yaml", "v1")
        expect(tagged.commit).toBe(first)
        expect(first.startsWith(tagged.short)).toBe(true)
        expect(tagged.path).toBe("app.yaml")
        expect(text(tagged.bytes)).toBe("one\n")
        expect((await readRevision(io, "app.yaml", "HEAD~2")).commit).toBe(first)
        expect(text((await readRevision(io, "app.yaml", "HEAD")).bytes)).toBe("two\n")

        // From a subdirectory: the path is the user's, relative to the working directory.
        const fromSub = await readRevision(ioAt(join(dir, "sub"), root), "../app.yaml", "HEAD~2")
        expect(fromSub.path).toBe("app.yaml")
        // A file deleted since: its old revision is still there; at HEAD it did not exist.
        expect(text((await readRevision(io, "sub/x.yaml", "HEAD~1")).bytes)).toBe("x\n")
        await expect(readRevision(io, "sub/x.yaml", "HEAD")).rejects.toThrow(/^"sub\/x\.yaml" did not exist at HEAD \([0-9a-f]{7,}\)$/)
        // ...and its value history is found although its directory went with it (here: a plaintext file, reported as such).
        const history = await valueHistory(join(dir, "sub", "x.yaml"), { identities: [], env: io.env })
        expect(history.map((e) => e.unreadable)).toEqual(["not a sops file"])
        // A directory is no file.
        await expect(readRevision(io, "sub", "HEAD~1")).rejects.toThrow(`"sub" did not exist at HEAD~1`)

        // Not commits: a tree id, a missing name, option-looking text (never run as an option).
        const tree = git(["rev-parse", "HEAD^{tree}"])
        for (const rev of [tree, "no-such-tag", "--output=leak.txt", "-h", ""]) {
            await expect(readRevision(io, "app.yaml", rev), rev).rejects.toThrow(`unknown revision "${rev}": git knows no such commit`)
        }
        expect(existsSync(join(dir, "leak.txt"))).toBe(false)

        // Outside any work tree.
        const outside = join(root, "outside")
        mkdirSync(outside)
        writeFileSync(join(outside, "a.yaml"), "a\n")
        await expect(readRevision(ioAt(outside, root), "a.yaml", "HEAD")).rejects.toThrow(`"a.yaml" is not in a git work tree: it has no revisions`)
        rmSync(outside, { recursive: true })
    })
})
