// Issue 14, target 7: repository-wide reads on 1,000 files. `status`, `status
// --check`, `access` and `rotate --due --dry-run` each under 3 s on a repository of
// 1,000 encrypted files whose git history has a few commits touching them (edits
// that keep the data key, rotations, a merged side branch, files never committed).
// The baseline column is that 3 s budget, so the ratio is the share of it used.
// Each row's note has the peak RSS (`/usr/bin/time -v`) and how many git processes
// the command started (a PATH wrapper that logs each one).
import { execFileSync, spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

const FILES = 1000
const BUDGET_MS = 3000

/**
 * A git repository under `dir` with `files` encrypted files under secrets/ and the
 * history status reads. Files are sealed in this process with the built engine
 * (dist/), so the fixture costs seconds, not a CLI start per file. Returns the
 * config's recipients' key file (the first recipient's identity) for commands that
 * need one.
 */
export async function makeReadsRepo({ root, dir, files = FILES }) {
    const dist = (p) => pathToFileURL(join(root, "dist", p)).href
    const { newDataKey, splitForGroups } = await import(dist("core/datakey.js"))
    const { wrapGroups, seal } = await import(dist("engine/seal.js"))
    const { ruleForNewFile } = await import(dist("engine/rules.js"))
    const { SOPS_VERSION } = await import(dist("core/metadata.js"))
    const { loadStore } = await import(dist("stores/index.js"))
    const store = await loadStore("yaml")

    const keysDir = join(dir, "keys")
    mkdirSync(keysDir, { recursive: true })
    const keys = ["alice", "web", "recovery"].map((name) => {
        const file = join(keysDir, `${name}.txt`)
        execFileSync("age-keygen", ["-o", file], { stdio: "ignore" })
        const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(file, "utf8"))?.[1]
        if (recipient === undefined) throw new Error("bench: age-keygen gave no key")
        return { name, file, recipient }
    })
    const repo = join(dir, "repo")
    mkdirSync(repo, { recursive: true })
    const recipients = keys.map((k) => k.recipient)
    writeFileSync(
        join(repo, ".sops.yaml"),
        [
            "keys:",
            ...keys.map((k) => `    - &${k.name === "web" ? "host_web" : k.name === "alice" ? "user_alice" : "recovery"} ${k.recipient}`),
            "creation_rules:",
            "    - path_regex: ^secrets/",
            "      key_groups:",
            "          - age: [*user_alice, *host_web, *recovery]",
            "secrets:",
            "    rotation:",
            "        max_age: 30d",
            "",
        ].join("\n"),
    )
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }
    const git = (args, date) =>
        execFileSync("git", args, {
            cwd: repo,
            env: { ...env, ...(date !== undefined ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) },
            stdio: ["ignore", "pipe", "pipe"],
            maxBuffer: 1 << 28,
        })
    git(["init", "-q", "-b", "main"])
    git(["config", "user.name", "Bench"])
    git(["config", "user.email", "bench@example.org"])
    const commit = (date, message) => {
        git(["add", "-A"])
        git(["commit", "-q", "-m", message], date)
    }

    // One data key per file; an edit re-seals under the same key and blocks, a
    // rotation draws a new key (what key-age.ts tells apart).
    const state = new Map()
    const pathOf = (i) => `secrets/svc${String(i % 50).padStart(2, "0")}/s${String(i).padStart(4, "0")}.yaml`
    const write = async (i, now, rotate) => {
        const path = pathOf(i)
        let s = state.get(path)
        if (s === undefined || rotate) {
            const key = newDataKey()
            const keyGroups = await wrapGroups([recipients], await splitForGroups(key, 1, 0))
            s = { key, keyGroups, edits: 0 }
            state.set(path, s)
        } else {
            s.edits++
        }
        const metadata = {
            keyGroups: s.keyGroups,
            shamirThreshold: 0,
            lastModified: "",
            mac: "",
            rule: ruleForNewFile(undefined, false),
            macOnlyEncrypted: false,
            version: SOPS_VERSION,
        }
        const plain = `db:\n    user: svc${i}\n    password: pw-${i}-${s.edits}\napi_key: key-${i}\n`
        mkdirSync(join(repo, path, ".."), { recursive: true })
        writeFileSync(join(repo, path), seal(store.parsePlain(Buffer.from(plain)), store, metadata, s.key, undefined, new Date(now)))
    }
    const committed = files - 20
    for (let i = 0; i < committed; i++) await write(i, "2030-01-01T00:00:00Z", false)
    commit("2030-01-05T00:00:00Z", "first secrets")
    for (let i = 0; i < committed; i += 3) await write(i, "2030-02-01T00:00:00Z", false)
    commit("2030-02-01T00:00:00Z", "edit a third")
    for (let i = 0; i < committed; i += 5) await write(i, "2030-02-10T00:00:00Z", true)
    commit("2030-02-10T00:00:00Z", "rotate a fifth")
    // A side branch edits and rotates some files and is merged back.
    git(["checkout", "-q", "-b", "side"])
    for (let i = 1; i < committed; i += 10) await write(i, "2030-02-20T00:00:00Z", i % 20 === 1)
    commit("2030-02-20T00:00:00Z", "side work")
    git(["checkout", "-q", "main"])
    // Not the side branch's files: the merge must not conflict.
    for (let i = 2; i < committed; i += 7) if (i % 10 !== 1) await write(i, "2030-02-25T00:00:00Z", false)
    commit("2030-02-25T00:00:00Z", "edit on main")
    git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], "2030-03-01T00:00:00Z")
    for (let i = 0; i < committed; i += 11) await write(i, "2030-03-05T00:00:00Z", false)
    commit("2030-03-05T00:00:00Z", "edit again")
    // Never committed.
    for (let i = committed; i < files; i++) await write(i, "2030-03-06T00:00:00Z", false)
    return { repo, keys, env: { ...env, SOPS_AGE_KEY_FILE: keys[2].file, SECRETS_NOW: "2030-03-10T00:00:00Z" } }
}

