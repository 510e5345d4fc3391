/**
 * Issue 15 §1 with real git: `secrets git setup` writes the attributes, the driver
 * config and the pre-commit hook, is idempotent, `--check` reports, an existing hook
 * keeps blocking (or passing) commits, core.hooksPath is honoured, `--global`
 * touches only ~/.gitconfig, a cachetextconv is removed, and a planted symlink makes
 * setup refuse with nothing written.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { tempDir } from "../helpers/tmp.js"

const CHECKOUT = join(import.meta.dirname, "../..")
/** The real binary as git must run it (the tests do not put `secrets` on PATH). */
const REAL = `"${process.execPath}" "${BIN}"`

/** A repository holding a copy of the demo fleet (.sops.yaml and secrets/), with its own HOME. */
function demoRepo() {
    const root = tempDir()
    const home = join(root, "home")
    const repo = join(root, "repo")
    mkdirSync(home)
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1" }
    const git = (args: string[], cwd = repo) => execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    /** git's exit status alone (1 for a config key that is not set). */
    const gitStatus = (args: string[]) => spawnSync("git", args, { cwd: repo, env, stdio: "ignore" }).status
    git(["-c", "init.defaultBranch=main", "init", "-q", repo], root)
    git(["config", "user.email", "t@example.com"])
    git(["config", "user.name", "t"])
    cpSync(join(CHECKOUT, ".sops.yaml"), join(repo, ".sops.yaml"))
    cpSync(join(CHECKOUT, "secrets"), join(repo, "secrets"), { recursive: true })
    const cli = (args: string[], cwd = repo) => runCli(["git", "setup", ...args], { cwd, home, env: { GIT_CONFIG_NOSYSTEM: "1" } })
    return { root, home, repo, env, git, gitStatus, cli }
}

const read = (p: string) => readFileSync(p, "utf8")

