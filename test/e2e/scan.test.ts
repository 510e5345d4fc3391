/**
 * Issue 15 §5, `secrets scan`: a corpus of planted credentials, each found with its
 * rule id and line and never printed whole; `.secretsignore` with reasons; the
 * index read by `--staged`; a sops file scanned in its clear parts only; and this
 * repository's own tree scanning clean.
 *
 * The credentials are built here from pieces (or made by ssh-keygen/age-keygen at
 * run time), so that this file itself holds no credential-shaped string: the scan
 * of our own tree must stay clean.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const CHECKOUT = join(import.meta.dirname, "../..")

/** Fake but realistic-looking credentials (not the documented EXAMPLE ones, which secretlint skips). */
function credentials(dir: string) {
    const awsId = ["AK", "IA", "Z3QW", "ERTY", "UIOP", "ASDF"].join("")
    const awsSecret = ["wJalr", "XUtnFEMI/K7MDENG/", "bPxRfiCYzq4k8Ltrx9"].join("")
    const github = ["gh", "p_", "aB3dE5fG7hJ9kL1mN3pQ", "5rS7tU9vW1xY3z5A"].join("")
    const slack = ["xo", "xb-", "123456789012-", "1234567890123-", "aB3dE5fG7hJ9kL1mN3pQ5rS7"].join("")
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "gen_key")])
    const pem = readFileSync(join(dir, "gen_key"), "utf8")
    const age = ageKeygen(dir, "gen-age")
    const ageSecret = /AGE-SECRET-KEY-1\S+/.exec(age.text)?.[0] ?? ""
    expect(awsSecret).toHaveLength(40)
    expect(ageSecret).toHaveLength(74)
    return { awsId, awsSecret, github, slack, pem, age: age.text, ageSecret, agePub: age.recipient }
}

/** Every place a credential could leak to. */
function output(r: CliResult): string {
    return `${r.stdout}\n${r.stderr}`
}

/** The PEM body lines: none may appear in any output. */
function pemLines(pem: string): string[] {
    return pem.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))
}

interface JsonFinding {
    file: string
    line: number
    column: number
    ruleId: string
    message: string
    excerpt: string
}