/** A directory holding a `git` that logs each start to `log` and runs the real one. */
export function countingGit(dir, log) {
    const real = execFileSync("sh", ["-c", "command -v git"]).toString().trim()
    const bin = join(dir, "counting-git")
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(real)} "$@"\n`)
    chmodSync(join(bin, "git"), 0o755)
    return bin
}

/** Wall time, CPU time (ms, ours and git's), peak RSS (KiB) and git starts of one run of `bin` with `args` in `repo`. */
export function measure({ node, bin, repo, env, args, gitDir, expectCode = 0 }) {
    const log = join(gitDir, "git.log")
    writeFileSync(log, "")
    const t = process.hrtime.bigint()
    const r = spawnSync("/usr/bin/time", ["-v", node, bin, ...args], {
        cwd: repo,
        env: { ...env, PATH: `${countingGit(gitDir, log)}:${env.PATH}` },
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 1 << 28,
    })
    const ms = Number(process.hrtime.bigint() - t) / 1e6
    const stderr = r.stderr.toString()
    if (r.status !== expectCode) throw new Error(`bench: secrets ${args.join(" ")} exited ${r.status}: ${stderr.slice(0, 2000)}`)
    const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN)
    // CPU seconds: on a machine others load, a steadier measure of our own work than wall time.
    const cpu = (Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN) + Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN)) * 1000
    const gits = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : NaN
    return { ms, cpu, rss, gits, stdout: r.stdout.toString() }
}

/** The four commands of target 7, with the exit code each gives on the fixture (some files are due). */
export const READ_COMMANDS = [
    { name: "status", args: ["status"], code: 0 },
    { name: "status --check", args: ["status", "--check"], code: 1 },
    { name: "access", args: ["access"], code: 0 },
    { name: "rotate --due --dry-run", args: ["rotate", "--due", "--dry-run"], code: 0 },
]

export default async function reads(ctx) {
    const { root, dir, node, BIN, stats, row } = ctx
    const runs = Math.max(3, Math.min(5, Math.floor(ctx.RUNS / 4)))
    const base = join(dir, "reads")
    mkdirSync(base, { recursive: true })
    const { repo, env } = await makeReadsRepo({ root, dir: base })
    for (const c of READ_COMMANDS) {
        const ms = []
        let last
        for (let i = 0; i < runs; i++) {
            last = measure({ node, bin: BIN, repo, env, args: c.args, gitDir: base, expectCode: c.code })
            ms.push(last.ms)
        }
        const budget = stats(ms.map(() => BUDGET_MS))
        row(`7. secrets ${c.name} (${FILES} files)  vs  3 s budget`, { ours: stats(ms), base: budget }, 1, `peak RSS ${Math.round(last.rss / 1024)} MiB, ${last.gits} git processes`)
    }
}
