/**
 * Issue 15 §4 end to end with real git and the built binary: a repository of 20
 * commits made with `secrets encrypt/set/unset`, a data-key rotation (`rotate -i`)
 * and an identity rotation (`keys rotate`, which retires alice's old identity).
 * `secrets log` lists exactly the commits that changed values (also for one key
 * path, and as JSON); `secrets show --rev` opens a revision from before the
 * identity rotation with the retired identity; `secrets restore` brings an old
 * value back as a normal change, every other ciphertext byte-equal and the MAC
 * valid. Errors: an unknown revision, a path absent at the revision, a file outside
 * any repository, a file never committed.
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen } from "../helpers/tmp.js"

const FILE = "app.yaml"
const SLOW = { timeout: 300_000 }

interface Change {
    added?: string[]
    changed?: string[]
    removed?: string[]
}

/** One commit of the built history: its id, author date, author, and what `log` must say (undefined: not listed). */
interface Made {
    commit: string
    date: string
    author: string
    change: Change | undefined
    /** The plaintext of app.yaml after this commit, as `decrypt` prints it. */
    plain: string
}

interface Repo {
    root: string
    dir: string
    home: string
    keyFile: string
    made: Made[]
    git: (args: string[]) => string
    cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>
}

const P = (...steps: (string | number)[]) => steps.map((s) => (typeof s === "number" ? `[${s}]` : `["${s}"]`)).join("")

async function build(): Promise<Repo> {
    const root = mkdtempSync(join(tmpdir(), "secrets-history-"))
    const dir = join(root, "repo")
    const home = join(root, "home")
    mkdirSync(dir)
    // alice works from her default key file: `keys rotate` adds the new identity there and retires the old one.
    const keyFile = join(home, ".config", "sops", "age", "keys.txt")
    mkdirSync(join(keyFile, ".."), { recursive: true })
    const alice = ageKeygen(root, "alice")
    copyFileSync(alice.file, keyFile)
    const gitEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1" }
    const git = (args: string[], extra: Record<string, string> = {}) =>
        execFileSync("git", args, { cwd: dir, env: { ...gitEnv, ...extra }, stdio: ["ignore", "pipe", "pipe"] }).toString()
    const cli = async (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, home, env })
    const ok = async (args: string[]) => {
        const r = await cli(args, { SECRETS_NOW: "2031-06-01T00:00:00Z" })
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
        return r
    }
    git(["-c", "init.defaultBranch=main", "init", "-q"])
    git(["config", "user.name", "Committer"])
    git(["config", "user.email", "ci@example.org"])
    writeFileSync(join(dir, ".sops.yaml"), `keys:\n  - &user_alice ${alice.recipient}\ncreation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [*user_alice]\n`)
    const made: Made[] = []
    const commit = async (author: string, change: Change | undefined) => {
        const n = made.length
        const date = `2031-01-${String(n + 1).padStart(2, "0")}T10:00:00Z`
        git(["add", "-A"])
        git(["commit", "-q", "-m", `commit ${n}`], {
            GIT_AUTHOR_NAME: author,
            GIT_AUTHOR_EMAIL: `${author.toLowerCase()}@example.org`,
            GIT_AUTHOR_DATE: date,
            GIT_COMMITTER_DATE: date,
        })
        const plain = (await ok(["decrypt", FILE])).stdout
        made.push({ commit: git(["rev-parse", "HEAD"]).trim(), date, author, change, plain })
    }
    const set = (path: string, value: unknown) => ok(["set", FILE, path, JSON.stringify(value)])
    const unset = (path: string) => ok(["unset", FILE, path])

    // 0: created
    writeFileSync(join(dir, FILE), "db:\n  user: admin\n  password: pw-0\napi:\n  token: t-0\n")
    await ok(["encrypt", "-i", FILE])
    await commit("Alice", { added: [P("db", "user"), P("db", "password"), P("api", "token")] })
    await set(P("db", "password"), "pw-1") // 1
    await commit("Alice", { changed: [P("db", "password")] })
    await set(P("api", "token"), "t-1") // 2
    await commit("Bob", { changed: [P("api", "token")] })
    await set(P("hosts"), { web: "10.0.0.1", db: "10.0.0.2" }) // 3
    await commit("Carol", { added: [P("hosts", "web"), P("hosts", "db")] })
    writeFileSync(join(dir, "other.yaml"), "x: 1\n") // 4: another file only
    await ok(["encrypt", "-i", "other.yaml"])
    await commit("Alice", undefined)
    await set(P("db", "password"), "pw-2") // 5
    await commit("Bob", { changed: [P("db", "password")] })
    await unset(P("api", "token")) // 6
    await commit("Alice", { removed: [P("api", "token")] })
    await ok(["rotate", "-i", FILE]) // 7: a new data key, no value changed
    await commit("Alice", undefined)
    await set(P("db", "port"), 5432) // 8
    await commit("Carol", { added: [P("db", "port")] })
    await set(P("db", "password"), "pw-3") // 9
    await commit("Alice", { changed: [P("db", "password")] })
    await ok(["set", "other.yaml", P("x"), "2"]) // 10: another file only
    await commit("Bob", undefined)
    await set(P("api", "token"), "t-2") // 11
    await commit("Alice", { added: [P("api", "token")] })
    await ok(["keys", "rotate", "alice", "--yes"]) // 12: a new identity for alice, files re-wrapped, no value changed
    await commit("Alice", undefined)
    await set(P("db", "password"), "pw-4") // 13
    await commit("Alice", { changed: [P("db", "password")] })
    await unset(P("hosts")) // 14
    await commit("Carol", { removed: [P("hosts", "web"), P("hosts", "db")] })
    await set(P("db", "user"), "root") // 15
    await commit("Bob", { changed: [P("db", "user")] })
    await set(P("feature"), true) // 16
    await commit("Alice", { added: [P("feature")] })
    await set(P("db", "password"), "pw-5") // 17
    await commit("Alice", { changed: [P("db", "password")] })
    await set(P("api", "token"), "t-3") // 18
    await commit("Bob", { changed: [P("api", "token")] })
    await set(P("db", "password"), "pw-6") // 19
    await commit("Alice", { changed: [P("db", "password")] })
    return { root, dir, home, keyFile, made, git, cli }
}

