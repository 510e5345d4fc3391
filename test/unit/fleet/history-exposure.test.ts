/**
 * `keys revoke` reports what the revoked key could read in git history
 * (src/fleet/history-exposure.ts, issue 15 §5): bob was a recipient of
 * shared/s.yaml two commits ago and is not now; shared/gone.yaml listed him and
 * was deleted; shared/t.yaml still lists him but lost a value. The report names
 * each with the paths he could read then, and nothing he never could (a value
 * added after he was removed, a file never encrypted to him). Real git in a temp
 * repository, the commands run in-process (runInProcess), git's processes
 * counted through a recording shim: one log pass, one cat-file batch.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runInProcess } from "../../helpers/in-process.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"

describe("keys revoke: values the key could read in git history", () => {
    it("lists files and key paths of committed revisions that listed the key, deleted files too", { timeout: 120_000 }, async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        const home = join(root, "home")
        mkdirSync(dir)
        mkdirSync(home)
        const alice = ageKeygen(root, "alice")
        const bob = ageKeygen(root, "bob")
        // A git that records its calls, then runs the real one.
        const bin = join(root, "bin")
        const calls = join(bin, "git.log")
        mkdirSync(bin)
        const real = execFileSync("git", ["--exec-path"]).toString().trim()
        writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${real}/git' "$@"\n`)
        chmodSync(join(bin, "git"), 0o755)
        const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: home, GIT_CONFIG_NOSYSTEM: "1", SOPS_AGE_KEY_FILE: alice.file }
        const git = (args: string[]) => execFileSync("git", args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] }).toString()
        const cli = async (args: string[]) => {
            const r = await runInProcess(args, { cwd: dir, home, env })
            expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
            return r
        }
        git(["-c", "init.defaultBranch=main", "init", "-q"])
        git(["config", "user.name", "t"])
        git(["config", "user.email", "t@example.org"])
        writeFileSync(
            join(dir, ".sops.yaml"),
            `keys:\n  - &user_alice ${alice.recipient}\n  - &user_bob ${bob.recipient}\ncreation_rules:\n` +
                `  - path_regex: shared/.*\\.yaml$\n    key_groups:\n      - age: [*user_alice, *user_bob]\n` +
                `  - path_regex: \\.yaml$\n    key_groups:\n      - age: [*user_alice]\n`,
        )
        mkdirSync(join(dir, "shared"))
        writeFileSync(join(dir, "shared/s.yaml"), "db:\n  password: p1\nold: x\n")
        writeFileSync(join(dir, "shared/gone.yaml"), "gone: g\n")
        writeFileSync(join(dir, "shared/t.yaml"), "k: v\ndrop: d\n")
        writeFileSync(join(dir, "app.yaml"), "a: alice-only\n")
        for (const f of ["shared/s.yaml", "shared/gone.yaml", "shared/t.yaml", "app.yaml"]) await cli(["encrypt", "-i", f])
        git(["add", "-A"])
        git(["commit", "-qm", "one"])
        // Two commits ago bob could read s.yaml; then he is removed from it, gone.yaml is deleted, t.yaml loses a value.
        await cli(["rotate", "-i", "--rm-age", bob.recipient, "shared/s.yaml"])
        git(["rm", "-q", "shared/gone.yaml"])
        await cli(["unset", "shared/t.yaml", '["drop"]'])
        git(["commit", "-qam", "two"])
        await cli(["set", "shared/s.yaml", '["new"]', '"after bob"'])
        git(["commit", "-qam", "three"])
        expect(readFileSync(join(dir, "shared/s.yaml"), "utf8")).not.toContain(bob.recipient)

        writeFileSync(calls, "")
        const r = await cli(["keys", "revoke", "bob", "--dry-run"])
        expect(r.stdout).toBe(
            [
                "values user_bob could read:",
                "shared/t.yaml",
                '    ["k"]',
                "values user_bob could read in git history (old revisions stay readable to it in every clone):",
                "shared/gone.yaml (deleted)",
                '    ["gone"]',
                "shared/s.yaml (no longer encrypted to it)",
                '    ["db"]["password"]',
                '    ["old"]',
                "shared/t.yaml (still encrypted to it)",
                '    ["drop"]',
                "",
            ].join("\n"),
        )
        // Bounded: one history pass and one blob reader, whatever the number of revisions.
        const ran = readFileSync(calls, "utf8").split("\n").filter(Boolean)
        expect(ran.filter((c) => / log /.test(` ${c} `))).toHaveLength(1)
        expect(ran.filter((c) => c.startsWith("cat-file"))).toEqual(["cat-file --batch"])
        // Still a dry run: nothing changed.
        expect(git(["status", "--porcelain"])).toBe("")
        // The same through a symlinked checkout (git names the top by its real path).
        symlinkSync(dir, join(root, "link"))
        const linked = await runInProcess(["keys", "revoke", "bob", "--dry-run"], { cwd: join(root, "link"), home, env })
        expect(linked.code, linked.stderr).toBe(0)
        expect(linked.stdout).toBe(r.stdout)
    })

    it("outside a git work tree, the history is skipped with a note", { timeout: 60_000 }, async () => {
        const dir = tempDir()
        const alice = ageKeygen(dir, "alice")
        const bob = ageKeygen(dir, "bob")
        writeFileSync(join(dir, ".sops.yaml"), `keys:\n  - &user_alice ${alice.recipient}\n  - &user_bob ${bob.recipient}\ncreation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [*user_alice, *user_bob]\n`)
        writeFileSync(join(dir, "s.yaml"), "k: v\n")
        const env = { SOPS_AGE_KEY_FILE: alice.file, GIT_CEILING_DIRECTORIES: join(dir, "..") }
        expect((await runInProcess(["encrypt", "-i", "s.yaml"], { cwd: dir, env })).code).toBe(0)
        const r = await runInProcess(["keys", "revoke", "bob", "--dry-run"], { cwd: dir, env })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toBe('values user_bob could read:\ns.yaml\n    ["k"]\n')
        expect(r.stderr).toContain("secrets: git history not searched for values user_bob could read: the repository is not a git work tree (or git is missing)\n")
    })
})
