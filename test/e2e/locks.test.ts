/**
 * File locks through the built binary (issue 10 §13, §14): a hundred concurrent
 * `set`s all land; a writer queues behind a live holder, says who holds the lock,
 * and gives up at SECRETS_LOCK_TIMEOUT naming it; signals leave no lock; a
 * SIGKILLed holder's lock is taken over at once; leftovers never show in `status`
 * or in `git status` after `secrets init`.
 *
 * A `set` is held inside its lock deterministically: its identity comes from a
 * key command (SOPS_AGE_KEY_CMD, run while the file is locked) that first reads a
 * FIFO. Opening the FIFO for writing returns exactly when the command has opened
 * it, so the test knows the lock is held; closing it lets the `set` go on.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { open, type FileHandle } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { parse } from "yaml"

import { BIN, runCli } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { waitingForLock } from "../helpers/lock-wait.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "lock-test-VALUE-never-printed"

interface Fixture {
    dir: string
    file: string
    lock: string
    env: Record<string, string>
    cli(args: string[], env?: Record<string, string>): ReturnType<typeof runCli>
}

async function fixture(): Promise<Fixture> {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "app.yaml"), `start: ${SECRET}\n`)
    const env = { SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: "2030-01-02T03:04:05Z" }
    // Setup, not the claim: encrypted in this process (the binary is what the tests run after).
    const enc = await runInProcess(["encrypt", "--age", key.recipient, "-i", "app.yaml"], { cwd: dir, env })
    expect(enc.code).toBe(0)
    const file = join(dir, "app.yaml")
    return { dir, file, lock: `${file}.lock`, env, cli: (args, extra = {}) => runCli(args, { cwd: dir, env: { ...env, ...extra } }) }
}

/** Files of ours in the directory: locks, break locks, temps. */
function debris(dir: string): string[] {
    return readdirSync(dir).filter((n) => n.includes(".lock") || n.endsWith(".tmp"))
}

async function keys(f: Fixture): Promise<string[]> {
    const r = await f.cli(["decrypt", "app.yaml"])
    expect(r.code).toBe(0)
    return Object.keys(parse(r.stdout) as Record<string, unknown>).sort()
}

interface Running {
    pid: number
    stderr(): string
    /** Resolves once stderr contains `text`. */
    saw(text: string): Promise<void>
    ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
    kill(signal: NodeJS.Signals): void
}

function startCli(f: Fixture, args: string[], env: Record<string, string>): Running {
    // ulimit -c 0: SIGQUIT's default action would otherwise leave a core file.
    const child = spawn("sh", ["-c", 'ulimit -c 0; exec "$0" "$@"', process.execPath, BIN, ...args], {
        cwd: f.dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: f.dir, XDG_CONFIG_HOME: join(f.dir, ".config"), ...env },
        stdio: ["ignore", "ignore", "pipe"],
    })
    onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
    let err = ""
    const waiters: { text: string; resolve: () => void }[] = []
    child.stderr.on("data", (d: Buffer) => {
        err += d.toString()
        for (const w of [...waiters]) if (err.includes(w.text)) (waiters.splice(waiters.indexOf(w), 1), w.resolve())
    })
    // 'exit', not 'close': a killed editor's child may hold our stderr open a while longer.
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
    if (child.pid === undefined) throw new Error("no pid")
    return {
        pid: child.pid,
        stderr: () => err,
        saw: (text) =>
            new Promise<void>((resolve, reject) => {
                if (err.includes(text)) return resolve()
                waiters.push({ text, resolve })
                void ended.then(() => reject(new Error(`ended without printing ${JSON.stringify(text)}: ${err}`)))
            }),
        ended,
        kill: (signal) => child.kill(signal),
    }
}

/** A `set` that holds the lock until {@link Held.release}. */
interface Held extends Running {
    release(): Promise<void>
}

async function holdLock(f: Fixture, key: string): Promise<Held> {
    const fifo = join(f.dir, `gate-${key}`)
    execFileSync("mkfifo", [fifo])
    const script = join(f.dir, `keycmd-${key}.sh`)
    writeFileSync(script, `cat ${JSON.stringify(fifo)} >/dev/null\ncat ${JSON.stringify(f.env.SOPS_AGE_KEY_FILE)}\n`)
    const run = startCli(f, ["set", "app.yaml", `["${key}"]`, JSON.stringify(`${SECRET}-${key}`)], { SOPS_AGE_KEY_CMD: `sh ${script}`, SECRETS_NOW: f.env.SECRETS_NOW ?? "" })
    // Returns when the key command has opened the FIFO: the set is inside its lock.
    const gate: FileHandle = await Promise.race([open(fifo, "w"), run.ended.then(() => Promise.reject(new Error(`set ended early: ${run.stderr()}`)))])
    onTestFinished(() => gate.close().catch(() => undefined))
    return { ...run, release: () => gate.close() }
}