/** What `log --json` must print for `made`, newest first, narrowed to `under` when given. */
function expectedLog(made: readonly Made[], under?: string) {
    const keep = (paths: string[] | undefined) => (paths ?? []).filter((p) => under === undefined || p === under || p.startsWith(under))
    return made
        .filter((m) => m.change !== undefined)
        .map((m) => ({
            commit: m.commit,
            date: m.date,
            author: `${m.author} <${m.author.toLowerCase()}@example.org>`,
            added: keep(m.change?.added),
            changed: keep(m.change?.changed),
            removed: keep(m.change?.removed),
            undecided: [],
        }))
        .filter((e) => e.added.length + e.changed.length + e.removed.length > 0)
        .reverse()
}

/** The file's lines that hold a value's ciphertext, by key path text (`db.user: ENC[…]`). */
function encLines(text: string): Map<string, string> {
    const out = new Map<string, string>()
    const stack: { indent: number; key: string }[] = []
    for (const line of text.split("\n")) {
        const m = /^( *)([^:\s][^:]*):(.*)$/.exec(line)
        if (m === null) continue
        const indent = (m[1] ?? "").length
        while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop()
        stack.push({ indent, key: m[2] ?? "" })
        // The values' ciphertexts; the MAC is ENC too, and changes with any value.
        if ((m[3] ?? "").includes("ENC[") && stack[0]?.key !== "sops") out.set(stack.map((s) => s.key).join("."), m[3] ?? "")
    }
    return out
}

