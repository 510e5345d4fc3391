/**
 * `secrets access`, `secrets status` and `secrets rotate --due` through the built
 * binary, in a temp git repository whose commits carry fixed dates, with the clock
 * pinned by SECRETS_NOW and a 30-day policy. Data keys are read with Debian age.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

type Key = ReturnType<typeof ageKeygen>

interface Repo {
    dir: string
    home: string
    keysDir: string
    keys: Record<"alice" | "web1" | "recovery" | "bob", Key>
}

const NOW = "2030-03-10T00:00:00Z"
const SLOW = 120_000

function configText(keys: Repo["keys"], maxAge = "30d"): string {
    return [
        "keys:",
        `    - &host_web1 ${keys.web1.recipient}`,
        `    - &user_alice ${keys.alice.recipient}`,
        `    - &recovery ${keys.recovery.recipient}`,
        "creation_rules:",
        "    - path_regex: ^secrets/hosts/web1/",
        "      key_groups:",
        "          - age: [*user_alice, *host_web1, *recovery]",
        "    - path_regex: ^secrets/users/alice/",
        "      key_groups:",
        "          - age: [*user_alice, *recovery]",
        "    - path_regex: ^secrets/shared/",
        "      key_groups:",
        "          - age: [*user_alice, *host_web1, *recovery]",
        "secrets:",
        "    rotation:",
        `        max_age: ${maxAge}`,
        "",
    ].join("\n")
}

function git(repo: Repo, args: string[], date?: string): string {
    return execFileSync("git", args, {
        cwd: repo.dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: repo.home, ...(date !== undefined ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) },
        stdio: ["ignore", "pipe", "pipe"],
    }).toString()
}

function commitAll(repo: Repo, date: string, message: string): void {
    git(repo, ["add", "-A"])
    git(repo, ["commit", "-q", "-m", message], date)
}

async function cli(repo: Repo, args: string[], env: Record<string, string> = {}) {
    return runCli(args, { cwd: repo.dir, home: repo.home, env: { SOPS_AGE_KEY_FILE: repo.keys.recovery.file, SECRETS_NOW: NOW, ...env } })
}

async function encryptNew(repo: Repo, file: string, plain: string, now: string, extra: string[] = []): Promise<void> {
    mkdirSync(join(repo.dir, file, ".."), { recursive: true })
    writeFileSync(join(repo.dir, file), plain)
    const r = await cli(repo, ["encrypt", "-i", ...extra, file], { SECRETS_NOW: now })
    // The caller holds the recovery key; a file given only to `--age` someone else is
    // one they cannot open, and encrypt says so (issue 11 §8).
    if (extra.includes("--age")) expect(r.stderr).toMatch(/^secrets: warning: you will not be able to decrypt .*\nsecrets: hint: .*\n$/)
    else expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
}

async function makeRepo(maxAge = "30d"): Promise<Repo> {
    const dir = tempDir()
    const home = tempDir()
    const keysDir = tempDir()
    const keys = {
        alice: ageKeygen(keysDir, "alice"),
        web1: ageKeygen(keysDir, "web1"),
        recovery: ageKeygen(keysDir, "recovery"),
        bob: ageKeygen(keysDir, "bob"),
    }
    const repo = { dir, home, keysDir, keys }
    writeFileSync(join(dir, ".sops.yaml"), configText(keys, maxAge))
    git(repo, ["init", "-q", "-b", "main"])
    git(repo, ["config", "user.name", "Test"])
    git(repo, ["config", "user.email", "test@example.org"])
    return repo
}

/**
 * The history the status tests read:
 *   2030-01-01  three files encrypted (lastmodified), committed 2030-01-05
 *   2030-02-10  hosts/web1/tls.yaml rotated, committed 2030-02-15
 *   2030-03-01  users/alice/token.yaml edited (same data key), committed 2030-03-01
 *   2030-02-20  users/alice/new.yaml encrypted, never committed
 */
