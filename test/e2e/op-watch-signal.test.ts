/**
 * `op sync --watch` stops cleanly on a signal at any moment of a round (issue 10
 * §15): exit 0, "stopped watching", the file either as it was or the complete new
 * version, no lock, no op left running. Each moment is reached by an event, never
 * by sleeping a guessed time:
 * - between rounds: the round's line is on stdout (the interval is an hour);
 * - during an op call: the stand-in op has logged the call and hangs (fault
 *   `timeout`), with the client's own timeout far away;
 * - inside the lock, before the write: the identity comes from a key command that
 *   waits on a FIFO, and the test holds the FIFO's other end;
 * - waiting for the lock that another `set` holds (the same FIFO trick there).
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { open, readFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"

import { BIN, runCli } from "../helpers/cli.js"
import { waitingForLock } from "../helpers/lock-wait.js"
import { loginItem, makeOpStandin, seedStore, vault, type OpStandin } from "../helpers/op-standin.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { watchProcess, type WatchedProcess } from "../helpers/watched-process.js"

const PW = "pw-Wq41-never-shown"
const NEWPW = "pw-Rt87-rotated"
const SLOW = { timeout: 120_000 }

interface Project {
    dir: string
    file: string
    standin: OpStandin
    keyFile: string
    env: Record<string, string>
}

/** A file pulled from the vault (db: username, password), then the vault's password changed. */
async function project(): Promise<Project> {
    const dir = tempDir()
    const key = ageKeygen(dir, "me")
    const standin = await makeOpStandin(dir, seedStore({ vaults: [vault("Dev", [loginItem("db", "admin", PW)])] }))
    const env = { ...standin.env, SECRETS_NOW: "2025-01-01T00:00:00Z", SECRETS_WATCH_MIN_MS: "100" }
    const pull = await runCli(["op", "pull", "app.yaml", "--vault", "Dev", "--age", key.recipient], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: key.file } })
    expect(pull.code, pull.stderr).toBe(0)
    const store = await standin.readStore()
    store.vaults[0]!.items[0]!.fields![1]!.value = NEWPW
    await standin.writeStore(store)
    return { dir, file: join(dir, "app.yaml"), standin, keyFile: key.file, env }
}

type Watch = WatchedProcess

function start(p: Project, args: string[], env: Record<string, string>): Watch {
    const child = spawn(process.execPath, [BIN, ...args], {
        cwd: p.dir,
        env: { HOME: p.dir, XDG_CONFIG_HOME: join(p.dir, ".config"), ...p.env, ...env },
        stdio: ["pipe", "pipe", "pipe"],
    })
    // Nothing on stdin, as with "ignore": the watch reads none.
    child.stdin.end()
    return watchProcess(child)
}

const watchArgs = ["op", "sync", "app.yaml", "--vault", "Dev", "--item", "db", "--watch", "1h"]

/** A key command that reads the FIFO `gate` before printing the key: whoever runs it waits inside the file's lock. */
function gatedKeyCommand(p: Project, name: string): { gate: string; env: Record<string, string> } {
    const gate = join(p.dir, `gate-${name}`)
    execFileSync("mkfifo", [gate])
    const script = join(p.dir, `keycmd-${name}.sh`)
    writeFileSync(script, `cat ${JSON.stringify(gate)} >/dev/null\ncat ${JSON.stringify(p.keyFile)}\n`)
    return { gate, env: { SOPS_AGE_KEY_CMD: `sh ${script}` } }
}

/** Open the gate for writing: returns once the key command is waiting on it. */
async function gateOpened(gate: string, run: Watch) {
    const fh = await Promise.race([open(gate, "w"), run.ended.then(() => Promise.reject(new Error(`ended early: ${run.out()} ${run.err()}`)))])
    onTestFinished(() => fh.close().catch(() => undefined))
    return fh
}

/** Resolves once the stand-in op has logged `n` calls. Polls a file; no timing is asserted. */
async function opCalls(p: Project, n: number, run: Watch): Promise<void> {
    let done = false
    void run.ended.then(() => (done = true))
    while (!done) {
        if ((await p.standin.readLog()).length >= n) return
        await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`ended before op was called: ${run.out()} ${run.err()}`)
}