const lockJson = (f: Fixture) => JSON.parse(readFileSync(f.lock, "utf8")) as { pid: number }

describe("writers queue instead of failing", () => {
    it("100 concurrent sets of distinct keys on one file all succeed, and all 100 keys are there", { timeout: 240_000 }, async () => {
        const f = await fixture()
        const running: ReturnType<typeof runCli>[] = []
        for (let i = 0; i < 100; i++) {
            running.push(f.cli(["set", "app.yaml", `["k${i}"]`, JSON.stringify(`${SECRET}-${i}`)]))
            // Each spawn blocks the worker a little: let its event loop turn in between.
            await new Promise((r) => setImmediate(r))
        }
        const results = await Promise.all(running)
        for (const r of results) {
            expect(r.code, r.stderr).toBe(0)
            expect(r.stderr).not.toContain(SECRET)
        }
        expect(await keys(f)).toEqual(["start", ...Array.from({ length: 100 }, (_, i) => `k${i}`)].sort())
        expect(debris(f.dir)).toEqual([])
    })

    it("a set waits for a live holder and goes on when it is released", { timeout: 120_000 }, async () => {
        const f = await fixture()
        const holder = await holdLock(f, "first")
        expect(lockJson(f).pid).toBe(holder.pid)
        const waiter = startCli(f, ["set", "app.yaml", '["second"]', '"two"'], f.env)
        await waitingForLock(f.dir, "app.yaml.lock", waiter)
        await holder.release()
        expect(await holder.ended).toEqual({ code: 0, signal: null })
        expect(await waiter.ended).toEqual({ code: 0, signal: null })
        expect(await keys(f)).toEqual(["first", "second", "start"])
        expect(debris(f.dir)).toEqual([])
    })

    it("SECRETS_LOCK_TIMEOUT gives up with an error naming the holder's pid; nothing written", { timeout: 120_000 }, async () => {
        const f = await fixture()
        const before = readFileSync(f.file)
        const holder = await holdLock(f, "first")
        const r = await f.cli(["set", "app.yaml", '["second"]', '"two"'], { SECRETS_LOCK_TIMEOUT: "0.5" })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`secrets: error: could not lock ${JSON.stringify(f.lock)} within 0.5 s: held by process ${holder.pid} on this host\n`)
        expect(r.stderr).toContain(`secrets: hint: wait for process ${holder.pid} to finish, or raise SECRETS_LOCK_TIMEOUT\n`)
        expect(readFileSync(f.file)).toEqual(before)
        expect(lockJson(f).pid).toBe(holder.pid)
        await holder.release()
        expect(await holder.ended).toEqual({ code: 0, signal: null })
    })

    it("a malformed SECRETS_LOCK_TIMEOUT is refused before anything is written", async () => {
        const f = await fixture()
        const before = readFileSync(f.file)
        const r = await f.cli(["set", "app.yaml", '["second"]', '"two"'], { SECRETS_LOCK_TIMEOUT: "ten" })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            'secrets: error: SECRETS_LOCK_TIMEOUT must be a number of seconds, not "ten"\n' +
                "secrets: hint: for example SECRETS_LOCK_TIMEOUT=30 to give up after half a minute; unset, a writer waits as long as the lock's holder runs\n",
        )
        expect(readFileSync(f.file)).toEqual(before)
        expect(debris(f.dir)).toEqual([])
    })
})