describe("secrets scan", () => {
    it("finds each planted credential with its rule and line, masked everywhere; the ignore file hides one with a reason and refuses a line without", { timeout: 120_000 }, async () => {
        const dir = tempDir()
        const gen = join(dir, "gen")
        const work = join(dir, "work")
        mkdirSync(gen)
        mkdirSync(join(work, "config"), { recursive: true })
        mkdirSync(join(work, "keys"))
        mkdirSync(join(work, "secrets"))
        mkdirSync(join(work, "node_modules", "dep"), { recursive: true })
        const c = credentials(gen)
        writeFileSync(
            join(work, "config", "creds.txt"),
            `# service credentials\naws_access_key_id = ${c.awsId}\naws_secret_access_key = ${c.awsSecret}\ngithub_token: ${c.github}\nslack: ${c.slack}\n`,
        )
        writeFileSync(join(work, "keys", "id_ed25519"), c.pem)
        writeFileSync(join(work, "keys", "age.txt"), c.age)
        writeFileSync(join(work, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${c.agePub}\n`)
        writeFileSync(join(work, "secrets", "db.yaml"), "password: not-encrypted-yet\n")
        // A binary file under an encrypted path: its content is not scanned, but it is plaintext.
        writeFileSync(join(work, "secrets", "store.p12"), Buffer.from([0x30, 0x82, 0x00, 0x01, 0x02]))
        // Never scanned: dependencies, and binary files (said in --json).
        writeFileSync(join(work, "node_modules", "dep", "token.txt"), `token: ${c.github}\n`)
        writeFileSync(join(work, "blob.bin"), Buffer.concat([Buffer.from(`x\0${c.github}`)]))
        writeFileSync(join(work, "big.txt"), `token: ${c.github}\n${"x".repeat(3 * 1024 * 1024)}\n`)

        const r = await runCli(["scan"], { cwd: work })
        expect(r.code, r.stderr).toBe(1)
        const lines = r.stdout.trimEnd().split("\n")
        const at = (prefix: string, rule: string) => lines.filter((l) => l.startsWith(prefix) && l.includes(`  ${rule}  `))
        expect(at("config/creds.txt:2:21", "@secretlint/secretlint-rule-aws")).toHaveLength(1)
        expect(at("config/creds.txt:3:", "@secretlint/secretlint-rule-aws")).toHaveLength(1)
        expect(at("config/creds.txt:4:15", "@secretlint/secretlint-rule-github")).toHaveLength(1)
        expect(at("config/creds.txt:5:8", "@secretlint/secretlint-rule-slack")).toHaveLength(1)
        expect(at("keys/id_ed25519:1:1", "@secretlint/secretlint-rule-privatekey")).toHaveLength(1)
        expect(at("keys/age.txt:3:1", "secrets/age-secret-key")).toHaveLength(1)
        expect(at("secrets/db.yaml:1:1", "secrets/plaintext-in-encrypted-path")).toHaveLength(1)
        expect(lines.some((l) => l.startsWith("node_modules/") || l.startsWith("blob.bin") || l.startsWith("big.txt"))).toBe(false)
        // Masked: the first 4 characters and an ellipsis, never more.
        expect(at("config/creds.txt:4:", "@secretlint/secretlint-rule-github")[0]).toContain(`github_token: ${c.github.slice(0, 4)}…`)
        expect(at("keys/age.txt:3:", "secrets/age-secret-key")[0]).toMatch(/ {2}AGE-…$/)
        expect(at("secrets/store.p12:1:1", "secrets/plaintext-in-encrypted-path")).toHaveLength(1)
        expect(r.stderr).toContain("secrets: 8 findings in 5 files")

        const json = await runCli(["scan", "--json"], { cwd: work })
        expect(json.code, json.stderr).toBe(1)
        const report = JSON.parse(json.stdout) as { findings: JsonFinding[]; ignored: number; scanned: number; skipped: { file: string; reason: string }[] }
        expect(report.findings.map((f) => `${f.file}:${f.line} ${f.ruleId}`)).toEqual([
            "config/creds.txt:2 @secretlint/secretlint-rule-aws",
            "config/creds.txt:3 @secretlint/secretlint-rule-aws",
            "config/creds.txt:4 @secretlint/secretlint-rule-github",
            "config/creds.txt:5 @secretlint/secretlint-rule-slack",
            "keys/age.txt:3 secrets/age-secret-key",
            "keys/id_ed25519:1 @secretlint/secretlint-rule-privatekey",
            "secrets/db.yaml:1 secrets/plaintext-in-encrypted-path",
            "secrets/store.p12:1 secrets/plaintext-in-encrypted-path",
        ])
        expect(report.skipped).toEqual([
            { file: "big.txt", reason: "too large" },
            { file: "blob.bin", reason: "binary" },
            { file: "secrets/store.p12", reason: "binary" },
        ])
        expect(r.stderr).toContain("3 skipped (--verbose lists them)")
        const verbose = await runCli(["--verbose", "scan"], { cwd: work })
        expect(verbose.stderr).toContain("secrets: skipped big.txt (too large)\nsecrets: skipped blob.bin (binary)\nsecrets: skipped secrets/store.p12 (binary)\n")

        // No credential whole, anywhere: not in the text, not in the JSON (nor any half of the AWS secret).
        for (const out of [output(r), output(json), output(verbose)]) {
            for (const secret of [c.awsId, c.awsSecret, c.awsSecret.slice(20), c.github, c.slack, c.ageSecret, ...pemLines(c.pem)]) expect(out).not.toContain(secret)
        }

        // The ignore file: one finding accepted with a reason, counted; a line without a reason is fatal.
        writeFileSync(join(work, ".secretsignore"), "# accepted findings\nconfig/creds.txt  @secretlint/secretlint-rule-slack  # a revoked token kept for a regression test\n")
        const ignored = await runCli(["scan"], { cwd: work })
        expect(ignored.code).toBe(1)
        expect(ignored.stdout).not.toContain("secretlint-rule-slack")
        expect(ignored.stderr).toContain("secrets: 7 findings in 5 files, 1 ignored by .secretsignore")
        writeFileSync(join(work, ".secretsignore"), "# accepted findings\nkeys/\n")
        const bad = await runCli(["scan"], { cwd: work })
        expect(bad.code).toBe(2)
        expect(bad.stderr).toContain("secrets: error: .secretsignore:2: an entry without a reason")
        expect(bad.stdout).toBe("")

        // A path given: only it is scanned; a clean file exits 0.
        writeFileSync(join(work, ".secretsignore"), "")
        const one = await runCli(["scan", "keys/age.txt", "--json"], { cwd: work })
        expect((JSON.parse(one.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.file)).toEqual(["keys/age.txt"])
        const clean = await runCli(["scan", "secrets/../.sops.yaml"], { cwd: work })
        expect(clean.code, clean.stderr).toBe(0)
        expect(clean.stderr).toContain("secrets: no findings (1 file scanned)")
    })

    it("--staged reads the index, not the work tree; a sops file is scanned in its clear parts only", { timeout: 120_000 }, async () => {
        const dir = tempDir()
        const repo = join(dir, "repo")
        mkdirSync(repo)
        const c = credentials(dir)
        const alice = ageKeygen(dir, "alice")
        const env = { GIT_CONFIG_NOSYSTEM: "1", SOPS_AGE_KEY_FILE: alice.file }
        const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" }, stdio: ["ignore", "pipe", "pipe"] })
        git("-c", "init.defaultBranch=main", "init", "-q")
        git("config", "user.email", "t@example.com")
        git("config", "user.name", "t")

        writeFileSync(join(repo, "app.txt"), `first line\ntoken = ${c.github}\n`)
        git("add", "app.txt")
        // The work tree is cleaned after staging: the commit would still carry the token.
        writeFileSync(join(repo, "app.txt"), "first line\ntoken = read from the environment\n")
        const staged = await runCli(["scan", "--staged", "--json"], { cwd: repo, env })
        expect(staged.code, staged.stderr).toBe(1)
        expect((JSON.parse(staged.stdout) as { findings: JsonFinding[] }).findings.map((f) => `${f.file}:${f.line} ${f.ruleId}`)).toEqual(["app.txt:2 @secretlint/secretlint-rule-github"])
        expect(output(staged)).not.toContain(c.github)
        const tree = await runCli(["scan"], { cwd: repo, env })
        expect(tree.code, tree.stdout).toBe(0)

        // The staged .secretsignore is the one that counts: an unstaged entry hides nothing from --staged.
        writeFileSync(join(repo, ".secretsignore"), "# none yet\n")
        git("add", ".secretsignore")
        writeFileSync(join(repo, ".secretsignore"), "app.txt  # a token revoked long ago\n")
        expect((await runCli(["scan", "--staged"], { cwd: repo, env })).code).toBe(1)
        git("add", ".secretsignore")
        const accepted = await runCli(["scan", "--staged"], { cwd: repo, env })
        expect(accepted.code, accepted.stdout).toBe(0)
        expect(accepted.stderr).toContain("no findings, 1 ignored by .secretsignore (2 files scanned)")
        git("rm", "-q", "--cached", ".secretsignore")
        writeFileSync(join(repo, ".secretsignore"), "")

        // A sops file: ENC values and the metadata are not scanned, a clear value is.
        writeFileSync(join(repo, "vals.yaml"), `password: ${c.slack}\napi_unencrypted: ${c.github}\n`)
        const enc = await runCli(["encrypt", "-i", "--age", alice.recipient, "vals.yaml"], { cwd: repo, env })
        expect(enc.code, enc.stderr).toBe(0)
        const sops = await runCli(["scan", "vals.yaml", "--json"], { cwd: repo, env })
        expect((JSON.parse(sops.stdout) as { findings: JsonFinding[] }).findings.map((f) => `${f.file}:${f.line} ${f.ruleId}`)).toEqual([
            "vals.yaml:2 @secretlint/secretlint-rule-github",
        ])

        // Outside a repository, --staged is a fatal error (2), not a finding (1).
        const outside = await runCli(["scan", "--staged"], { cwd: dir, env })
        expect(outside.code).toBe(2)
        expect(outside.stderr).toContain("--staged needs a git repository")
    })

    it("this repository's own tree scans clean (its test keys are listed in .secretsignore with reasons)", { timeout: 120_000 }, async () => {
        const r = await runCli(["scan"], { cwd: CHECKOUT })
        expect(r.stdout).toBe("")
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toMatch(/^secrets: no findings, \d+ ignored by \.secretsignore \(\d+ files scanned/)
    })
})