describe("secrets log / show / restore over 20 commits", () => {
    let repo: Repo
    beforeAll(async () => {
        repo = await build()
    }, 600_000)
    afterAll(() => {
        if (repo !== undefined) rmSync(repo.root, { recursive: true, force: true })
    })

    it("the history was built: 20 commits, and keys rotate retired alice's old identity", () => {
        const keys = readFileSync(repo.keyFile, "utf8")
        expect(keys).toContain("# retired: user_alice")
        expect(repo.made).toHaveLength(20)
    })

    it("log lists exactly the commits that changed values, newest first; --json, a key path filter and -n", SLOW, async () => {
        const all = await repo.cli(["log", "--json", FILE])
        expect(all.code, all.stderr).toBe(0)
        expect(JSON.parse(all.stdout)).toEqual(expectedLog(repo.made))

        const pw = await repo.cli(["log", "--json", FILE, P("db", "password")])
        expect(JSON.parse(pw.stdout)).toEqual(expectedLog(repo.made, P("db", "password")))
        expect((JSON.parse(pw.stdout) as unknown[]).length).toBe(7)
        // The filter accepts what set and unset accept: single quotes too, and a subtree.
        const quoted = await repo.cli(["log", "--json", FILE, `['db']['password']`])
        expect(quoted.stdout).toBe(pw.stdout)
        const hosts = await repo.cli(["log", "--json", FILE, P("hosts")])
        expect(JSON.parse(hosts.stdout)).toEqual(expectedLog(repo.made, P("hosts")))
        expect((JSON.parse(hosts.stdout) as unknown[]).length).toBe(2)

        const two = await repo.cli(["log", "--json", "-n", "2", FILE])
        expect(JSON.parse(two.stdout)).toEqual(expectedLog(repo.made).slice(0, 2))

        // The text form: one header per commit, then + ~ - lines; never a value.
        const text = await repo.cli(["log", FILE, P("db", "password"), "-n", "2"])
        expect(text.code, text.stderr).toBe(0)
        const [m19, m17] = [repo.made[19]!, repo.made[17]!]
        expect(text.stdout).toBe(
            `${m19.commit.slice(0, 7)} ${m19.date} Alice <alice@example.org>\n    ~ ["db"]["password"]\n` +
                `${m17.commit.slice(0, 7)} ${m17.date} Alice <alice@example.org>\n    ~ ["db"]["password"]\n`,
        )
        const full = await repo.cli(["log", FILE])
        for (const v of ["pw-0", "pw-6", "t-0", "admin", "5432"]) expect(full.stdout).not.toContain(v)
        expect(full.stdout).toContain(`    - ["api"]["token"]\n`)
    })

    it("show --rev prints an old revision; one from before keys rotate opens only with the retired identity", SLOW, async () => {
        const m1 = repo.made[1]!
        const show = await repo.cli(["show", FILE, "--rev", m1.commit])
        expect(show.code, show.stderr).toBe(0)
        expect(show.stdout).toBe(m1.plain)
        expect(show.stdout).toContain("password: pw-1")
        // git's revision syntax: HEAD~18 is commit 1.
        expect((await repo.cli(["show", FILE, "--rev", "HEAD~18"])).stdout).toBe(m1.plain)
        const one = await repo.cli(["show", FILE, "--rev", m1.commit.slice(0, 10), "--extract", P("db", "password")])
        expect(one.stdout).toBe("pw-1")
        const json = await repo.cli(["show", FILE, "--rev", m1.commit, "--extract", `['db']`, "--json"])
        expect(JSON.parse(json.stdout)).toEqual({ commit: m1.commit, date: m1.date, file: FILE, keyPath: `['db']`, value: { user: "admin", password: "pw-1" } })
        const asJson = await repo.cli(["show", FILE, "--rev", m1.commit, "--output-type", "json"])
        expect(JSON.parse(asJson.stdout)).toEqual({ db: { user: "admin", password: "pw-1" }, api: { token: "t-0" } })

        // Without the retired identity (the new one only), the old revision does not open: exit 128.
        const keys = readFileSync(repo.keyFile, "utf8")
        const active = keys.split("\n# retired: ")[0] ?? ""
        const newOnly = join(repo.root, "new-only.txt")
        writeFileSync(newOnly, active, { mode: 0o600 })
        // A home without the default key file, so that only newOnly is read.
        const bare = join(repo.root, "bare-home")
        mkdirSync(bare, { recursive: true })
        const withNew = (args: string[]) => runCli(args, { cwd: repo.dir, home: bare, env: { SOPS_AGE_KEY_FILE: newOnly } })
        const denied = await withNew(["show", FILE, "--rev", m1.commit])
        expect(denied.code).toBe(128)
        expect(denied.stdout).toBe("")
        // ...while the current file opens with it: the rotation did happen.
        expect((await withNew(["decrypt", FILE])).code).toBe(0)
        // log with the new identity only: the commits since the identity rotation as with both keys; the older
        // ones it cannot decide are reported (exit 0, no crash), never guessed.
        const partial = await withNew(["log", "--json", FILE])
        expect(partial.code, partial.stderr).toBe(0)
        const got = JSON.parse(partial.stdout) as { commit: string; undecided: string[]; unreadable?: string }[]
        const since = expectedLog(repo.made.slice(13))
        expect(got.slice(0, since.length)).toEqual(since)
        const unknown = got.filter((e) => e.unreadable !== undefined)
        expect(unknown.map((e) => e.unreadable)).toContain("no identity opens this revision or the one before")
        expect(unknown.flatMap((e) => e.undecided)).toContain(P("db", "password"))
        const text = await withNew(["log", FILE])
        expect(text.stdout).toContain("    (no identity opens this revision or the one before)\n")
        expect(text.stdout).toMatch(/^ {4}\? \["db"\]\["password"\]$/m)
    })

    it("restore puts an old value back as a normal change: other ciphertexts byte-equal, MAC valid", SLOW, async () => {
        const before = readFileSync(join(repo.dir, FILE), "utf8")
        const m1 = repo.made[1]!
        const r = await repo.cli(["restore", FILE, P("db", "password"), "--rev", m1.commit])
        expect(r.code, r.stderr).toBe(0)
        const short = repo.git(["rev-parse", "--short", m1.commit]).trim()
        expect(r.stdout).toBe(`restored ["db"]["password"] from ${short} (${m1.date})\n`)
        const after = readFileSync(join(repo.dir, FILE), "utf8")
        const b = encLines(before)
        const a = encLines(after)
        expect([...a.keys()]).toEqual([...b.keys()])
        for (const [k, v] of b) {
            if (k === "db.password") expect(a.get(k)).not.toBe(v)
            else expect(a.get(k), k).toBe(v)
        }
        // Only the value, mac and lastmodified lines differ.
        const changed = after.split("\n").filter((l, i) => l !== before.split("\n")[i])
        expect(changed.map((l) => l.trim().split(":")[0])).toEqual(["password", "lastmodified", "mac"])
        const plain = await repo.cli(["decrypt", FILE])
        expect(plain.code, plain.stderr).toBe(0)
        expect(plain.stdout).toBe(repo.made[19]!.plain.replace("password: pw-6", "password: pw-1"))

        // A path absent now is added; from before the identity rotation, with the retired key.
        const m3 = repo.made[3]!
        const hosts = await repo.cli(["restore", "--json", FILE, P("hosts"), "--rev", m3.commit])
        expect(hosts.code, hosts.stderr).toBe(0)
        expect(JSON.parse(hosts.stdout)).toEqual({ file: FILE, keyPath: P("hosts"), commit: m3.commit, date: m3.date, written: true })
        expect((await repo.cli(["decrypt", "--extract", P("hosts"), "--output-type", "json", FILE])).stdout.replace(/\s/g, "")).toBe('{"web":"10.0.0.1","db":"10.0.0.2"}')
        // The value already there: nothing written.
        const again = await repo.cli(["restore", FILE, P("hosts"), "--rev", m3.commit])
        expect(again.code).toBe(0)
        expect(again.stderr).toContain("not written")
    })

    it("errors: unknown revision, a path absent at the revision, outside a repository, never committed", SLOW, async () => {
        const file = join(repo.dir, FILE)
        const before = readFileSync(file, "utf8")
        const bad = await repo.cli(["show", FILE, "--rev", "no-such-branch"])
        expect(bad.code).toBe(1)
        expect(bad.stderr).toContain(`secrets: error: unknown revision "no-such-branch"`)
        const opt = await repo.cli(["restore", FILE, P("db", "password"), "--rev", "--output=x"])
        expect(opt.code).toBe(1)
        expect(opt.stderr).toContain(`unknown revision "--output=x"`)

        const absent = await repo.cli(["restore", FILE, P("feature"), "--rev", repo.made[0]!.commit])
        expect(absent.code).toBe(1)
        expect(absent.stderr).toContain(`has no value at ["feature"]: there is nothing to restore`)
        expect(absent.stderr).toContain(`secrets: hint: to remove it from the file now: secrets unset ${FILE} '["feature"]'`)
        const notYet = await repo.cli(["show", "other.yaml", "--rev", repo.made[0]!.commit])
        expect(notYet.code).toBe(1)
        expect(notYet.stderr).toContain(`"other.yaml" did not exist at ${repo.made[0]!.commit}`)
        expect(readFileSync(file, "utf8")).toBe(before)

        const outside = join(repo.root, "outside")
        mkdirSync(outside)
        copyFileSync(file, join(outside, FILE))
        for (const args of [["log", FILE], ["show", FILE, "--rev", "HEAD"], ["restore", FILE, P("db"), "--rev", "HEAD"]]) {
            const r = await runCli(args, { cwd: outside, home: repo.home, env: { GIT_CEILING_DIRECTORIES: repo.root } })
            expect(r.code, args.join(" ")).toBe(1)
            expect(r.stderr).toMatch(/^secrets: error: "app\.yaml" is not in a git work tree: it has no (history to list|revisions)\nsecrets: hint: run this inside the repository that holds the file\n$/)
        }

        writeFileSync(join(repo.dir, "new.yaml"), "k: v\n")
        const never = await repo.cli(["log", "new.yaml"])
        expect(never.code).toBe(1)
        expect(never.stderr).toBe(`secrets: error: "new.yaml" has never been committed: it has no history yet\nsecrets: hint: commit it first: git add new.yaml && git commit\n`)
        rmSync(join(repo.dir, "new.yaml"))
    })
})
