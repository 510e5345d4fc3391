/**
 * Issue 15 §5 with real git: `.git/hooks/pre-commit` runs the built binary's
 * `secrets git pre-commit`, which refuses plaintext under an encrypted path, a
 * tampered sops file, one of the tool's lock files and a planted credential, each
 * with its fix, and lets a clean commit through quietly. A sops file the committer
 * cannot open is parsed, said to be unchecked, and let through.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

describe("secrets git pre-commit as git's hook", () => {
    it("refuses each kind of bad staged file with its fix, and lets clean commits through", { timeout: 180_000 }, async () => {
        const root = tempDir()
        const repo = join(root, "repo")
        const home = join(root, "home")
        mkdirSync(join(repo, "secrets"), { recursive: true })
        mkdirSync(home)
        const alice = ageKeygen(root, "alice")
        const bob = ageKeygen(root, "bob")
        const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1" }
        const withKey = { ...base, SOPS_AGE_KEY_FILE: alice.file }
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: withKey, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        /** A commit attempt: git's status and what the hook said. */
        const commit = (message: string, env: Record<string, string> = withKey) => {
            const r = spawnSync("git", ["commit", "-qm", message], { cwd: repo, env, encoding: "utf8" })
            return { status: r.status, stderr: r.stderr }
        }
        const cli = async (args: string[]) => {
            const r = await runCli(args, { cwd: repo, home, env: { SOPS_AGE_KEY_FILE: alice.file } })
            expect(r.code, r.stderr).toBe(0)
        }

        git("-c", "init.defaultBranch=main", "init", "-q")
        git("config", "user.email", "t@example.com")
        git("config", "user.name", "t")
        const hook = join(repo, ".git", "hooks", "pre-commit")
        writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" git pre-commit\n`)
        chmodSync(hook, 0o755)
        writeFileSync(
            join(repo, ".sops.yaml"),
            `creation_rules:\n  - path_regex: ^secrets/bob/\n    age: ${bob.recipient}\n  - path_regex: ^secrets/\n    age: ${alice.recipient}\n`,
        )
        git("add", ".sops.yaml")
        const first = commit("config")
        expect(first.status, first.stderr).toBe(0)
        expect(first.stderr).toBe("")

        // Plaintext under an encrypted path.
        writeFileSync(join(repo, "secrets", "db.yaml"), "password: plain\n")
        git("add", "secrets/db.yaml")
        const plain = commit("plaintext")
        expect(plain.status).toBe(1)
        expect(plain.stderr).toContain("secrets: error: secrets/db.yaml: not encrypted, but .sops.yaml's creation_rules[1] (path_regex \"^secrets/\") says it must be")
        expect(plain.stderr).toContain("secrets: hint: encrypt it: secrets encrypt -i secrets/db.yaml && git add secrets/db.yaml (or keep it out of git: git rm --cached secrets/db.yaml)")
        expect(plain.stderr).toContain("secrets: commit refused: 1 problem in the staged files")
        // The fix works: encrypted, the same file commits.
        await cli(["encrypt", "-i", "secrets/db.yaml"])
        git("add", "secrets/db.yaml")
        const fixed = commit("encrypted")
        expect(fixed.status, fixed.stderr).toBe(0)
        expect(fixed.stderr).toBe("")

        // A clean change made with `secrets set` passes quietly.
        await cli(["set", "secrets/db.yaml", '["password"]', '"rotated-value"'])
        git("add", "secrets/db.yaml")
        const clean = commit("set")
        expect(clean.status, clean.stderr).toBe(0)
        expect(clean.stderr).toBe("")

        // A tampered sops file: a clear value added without the key, so the MAC fails.
        appendFileSync(join(repo, "secrets", "db.yaml"), "note_unencrypted: added by hand\n")
        git("add", "secrets/db.yaml")
        const tampered = commit("tampered")
        expect(tampered.status).toBe(1)
        expect(tampered.stderr).toMatch(/secrets: error: secrets\/db\.yaml: its MAC does not verify: it was changed without the key/)
        expect(tampered.stderr).toContain("secrets: hint: restore a version that verifies (git restore --staged --worktree --source=HEAD secrets/db.yaml)")
        git("restore", "--staged", "--worktree", "--source=HEAD", "secrets/db.yaml")

        // The tool's lock file (not also called plaintext, though it is under secrets/).
        writeFileSync(join(repo, "secrets", "db.yaml.lock"), JSON.stringify({ pid: 4242, hostname: "h", time: 1, token: "t" }))
        git("add", "secrets/db.yaml.lock")
        const lock = commit("lock")
        expect(lock.status).toBe(1)
        expect(lock.stderr).toContain("secrets: error: secrets/db.yaml.lock: a lock file of the tool; not for a commit")
        expect(lock.stderr).toContain("secrets: hint: unstage it: git rm --cached secrets/db.yaml.lock")
        expect(lock.stderr).toContain("1 problem in the staged files")
        git("rm", "-q", "--cached", "secrets/db.yaml.lock")

        // A planted credential, masked in the refusal.
        const token = ["gh", "p_", "aB3dE5fG7hJ9kL1mN3pQ", "5rS7tU9vW1xY3z5A"].join("")
        writeFileSync(join(repo, "deploy.sh"), `#!/bin/sh\nexport GITHUB_TOKEN=${token}\n`)
        git("add", "deploy.sh")
        const leak = commit("leak")
        expect(leak.status).toBe(1)
        expect(leak.stderr).toContain("secrets: error: deploy.sh: line 2, column 21: @secretlint/secretlint-rule-github: export GITHUB_TOKEN=ghp_…")
        expect(leak.stderr).toContain("secrets: hint: remove the credential")
        expect(leak.stderr).not.toContain(token)
        git("rm", "-q", "--cached", "deploy.sh")
        // `git commit -a` stages into its own index (GIT_INDEX_FILE): that is the one checked.
        appendFileSync(join(repo, ".sops.yaml"), `# token: ${token}\n`)
        const all = spawnSync("git", ["commit", "-qam", "all"], { cwd: repo, env: withKey, encoding: "utf8" })
        expect(all.status).toBe(1)
        expect(all.stderr).toContain("secrets: error: .sops.yaml: line 6, column 10: @secretlint/secretlint-rule-github: # token: ghp_…")
        git("checkout", "--", ".sops.yaml")

        // A file the committer cannot open (bob's): parsed, said unchecked, let through.
        mkdirSync(join(repo, "secrets", "bob"), { recursive: true })
        writeFileSync(join(repo, "secrets", "bob", "x.yaml"), "token: for-bob\n")
        const enc = await runCli(["encrypt", "-i", "secrets/bob/x.yaml"], { cwd: repo, home })
        expect(enc.code, enc.stderr).toBe(0)
        git("add", "secrets/bob/x.yaml")
        const unreadable = commit("for bob")
        expect(unreadable.status, unreadable.stderr).toBe(0)
        expect(unreadable.stderr).toBe('secrets: "secrets/bob/x.yaml": MAC not checked (no identity); it parses as a sops file\n')
        expect(git("log", "--format=%s")).toBe("for bob\nset\nencrypted\nconfig\n")
    })
})