describe("secrets git setup", () => {
    it("sets up a fresh repository, then has nothing to do; --check exits 1 before and 0 after", { timeout: 120_000 }, async () => {
        const { repo, git, gitStatus, cli } = demoRepo()
        mkdirSync(join(repo, "deep", "er"), { recursive: true })
        writeFileSync(join(repo, ".gitattributes"), "*.png binary\n")

        const before = await cli(["--check", "--command", REAL], join(repo, "deep", "er"))
        expect(before.code).toBe(1)
        expect(before.stdout).toMatch(/^\.gitattributes: no secrets lines/m)
        expect(before.stdout).toMatch(/^diff\.secrets\.textconv: not set$/m)
        expect(before.stdout).toMatch(/^merge\.secrets\.driver: not set$/m)
        expect(before.stdout).toMatch(/^pre-commit hook: not installed/m)
        expect(before.stderr).toMatch(/^secrets: error: not set up: 6 things missing or wrong$/m)
        const json = await cli(["--check", "--json", "--command", REAL])
        expect(json.code).toBe(1)
        expect(JSON.parse(json.stdout).problems.map((p: { part: string }) => p.part)).toEqual(["attributes", "config", "config", "config", "config", "hook"])

        // Run from a subdirectory: the repository and .sops.yaml are found above.
        const first = await cli(["--command", REAL], join(repo, "deep", "er"))
        expect(first.code, first.stderr).toBe(0)
        expect(first.stderr.split("\n").filter((l) => l !== "")).toEqual([
            "secrets: wrote .gitattributes (6 paths)",
            "secrets: set diff.secrets.textconv (repository config)",
            "secrets: set merge.secrets.name (repository config)",
            "secrets: set merge.secrets.driver (repository config)",
            "secrets: set merge.secrets.recursive (repository config)",
            "secrets: installed .git/hooks/pre-commit",
        ])
        const attrs = read(join(repo, ".gitattributes"))
        expect(attrs.startsWith("*.png binary\n# secrets: begin")).toBe(true)
        expect(attrs).toContain("\nsecrets/hosts/web1/** diff=secrets merge=secrets\n")
        expect(attrs.endsWith("# secrets: end\n")).toBe(true)
        expect(git(["config", "--local", "--get", "diff.secrets.textconv"])).toBe(`${REAL} git diff-text\n`)
        expect(git(["config", "--local", "--get", "merge.secrets.driver"])).toBe(`${REAL} git merge-driver %O %A %B %P\n`)
        expect(git(["config", "--local", "--get", "merge.secrets.recursive"])).toBe("binary\n")
        expect(gitStatus(["config", "--get", "diff.secrets.cachetextconv"])).toBe(1)
        const hook = join(repo, ".git", "hooks", "pre-commit")
        expect(lstatSync(hook).mode & 0o777).toBe(0o755)
        expect(read(hook)).toContain(`exec ${REAL} git pre-commit\n`)

        // Every demo-layout file gets both attributes; the config and other files do not.
        const attrsOf = git(["check-attr", "diff", "merge", "--", "secrets/hosts/web1/agent.yaml", "secrets/users/alice/tokens.yaml", "secrets/prod/app.yaml", ".sops.yaml", "README.md"])
        expect(attrsOf.split("\n").filter((l) => l !== "")).toEqual([
            "secrets/hosts/web1/agent.yaml: diff: secrets",
            "secrets/hosts/web1/agent.yaml: merge: secrets",
            "secrets/users/alice/tokens.yaml: diff: secrets",
            "secrets/users/alice/tokens.yaml: merge: secrets",
            "secrets/prod/app.yaml: diff: secrets",
            "secrets/prod/app.yaml: merge: secrets",
            ".sops.yaml: diff: unspecified",
            ".sops.yaml: merge: unspecified",
            "README.md: diff: unspecified",
            "README.md: merge: unspecified",
        ])

        const snapshot = () => [read(join(repo, ".gitattributes")), read(hook), read(join(repo, ".git", "config")), lstatSync(hook).mode]
        const was = snapshot()
        const again = await cli(["--command", REAL])
        expect(again.code, again.stderr).toBe(0)
        expect(again.stderr).toBe("secrets: already set up\n")
        expect(snapshot()).toEqual(was)
        expect(existsSync(join(repo, ".git", "hooks", "pre-commit.secrets-chained"))).toBe(false)
        const after = await cli(["--check", "--command", REAL])
        expect(after.code, after.stderr).toBe(0)
        expect(after.stdout).toBe("")
        // Without --command, the command set up before stays.
        expect((await cli([])).stderr).toBe("secrets: already set up\n")
        expect(snapshot()).toEqual(was)

        // A rule added to .sops.yaml makes the block stale; setup rewrites it in place.
        const rule = "  - path_regex: \\.enc\\.json$\n    age: age1tfk39spsppnjan7qd2680cte27fggk7ywvp7nw35ypjd9tz0m5jq6mxpm6\n"
        writeFileSync(join(repo, ".sops.yaml"), read(join(repo, ".sops.yaml")).replace("creation_rules:\n", `creation_rules:\n${rule}`))
        expect((await cli(["--check", "--command", REAL])).stdout).toMatch(/^\.gitattributes: the secrets lines are out of date/m)
        expect((await cli(["--command", REAL])).stderr).toBe("secrets: wrote .gitattributes (7 paths)\n")
        expect(read(join(repo, ".gitattributes")).match(/# secrets: begin/g)).toHaveLength(1)
        expect(git(["check-attr", "merge", "--", "deep/x.enc.json"])).toBe("deep/x.enc.json: merge: secrets\n")
    })

    it("wires git to secrets: git show prints values, git merge of two branches' keys is clean", { timeout: 120_000 }, async () => {
        const { repo, home, env, git, cli } = demoRepo()
        expect((await cli(["--command", REAL])).code).toBe(0)
        // A reader of secrets/dev/ (the public demo key of user alice), for git's drivers too.
        const keyFile = join(CHECKOUT, "examples", "keys", "alice.txt")
        const reader = { ...env, SOPS_AGE_KEY_FILE: keyFile }
        const gitR = (args: string[]) => execFileSync("git", args, { cwd: repo, env: reader, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        const set = async (key: string, value: string) => {
            const r = await runCli(["set", "secrets/dev/app.yaml", `["${key}"]`, JSON.stringify(value)], { cwd: repo, home, env: { SOPS_AGE_KEY_FILE: keyFile } })
            expect(r.code, r.stderr).toBe(0)
        }
        git(["add", "."])
        gitR(["commit", "-qm", "demo"])
        gitR(["checkout", "-qb", "theirs"])
        await set("THEIRS_KEY", "from-theirs")
        gitR(["commit", "-qam", "theirs"])
        expect(gitR(["show", "HEAD"])).toContain("+THEIRS_KEY: from-theirs\n")
        gitR(["checkout", "-q", "main"])
        await set("OURS_KEY", "from-ours")
        gitR(["commit", "-qam", "ours"])
        gitR(["merge", "-q", "--no-edit", "theirs"])
        const merged = await runCli(["decrypt", "secrets/dev/app.yaml"], { cwd: repo, home, env: { SOPS_AGE_KEY_FILE: keyFile } })
        expect(merged.code, merged.stderr).toBe(0)
        expect(merged.stdout).toContain("OURS_KEY: from-ours\n")
        expect(merged.stdout).toContain("THEIRS_KEY: from-theirs\n")
    })

    it("keeps an existing pre-commit hook working: its failure blocks the commit, its success lets ours run", { timeout: 120_000 }, async () => {
        const { root, repo, git, cli } = demoRepo()
        const log = join(root, "calls.log")
        // The stand-in for `secrets`: logs its argv, exits with the status in a file.
        const standIn = join(root, "standin.sh")
        writeFileSync(standIn, `#!/bin/sh\necho "standin $*" >> "${log}"\nexit "$(cat "${root}/standin.status")"\n`)
        chmodSync(standIn, 0o755)
        const oldHook = join(repo, ".git", "hooks", "pre-commit")
        mkdirSync(join(repo, ".git", "hooks"), { recursive: true })
        writeFileSync(oldHook, `#!/bin/sh\necho old >> "${log}"\nexit "$(cat "${root}/old.status")"\n`)
        chmodSync(oldHook, 0o755)
        const oldText = read(oldHook)

        const check = await cli(["--check", "--command", standIn])
        expect(check.stdout).toMatch(/^pre-commit hook: \.git\/hooks\/pre-commit is another hook \(setup keeps it as pre-commit\.secrets-chained and runs it first\)$/m)
        const setup = await cli(["--command", standIn])
        expect(setup.code, setup.stderr).toBe(0)
        expect(setup.stderr).toContain("secrets: installed .git/hooks/pre-commit (kept the existing hook as pre-commit.secrets-chained, run first)\n")
        const chained = join(repo, ".git", "hooks", "pre-commit.secrets-chained")
        expect(read(chained)).toBe(oldText)
        // A second run neither chains our hook to itself nor touches the old one.
        expect((await cli(["--command", standIn])).stderr).toBe("secrets: already set up\n")
        expect(read(chained)).toBe(oldText)

        const commit = (name: string) => {
            writeFileSync(join(repo, name), "x\n")
            git(["add", name])
            return spawnSync("git", ["commit", "-qm", name], { cwd: repo, env: { ...process.env, HOME: join(root, "home"), GIT_CONFIG_NOSYSTEM: "1" }, encoding: "utf8" })
        }
        const calls = () => (existsSync(log) ? read(log).split("\n").filter((l) => l !== "") : [])
        const statuses = (old: number, ours: number) => {
            writeFileSync(join(root, "old.status"), `${old}\n`)
            writeFileSync(join(root, "standin.status"), `${ours}\n`)
            writeFileSync(log, "")
        }

        statuses(1, 0)
        expect(commit("a.txt").status).not.toBe(0)
        expect(calls()).toEqual(["old"])
        statuses(0, 1)
        expect(commit("b.txt").status).not.toBe(0)
        expect(calls()).toEqual(["old", "standin git pre-commit"])
        statuses(0, 0)
        expect(commit("c.txt").status).toBe(0)
        expect(calls()).toEqual(["old", "standin git pre-commit"])
        expect(git(["log", "--format=%s"])).toBe("c.txt\n")
    })

    it("installs into core.hooksPath, relative to the top of the work tree (or absolute)", { timeout: 120_000 }, async () => {
        const { repo, env, git, cli } = demoRepo()
        git(["config", "core.hooksPath", ".githooks"])
        mkdirSync(join(repo, "sub"))
        const r = await cli(["--command", REAL], join(repo, "sub"))
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain("secrets: installed .githooks/pre-commit\n")
        expect(lstatSync(join(repo, ".githooks", "pre-commit")).mode & 0o777).toBe(0o755)
        expect(existsSync(join(repo, ".git", "hooks", "pre-commit"))).toBe(false)
        expect((await cli(["--check", "--command", REAL])).code).toBe(0)
        // Our hook without its executable bits (git would skip it): reported, then restored.
        chmodSync(join(repo, ".githooks", "pre-commit"), 0o644)
        expect((await cli(["--check", "--command", REAL])).stdout).toBe("pre-commit hook: .githooks/pre-commit has mode 0644, not 0755\n")
        expect((await cli(["--command", REAL])).stderr).toBe("secrets: made .githooks/pre-commit executable (0755)\n")
        expect(lstatSync(join(repo, ".githooks", "pre-commit")).mode & 0o777).toBe(0o755)

        // The installed hook runs the real `secrets git pre-commit`: a plaintext file
        // under an encrypted path is refused, the encrypted demo files go through.
        git(["add", "."])
        git(["commit", "-qm", "demo"])
        writeFileSync(join(repo, "secrets", "dev", "plain.yaml"), "password: not-encrypted\n")
        git(["add", "secrets/dev/plain.yaml"])
        const refused = spawnSync("git", ["commit", "-qm", "plain"], { cwd: repo, env, encoding: "utf8" })
        expect(refused.status).not.toBe(0)
        expect(refused.stderr).toContain("secrets/dev/plain.yaml: not encrypted")
        expect(git(["log", "--format=%s"])).toBe("demo\n")

        // An absolute core.hooksPath outside the repository is the user's choice: used, and said to be shared.
        const shared = join(repo, "..", "shared-hooks")
        git(["config", "core.hooksPath", shared])
        const r2 = await cli(["--command", REAL])
        expect(r2.code, r2.stderr).toBe(0)
        expect(r2.stderr).toContain(`secrets: installed ${shared}/pre-commit\n`)
        expect(r2.stderr).toContain(`secrets: core.hooksPath "${shared}" is outside this repository: every repository using it runs the hook\n`)
    })

    it("--global writes the user's ~/.gitconfig and nothing in the repository", { timeout: 120_000 }, async () => {
        const { repo, home, git, cli } = demoRepo()
        const configBefore = read(join(repo, ".git", "config"))
        const r = await cli(["--global", "--command", REAL])
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain("secrets: set diff.secrets.textconv (global config)\n")
        const global = read(join(home, ".gitconfig"))
        expect(global).toContain("[diff \"secrets\"]")
        expect(git(["config", "--global", "--get", "merge.secrets.driver"])).toBe(`${REAL} git merge-driver %O %A %B %P\n`)
        expect(read(join(repo, ".git", "config"))).toBe(configBefore)
        expect(existsSync(join(repo, ".gitattributes"))).toBe(false)
        expect(existsSync(join(repo, ".git", "hooks", "pre-commit"))).toBe(false)
        expect((await cli(["--global", "--check", "--command", REAL])).code).toBe(0)
        // In the repository the global drivers count: only attributes and the hook are missing.
        const local = await cli(["--check", "--json", "--command", REAL])
        expect(JSON.parse(local.stdout).problems.map((p: { part: string }) => p.part)).toEqual(["attributes", "hook"])
        // --global works outside any repository too.
        const outside = await cli(["--global", "--check", "--command", REAL], home)
        expect(outside.code, outside.stderr).toBe(0)
    })

    it("reports and removes diff.secrets.cachetextconv and the plaintext cache ref", { timeout: 120_000 }, async () => {
        const { repo, git, gitStatus, cli } = demoRepo()
        expect((await cli(["--command", REAL])).code).toBe(0)
        git(["add", "."])
        git(["commit", "-qm", "one", "--no-verify"])
        git(["config", "diff.secrets.cachetextconv", "yes"])
        git(["notes", "--ref=textconv/secrets", "add", "-m", "cached plaintext", "HEAD"])
        const check = await cli(["--check", "--command", REAL])
        expect(check.code).toBe(1)
        expect(check.stdout.split("\n").filter((l) => l !== "")).toEqual([
            "diff.secrets.cachetextconv: set, so git stores decrypted diffs (plaintext) in refs/notes/textconv/secrets",
            "refs/notes/textconv/secrets: exists, git's cache of decrypted diffs (plaintext)",
        ])
        const fix = await cli(["--command", REAL])
        expect(fix.code, fix.stderr).toBe(0)
        expect(fix.stderr).toContain("secrets: removed diff.secrets.cachetextconv (repository config)")
        expect(fix.stderr).toContain("secrets: deleted refs/notes/textconv/secrets")
        expect(gitStatus(["config", "--get", "diff.secrets.cachetextconv"])).toBe(1)
        expect(gitStatus(["rev-parse", "--verify", "--quiet", "refs/notes/textconv/secrets"])).not.toBe(0)
        expect((await cli(["--check", "--command", REAL])).code).toBe(0)
    })

    it("reports files whose attributes another attributes file overrides", { timeout: 120_000 }, async () => {
        const { repo, cli } = demoRepo()
        expect((await cli(["--command", REAL])).code).toBe(0)
        // A deeper .gitattributes wins over the top one's lines.
        writeFileSync(join(repo, "secrets", "dev", ".gitattributes"), "* -diff\n")
        const check = await cli(["--check", "--command", REAL])
        expect(check.code).toBe(1)
        expect(check.stdout).toBe('secrets/dev/app.yaml: diff is "unset", not "secrets" (another attributes line overrides setup\'s)\n')
        expect(check.stderr).toMatch(/^secrets: hint: remove the diff\/merge setting that overrides setup's/m)
        expect(check.stderr).not.toContain("run `secrets git setup`")
        const setup = await cli(["--command", REAL])
        expect(setup.code).toBe(0)
        expect(setup.stderr).toContain('secrets: warning: secrets/dev/app.yaml: diff is "unset", not "secrets"')
        expect(setup.stderr).toContain("secrets: already set up\n")
    })

    it("refuses a planted symlink with one line and writes nothing; outside a repository exits 2", { timeout: 120_000 }, async () => {
        const { root, repo, git, gitStatus, cli } = demoRepo()
        const victim = join(root, "victim")
        writeFileSync(victim, "precious\n")
        const nothingWritten = () => {
            expect(read(victim)).toBe("precious\n")
            expect(gitStatus(["config", "--local", "--get", "diff.secrets.textconv"])).toBe(1)
            expect(existsSync(join(repo, ".git", "hooks", "pre-commit"))).toBe(false)
        }

        symlinkSync(victim, join(repo, ".gitattributes"))
        const attrs = await cli(["--command", REAL])
        expect(attrs.code).toBe(3)
        expect(attrs.stderr).toMatch(/^secrets: error: refusing to set up: ".*\/\.gitattributes" is a symbolic link\nsecrets: hint: /)
        nothingWritten()
        execFileSync("rm", [join(repo, ".gitattributes")])

        // A committed hooks directory that is a link out of the work tree.
        const elsewhere = join(root, "elsewhere")
        mkdirSync(elsewhere)
        symlinkSync(elsewhere, join(repo, ".githooks"))
        git(["config", "core.hooksPath", ".githooks"])
        const dir = await cli(["--command", REAL])
        expect(dir.code).toBe(3)
        expect(dir.stderr).toMatch(/^secrets: error: refusing to set up: the hooks path ".*\/\.githooks" leads outside the work tree/)
        expect(existsSync(join(repo, ".gitattributes"))).toBe(false)
        expect(existsSync(join(elsewhere, "pre-commit"))).toBe(false)
        git(["config", "--unset", "core.hooksPath"])

        // A hook that is a link out of the repository.
        mkdirSync(join(repo, ".git", "hooks"), { recursive: true })
        symlinkSync(victim, join(repo, ".git", "hooks", "pre-commit"))
        const hook = await cli(["--command", REAL])
        expect(hook.code).toBe(3)
        expect(hook.stderr).toMatch(/^secrets: error: refusing to set up: ".*pre-commit" is a symbolic link outside the repository/)
        expect(read(victim)).toBe("precious\n")
        expect(existsSync(join(repo, ".gitattributes"))).toBe(false)
        expect(existsSync(join(repo, ".git", "hooks", "pre-commit.secrets-chained"))).toBe(false)

        // Someone else's hook with a chained hook already beside it: which to keep is the user's call.
        execFileSync("rm", [join(repo, ".git", "hooks", "pre-commit")])
        writeFileSync(join(repo, ".git", "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n", { mode: 0o755 })
        writeFileSync(join(repo, ".git", "hooks", "pre-commit.secrets-chained"), "#!/bin/sh\nexit 0\n", { mode: 0o755 })
        const both = await cli(["--command", REAL])
        expect(both.code).toBe(3)
        expect(both.stderr).toMatch(/^secrets: error: refusing to set up: ".*pre-commit" is not secrets' hook, and ".*pre-commit\.secrets-chained" exists already\n/)
        expect(read(join(repo, ".git", "hooks", "pre-commit"))).toBe("#!/bin/sh\nexit 0\n")
        expect(existsSync(join(repo, ".gitattributes"))).toBe(false)

        const outside = await cli(["--command", REAL], root)
        expect(outside.code).toBe(2)
        expect(outside.stderr.split("\n")[0]).toMatch(/^secrets: error: not in a git work tree: /)
    })
})