/** Processes whose environment mentions `text` (the project's unique store path): a stand-in op left running. */
function processesWith(text: string): number[] {
    const pids: number[] = []
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
            if (readFileSync(`/proc/${pid}/environ`, "utf8").includes(text)) pids.push(Number(pid))
        } catch {
            // gone meanwhile, or not ours to read
        }
    }
    return pids
}

async function password(p: Project): Promise<string> {
    const r = await runCli(["decrypt", "--extract", '["db"]["password"]', "app.yaml"], { cwd: p.dir, env: { ...p.env, SOPS_AGE_KEY_FILE: p.keyFile } })
    expect(r.code, r.stderr).toBe(0)
    return r.stdout
}

function debris(dir: string): string[] {
    return readdirSync(dir).filter((n) => n.includes(".lock") || n.endsWith(".tmp"))
}

describe("op sync --watch stops cleanly on a signal", () => {
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
        it(`${signal} between rounds`, SLOW, async () => {
            const p = await project()
            const w = start(p, watchArgs, { SOPS_AGE_KEY_FILE: p.keyFile })
            await w.saw("round 1: 0 added, 1 changed, 0 removed, written\n")
            w.kill(signal)
            expect(await w.ended).toEqual({ code: 0, signal: null })
            expect(w.err()).toContain("secrets: stopped watching\n")
            expect(await password(p)).toBe(NEWPW)
            expect(debris(p.dir)).toEqual([])
        })
    }

    it("SIGTERM during an op call that hangs: op is killed, nothing is written, exit 0 at once", SLOW, async () => {
        const p = await project()
        const before = readFileSync(p.file)
        // The client's own timeout (10 min) is far beyond the test's: only the signal can end the call.
        const earlier = (await p.standin.readLog()).length
        const w = start(p, watchArgs, { SOPS_AGE_KEY_FILE: p.keyFile, OP_STANDIN_FAIL: "timeout", SECRETS_OP_TIMEOUT: "600000" })
        await opCalls(p, earlier + 1, w)
        w.kill("SIGTERM")
        expect(await w.ended).toEqual({ code: 0, signal: null })
        expect(w.out()).toMatch(/round 1: stopped before it finished\n$/)
        expect(w.err()).not.toContain("error")
        expect(w.err()).toContain("secrets: stopped watching\n")
        expect(readFileSync(p.file)).toEqual(before)
        expect(debris(p.dir)).toEqual([])
        expect(processesWith(p.standin.storePath)).toEqual([])
    })

    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
        it(`${signal} inside the lock, before the write: the round finishes its write, then exit 0`, SLOW, async () => {
            const p = await project()
            const key = gatedKeyCommand(p, "watch")
            const w = start(p, watchArgs, key.env)
            const gate = await gateOpened(key.gate, w)
            expect(JSON.parse(readFileSync(`${p.file}.lock`, "utf8")).pid).toBe(w.pid)
            w.kill(signal)
            // Let the key command go on: the round decrypts, writes and releases the lock.
            await gate.close()
            expect(await w.ended).toEqual({ code: 0, signal: null })
            expect(w.out()).toContain("round 1: 0 added, 1 changed, 0 removed, written\n")
            expect(w.err()).toContain("secrets: stopped watching\n")
            expect(await password(p)).toBe(NEWPW)
            expect(debris(p.dir)).toEqual([])
        })
    }

    it("SIGTERM while waiting for the lock another writer holds: stops at once, that writer goes on", SLOW, async () => {
        const p = await project()
        const before = readFileSync(p.file)
        const key = gatedKeyCommand(p, "set")
        const holder = start(p, ["set", "app.yaml", '["other"]', '"x"'], key.env)
        const gate = await gateOpened(key.gate, holder)
        const w = start(p, watchArgs, { SOPS_AGE_KEY_FILE: p.keyFile })
        await waitingForLock(p.dir, "app.yaml.lock", w)
        w.kill("SIGTERM")
        expect(await w.ended).toEqual({ code: 0, signal: null })
        expect(w.out()).toMatch(/round 1: stopped before it finished\n$/)
        expect(w.err()).toContain("secrets: stopped watching\n")
        expect(readFileSync(p.file)).toEqual(before)
        expect(JSON.parse(await readFile(`${p.file}.lock`, "utf8")).pid).toBe(holder.pid)
        await gate.close()
        expect(await holder.ended).toEqual({ code: 0, signal: null })
        expect(debris(p.dir)).toEqual([])
        expect(existsSync(`${p.file}.lock`)).toBe(false)
    })
})