async function makeHistory(): Promise<Repo> {
    const repo = await makeRepo()
    await encryptNew(repo, "secrets/shared/db.yaml", "password: db-VALUE-1\n", "2030-01-01T00:00:00Z")
    await encryptNew(repo, "secrets/hosts/web1/tls.yaml", "key: tls-VALUE-2\n", "2030-01-01T00:00:00Z")
    await encryptNew(repo, "secrets/users/alice/token.yaml", "token: alice-VALUE-3\n", "2030-01-01T00:00:00Z")
    commitAll(repo, "2030-01-05T00:00:00Z", "first secrets")
    const rot = await cli(repo, ["rotate", "-i", "secrets/hosts/web1/tls.yaml"], { SECRETS_NOW: "2030-02-10T00:00:00Z" })
    expect(rot.code).toBe(0)
    commitAll(repo, "2030-02-15T00:00:00Z", "rotate tls")
    const set = await cli(repo, ["set", "secrets/users/alice/token.yaml", '["token"]', '"alice-VALUE-4"'], { SECRETS_NOW: "2030-03-01T00:00:00Z" })
    expect(set.stderr).toBe("")
    expect(set.code).toBe(0)
    commitAll(repo, "2030-03-01T00:00:00Z", "new token")
    await encryptNew(repo, "secrets/users/alice/new.yaml", "other: alice-VALUE-5\n", "2030-02-20T00:00:00Z")
    return repo
}

function sopsOf(repo: Repo, file: string): { age: { recipient: string; enc: string }[]; lastmodified: string } {
    return (parse(readFileSync(join(repo.dir, file), "utf8")) as { sops: { age: { recipient: string; enc: string }[]; lastmodified: string } }).sops
}

/** The file's data key as Debian age reads it from the recovery block. */
function dataKey(repo: Repo, file: string): string {
    const block = sopsOf(repo, file).age.find((a) => a.recipient === repo.keys.recovery.recipient)
    if (block === undefined) throw new Error("no recovery block")
    const tmp = join(repo.keysDir, "block.age")
    writeFileSync(tmp, block.enc)
    return run("age", ["-d", "-i", repo.keys.recovery.file, tmp]).toString("hex")
}

const TRACKED = ["secrets/hosts/web1/tls.yaml", "secrets/shared/db.yaml", "secrets/users/alice/token.yaml"]
const ALL = [...TRACKED, "secrets/users/alice/new.yaml"]