describe("no lock is left behind", () => {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
        it(`${signal} while set holds the lock: the lock goes, the file is intact, set ends as the signal would`, { timeout: 120_000 }, async () => {
            const f = await fixture()
            const before = readFileSync(f.file)
            const holder = await holdLock(f, "first")
            expect(lockJson(f).pid).toBe(holder.pid)
            holder.kill(signal)
            expect(await holder.ended).toEqual({ code: null, signal })
            expect(readFileSync(f.file)).toEqual(before)
            expect(debris(f.dir)).toEqual([])
        })
    }

    it("SIGKILL cannot be caught: the next writer takes the dead lock over at once", { timeout: 120_000 }, async () => {
        const f = await fixture()
        const holder = await holdLock(f, "first")
        holder.kill("SIGKILL")
        expect(await holder.ended).toEqual({ code: null, signal: "SIGKILL" })
        expect(lockJson(f).pid).toBe(holder.pid)
        // A zero timeout: any wait at all would fail.
        const r = await f.cli(["set", "app.yaml", '["second"]', '"two"'], { SECRETS_LOCK_TIMEOUT: "0" })
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(await keys(f)).toEqual(["second", "start"])
        expect(debris(f.dir)).toEqual([])
    })

    it("SIGTERM while edit has the file open: the lock and the plaintext temp dir go, the file is intact", { timeout: 120_000 }, async () => {
        const f = await fixture()
        const before = readFileSync(f.file)
        const fifo = join(f.dir, "gate-editor")
        execFileSync("mkfifo", [fifo])
        const seen = join(f.dir, "edited-path")
        const editor = join(f.dir, "editor.sh")
        writeFileSync(editor, `printf '%s' "$1" > ${JSON.stringify(seen)}\ncat ${JSON.stringify(fifo)} >/dev/null\n`)
        const run = startCli(f, ["edit", "app.yaml"], { ...f.env, EDITOR: `sh ${editor}` })
        const gate = await Promise.race([open(fifo, "w"), run.ended.then(() => Promise.reject(new Error(`edit ended early: ${run.stderr()}`)))])
        onTestFinished(() => gate.close().catch(() => undefined))
        expect(lockJson(f).pid).toBe(run.pid)
        const plaintext = readFileSync(seen, "utf8")
        expect(readFileSync(plaintext, "utf8")).toContain(SECRET)
        run.kill("SIGTERM")
        // Ended by the signal, or (edit ends its editor first) with the status a shell gives it.
        expect([{ code: null, signal: "SIGTERM" }, { code: 143, signal: null }]).toContainEqual(await run.ended)
        expect(existsSync(plaintext)).toBe(false)
        expect(existsSync(join(plaintext, ".."))).toBe(false)
        expect(readFileSync(f.file)).toEqual(before)
        expect(debris(f.dir)).toEqual([])
    })
})

describe("leftovers never show", () => {
    it("after secrets init, git status and secrets status do not show a lock or an unfinished write", { timeout: 120_000 }, async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        const home = join(root, "home")
        execFileSync("git", ["init", "-q", dir])
        const env = { SECRETS_NOW: "2030-01-02T03:04:05Z" }
        const init = await runCli(["init", "--yes", "--user", "alice"], { cwd: dir, home, env })
        expect(init.code, init.stderr).toBe(0)
        expect(init.stderr).toContain(`secrets: ".gitignore" ignores secrets' lock and temp files\n`)
        writeFileSync(join(dir, "secrets/shared/app.yaml"), `password: ${SECRET}\n`)
        const enc = await runCli(["encrypt", "-i", "secrets/shared/app.yaml"], { cwd: dir, home, env })
        expect(enc.code, enc.stderr).toBe(0)
        const git = (args: string[]) => execFileSync("git", args, { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: home } }).toString()
        const clean = git(["status", "--porcelain", "--untracked-files=all"])
        // Debris of a killed writer: its lock, its break lock, its temp files.
        const leftovers = [
            "secrets/shared/app.yaml.lock",
            "secrets/shared/app.yaml.lock.break",
            "secrets/shared/.app.yaml.0123456789ab.tmp",
            "secrets/shared/.app.yaml.lock.a1b2c3d4e5f6.tmp",
            ".sops.yaml.lock",
            ".sops.yaml.00ff00ff00ff.tmp",
        ]
        for (const l of leftovers) writeFileSync(join(dir, l), `{"pid":999999,"hostname":"gone","time":0,"token":"t"}\n`)
        expect(git(["status", "--porcelain", "--untracked-files=all"])).toBe(clean)
        const status = await runCli(["status"], { cwd: dir, home, env })
        expect(status.code, status.stderr).toBe(0)
        expect(status.stdout + status.stderr).not.toMatch(/\.lock|\.tmp/)
        expect(status.stdout).toContain("secrets/shared/app.yaml")
        // A second init adds nothing to .gitignore.
        const gitignore = readFileSync(join(dir, ".gitignore"), "utf8")
        const again = await runCli(["init", "--yes", "--user", "alice"], { cwd: dir, home, env })
        expect(again.code).toBe(0)
        expect(again.stderr).not.toContain(".gitignore")
        expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe(gitignore)
    })

    it("init keeps an existing .gitignore's lines and adds only what is missing", async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        execFileSync("git", ["init", "-q", dir])
        writeFileSync(join(dir, ".gitignore"), "node_modules/\n*.yaml.lock\n/result")
        const init = await runCli(["init", "--yes", "--user", "alice", "--recovery"], { cwd: dir, home: join(root, "home") })
        expect(init.code, init.stderr).toBe(0)
        const lines = readFileSync(join(dir, ".gitignore"), "utf8").split("\n")
        expect(lines.slice(0, 4)).toEqual(["node_modules/", "*.yaml.lock", "/result", "/recovery-key.txt"])
        expect(lines.filter((l) => l === "*.yaml.lock")).toHaveLength(1)
        expect(lines).toContain(".*.tmp")
        expect(lines).toContain("/secrets/**/*.lock")
        expect(lines).not.toContain("*.lock")
    })
})