describe("secrets status", () => {
    it(
        "ages from git history of the key blocks (not lastmodified), lastmodified for an untracked file, due over 30d; --check; rotate --due rotates exactly the due files",
        async () => {
            const repo = await makeHistory()
            const status = await cli(repo, ["status", "--json"])
            expect(status.stderr).toBe("")
            expect(status.code).toBe(0)
            const ok = (path: string, keyDate: string, keyAgeDays: number, keySource: string, due: boolean, problems: string[] = []) => ({
                path,
                encrypted: true,
                rule: true,
                inStep: true,
                keyDate,
                keyAgeDays,
                keySource,
                due,
                problems,
            })
            expect(JSON.parse(status.stdout)).toEqual({
                policy: { maxAge: "30d", maxAgeDays: 30 },
                now: "2030-03-10T00:00:00.000Z",
                files: [
                    ok("secrets/hosts/web1/tls.yaml", "2030-02-15T00:00:00.000Z", 23, "git", false),
                    ok("secrets/shared/db.yaml", "2030-01-05T00:00:00.000Z", 64, "git", true, ["data key is 64 days old, more than max_age 30d"]),
                    // Edited on 2030-03-01 (lastmodified), but the data key dates from the first commit.
                    ok("secrets/users/alice/new.yaml", "2030-02-20T00:00:00.000Z", 18, "lastmodified", false),
                    ok("secrets/users/alice/token.yaml", "2030-01-05T00:00:00.000Z", 64, "git", true, ["data key is 64 days old, more than max_age 30d"]),
                ],
                interruptedRotations: [],
                ok: false,
            })
            expect(sopsOf(repo, "secrets/users/alice/token.yaml").lastmodified).toBe("2030-03-01T00:00:00Z")

            const table = await cli(repo, ["status"])
            expect(table.code).toBe(0)
            expect(table.stdout).toBe(
                [
                    "FILE                            ENCRYPTED  RECIPIENTS  KEY AGE  SOURCE        DUE",
                    "secrets/hosts/web1/tls.yaml     yes        in step     23d      git           no",
                    "secrets/shared/db.yaml          yes        in step     64d      git           DUE",
                    "secrets/users/alice/new.yaml    yes        in step     18d      lastmodified  no",
                    "secrets/users/alice/token.yaml  yes        in step     64d      git           DUE",
                    "",
                ].join("\n"),
            )
            expect(table.stderr).toBe("secrets: rotation policy: max_age 30d\n")

            const check = await cli(repo, ["status", "--check"])
            expect(check.code).toBe(1)
            expect(check.stdout).toBe(table.stdout)
            expect(check.stderr).toBe(
                [
                    "secrets: rotation policy: max_age 30d",
                    "secrets: warning: secrets/shared/db.yaml: data key is 64 days old, more than max_age 30d",
                    "secrets: warning: secrets/users/alice/token.yaml: data key is 64 days old, more than max_age 30d",
                    "secrets: error: status check failed: 2 problems in 2 files",
                    "secrets: hint: rotate the due data keys with `secrets rotate --due`",
                    "",
                ].join("\n"),
            )

            // A day earlier than 30 days after the first commit nothing is due yet.
            expect((await cli(repo, ["status", "--check"], { SECRETS_NOW: "2030-02-04T00:00:00Z" })).code).toBe(0)

            const before = new Map(ALL.map((f) => [f, { key: dataKey(repo, f), text: readFileSync(join(repo.dir, f), "utf8") }]))
            const dry = await cli(repo, ["rotate", "--due", "--dry-run"])
            expect(dry.code).toBe(0)
            expect(dry.stdout).toBe(
                [
                    "would rotate secrets/shared/db.yaml: data key 64d old (git), max_age 30d",
                    "would rotate secrets/users/alice/token.yaml: data key 64d old (git), max_age 30d",
                    "",
                ].join("\n"),
            )
            for (const f of ALL) expect(readFileSync(join(repo.dir, f), "utf8"), f).toBe(before.get(f)?.text)

            const rot = await cli(repo, ["rotate", "--due"])
            expect(rot.code).toBe(0)
            expect(rot.stdout).toBe(dry.stdout.replaceAll("would rotate", "rotated"))
            expect(rot.stderr).toBe("secrets: rotated 2 files of 2 files due\n")
            for (const f of ["secrets/shared/db.yaml", "secrets/users/alice/token.yaml"]) {
                expect(dataKey(repo, f), f).not.toBe(before.get(f)?.key)
                expect(sopsOf(repo, f).lastmodified).toBe("2030-03-10T00:00:00Z")
            }
            for (const f of ["secrets/hosts/web1/tls.yaml", "secrets/users/alice/new.yaml"]) {
                expect(readFileSync(join(repo.dir, f), "utf8"), f).toBe(before.get(f)?.text)
            }
            // Values survive the rotation.
            const dec = await cli(repo, ["decrypt", "secrets/users/alice/token.yaml"])
            expect(dec.stdout).toBe("token: alice-VALUE-4\n")

            // Not yet committed: the new keys are as old as lastmodified; committed: as old as the commit.
            const after = await cli(repo, ["status", "--check", "--json"])
            expect(after.code).toBe(0)
            const rows = (JSON.parse(after.stdout) as { files: { path: string; keyAgeDays: number; keySource: string }[] }).files
            expect(rows.map((r) => [r.path, r.keyAgeDays, r.keySource])).toEqual([
                ["secrets/hosts/web1/tls.yaml", 23, "git"],
                ["secrets/shared/db.yaml", 0, "lastmodified"],
                ["secrets/users/alice/new.yaml", 18, "lastmodified"],
                ["secrets/users/alice/token.yaml", 0, "lastmodified"],
            ])
            commitAll(repo, "2030-03-09T00:00:00Z", "rotate due keys")
            const committed = await cli(repo, ["status", "--json"])
            const rows2 = (JSON.parse(committed.stdout) as { files: { path: string; keyAgeDays: number; keySource: string }[] }).files
            expect(rows2.map((r) => [r.path, r.keyAgeDays, r.keySource])).toEqual([
                ["secrets/hosts/web1/tls.yaml", 23, "git"],
                ["secrets/shared/db.yaml", 1, "git"],
                // Committed for the first time with the rotation: its key dates from that commit.
                ["secrets/users/alice/new.yaml", 1, "git"],
                ["secrets/users/alice/token.yaml", 1, "git"],
            ])
            const nothing = await cli(repo, ["rotate", "--due"])
            expect(nothing.code).toBe(0)
            expect(nothing.stdout).toBe("")
            expect(nothing.stderr).toBe("secrets: no data key is older than max_age 30d\n")
        },
        SLOW,
    )

    it(
        "flags a plaintext file under secrets/ and an out-of-step file; --check exits 1 naming each problem",
        async () => {
            const repo = await makeRepo()
            await encryptNew(repo, "secrets/shared/db.yaml", "password: db-VALUE-1\n", "2030-03-01T00:00:00Z")
            // Encrypted to bob only: --age overrides the rule, so the file is out of step.
            await encryptNew(repo, "secrets/shared/bob.yaml", "x: bob-VALUE-2\n", "2030-03-01T00:00:00Z", ["--age", repo.keys.bob.recipient])
            mkdirSync(join(repo.dir, "secrets/hosts/web1"), { recursive: true })
            writeFileSync(join(repo.dir, "secrets/hosts/web1/plain.env"), "TOKEN=plain-VALUE-3\n")
            writeFileSync(join(repo.dir, "secrets/hosts/web1/.gitkeep"), "")
            writeFileSync(join(repo.dir, "README.md"), "not a secret\n")
            const table = await cli(repo, ["status"])
            expect(table.code).toBe(0)
            expect(table.stdout).toBe(
                [
                    "FILE                          ENCRYPTED  RECIPIENTS   KEY AGE  SOURCE        DUE",
                    "secrets/hosts/web1/plain.env  NO         -            -        -             -",
                    "secrets/shared/bob.yaml       yes        OUT OF STEP  9d       lastmodified  no",
                    "secrets/shared/db.yaml        yes        in step      9d       lastmodified  no",
                    "",
                ].join("\n"),
            )
            const check = await cli(repo, ["status", "--check"])
            expect(check.code).toBe(1)
            expect(check.stderr).toBe(
                [
                    "secrets: rotation policy: max_age 30d",
                    "secrets: warning: secrets/hosts/web1/plain.env: not encrypted",
                    "secrets: warning: secrets/shared/bob.yaml: recipients differ from its creation rule",
                    "secrets: error: status check failed: 2 problems in 2 files",
                    "secrets: hint: encrypt plaintext files with `secrets encrypt -i FILE`, or move them out of secrets/",
                    "secrets: hint: bring recipients in step with `secrets updatekeys -y FILE...`",
                    "",
                ].join("\n"),
            )
            expect(check.stdout + check.stderr).not.toMatch(/VALUE/)

            const json = JSON.parse((await cli(repo, ["status", "--json", "--check"])).stdout) as { ok: boolean; files: unknown[] }
            expect(json.ok).toBe(false)
            expect(json.files[0]).toEqual({
                path: "secrets/hosts/web1/plain.env",
                encrypted: false,
                rule: false,
                inStep: false,
                keyDate: null,
                keyAgeDays: null,
                keySource: null,
                due: false,
                problems: ["not encrypted"],
            })

            // Fixed: encrypt the plaintext, bring bob.yaml in step; then the check passes.
            expect((await cli(repo, ["encrypt", "-i", "secrets/hosts/web1/plain.env"])).code).toBe(0)
            const up = await runCli(["updatekeys", "-y", "secrets/shared/bob.yaml"], {
                cwd: repo.dir,
                home: repo.home,
                env: { SOPS_AGE_KEY_FILE: repo.keys.bob.file },
            })
            expect(up.code).toBe(0)
            const fixed = await cli(repo, ["status", "--check"])
            expect(fixed.stderr).toBe("secrets: rotation policy: max_age 30d\n")
            expect(fixed.code).toBe(0)
        },
        SLOW,
    )

    it("a malformed max_age is a clear config error, and nothing is rotated", async () => {
        const repo = await makeRepo("3m")
        await encryptNew(repo, "secrets/shared/db.yaml", "password: db-VALUE-1\n", "2020-01-01T00:00:00Z")
        const text = readFileSync(join(repo.dir, "secrets/shared/db.yaml"), "utf8")
        for (const args of [["status"], ["status", "--check"], ["rotate", "--due"]]) {
            const r = await cli(repo, args)
            expect(r.code, args.join(" ")).toBe(1)
            expect(r.stdout).toBe("")
            expect(r.stderr).toBe(
                [
                    "secrets: error: .sops.yaml: secrets.rotation.max_age is not a number of days (d) or weeks (w)",
                    "secrets: hint: write the age as a whole number of days or weeks, e.g. 90d or 12w",
                    "",
                ].join("\n"),
            )
        }
        expect(readFileSync(join(repo.dir, "secrets/shared/db.yaml"), "utf8")).toBe(text)
    }, SLOW)

    it("rotate --due without a policy, and rotate with neither a file nor --due, are refused", async () => {
        const repo = await makeRepo()
        writeFileSync(join(repo.dir, ".sops.yaml"), configText(repo.keys).replace(/secrets:\n[\s\S]*$/, ""))
        const r = await cli(repo, ["rotate", "--due"])
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            "secrets: error: no rotation policy: nothing can be due\nsecrets: hint: set secrets.rotation.max_age (e.g. 90d) in .sops.yaml\n",
        )
        const none = await cli(repo, ["rotate"])
        expect(none.code).toBe(1)
        expect(none.stderr).toMatch(/^secrets: error: missing required argument 'file'/)
        const both = await cli(repo, ["rotate", "--due", "x.yaml"])
        expect(both.code).toBe(1)
        expect(both.stderr).toMatch(/--due rotates the files the policy says are due: give no file with it/)
    })
})

describe("secrets access", () => {
    it(
        "a table of files × named keys from the recipients stored in each file; unnamed recipients by their first 12 characters; out of step flagged; --json exact",
        async () => {
            const repo = await makeRepo()
            await encryptNew(repo, "secrets/hosts/web1/tls.yaml", "key: tls-VALUE-1\n", NOW)
            await encryptNew(repo, "secrets/shared/bob.yaml", "x: bob-VALUE-2\n", NOW, ["--age", repo.keys.bob.recipient])
            await encryptNew(repo, "secrets/shared/db.yaml", "password: db-VALUE-3\n", NOW)
            await encryptNew(repo, "secrets/users/alice/token.yaml", "token: alice-VALUE-4\n", NOW)
            writeFileSync(join(repo.dir, "secrets/hosts/web1/plain.env"), "TOKEN=plain-VALUE-5\n")
            const bob = repo.keys.bob.recipient.slice(0, 12)
            expect(bob).toMatch(/^age1[a-z0-9]{8}$/)

            const r = await cli(repo, ["access"])
            expect(r.code).toBe(0)
            expect(r.stderr).toBe("secrets: warning: secrets/hosts/web1/plain.env is not encrypted: anyone with the repository can read it\n")
            // Column widths: FILE 30, web1 4, alice 5, recovery 8, bob 12.
            const row = (file: string, cells: string[], mark = "") =>
                [file.padEnd(30), ...cells.map((c, i) => c.padEnd([4, 5, 8, 12][i] ?? 0)), mark].join("  ").trimEnd()
            expect(r.stdout).toBe(
                [
                    row("FILE", ["web1", "alice", "recovery", bob]),
                    row("secrets/hosts/web1/tls.yaml", ["x", "x", "x", "."]),
                    row("secrets/shared/bob.yaml", ["-", "-", "-", "+"], "! out of step"),
                    row("secrets/shared/db.yaml", ["x", "x", "x", "."]),
                    row("secrets/users/alice/token.yaml", [".", "x", "x", "."]),
                    "",
                    "x can read   . cannot read   + can read, not in its rule   - in its rule, cannot read",
                    "",
                ].join("\n"),
            )
            expect(r.stdout).toContain("secrets/users/alice/token.yaml  .     x      x         .")

            const j = await cli(repo, ["access", "--json"])
            expect(j.code).toBe(0)
            expect(JSON.parse(j.stdout)).toEqual({
                files: [
                    { path: "secrets/hosts/web1/tls.yaml", recipients: ["alice", "web1", "recovery"], expected: ["alice", "web1", "recovery"], inStep: true },
                    { path: "secrets/shared/bob.yaml", recipients: [bob], expected: ["alice", "web1", "recovery"], inStep: false },
                    { path: "secrets/shared/db.yaml", recipients: ["alice", "web1", "recovery"], expected: ["alice", "web1", "recovery"], inStep: true },
                    { path: "secrets/users/alice/token.yaml", recipients: ["alice", "recovery"], expected: ["alice", "recovery"], inStep: true },
                ],
                keys: [
                    { name: "web1", kind: "host", recipient: repo.keys.web1.recipient },
                    { name: "alice", kind: "user", recipient: repo.keys.alice.recipient },
                    { name: "recovery", kind: "recovery", recipient: repo.keys.recovery.recipient },
                    { name: bob, kind: "unnamed", recipient: repo.keys.bob.recipient },
                ],
            })
            expect(j.stdout + j.stderr + r.stdout).not.toMatch(/VALUE/)

            // From a subdirectory the config is found above and paths stay relative to it.
            const sub = await runCli(["access", "--json"], { cwd: join(repo.dir, "secrets/shared"), home: repo.home })
            expect(sub.code).toBe(0)
            expect(sub.stdout).toBe(j.stdout)
        },
        SLOW,
    )

    it("without a .sops.yaml: a clear error", async () => {
        const dir = tempDir()
        const r = await runCli(["access"], { cwd: dir })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe("secrets: error: no .sops.yaml found in this directory or above\nsecrets: hint: run `secrets init` first, or pass --config\n")
    })
})
