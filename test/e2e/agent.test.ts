/**
 * `secrets agent` through the built binary (issue 16 §3): real passphrase-protected
 * keys (Debian `age -p`, `ssh-keygen -N`) typed at a real terminal (tmux), a real
 * detached agent, real socket modes. Counts prompts on the screen; no clocks.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"

import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { item, makeOpStandin, seedStore } from "../helpers/op-standin.js"

const SECRET = "agent-guarded-value"
const PASS = "correct horse battery"

/** Agents started by a test, by the runtime dir they live in; stopped (and killed by pid if need be) after it. */
const started: { runtime: string; pid: number }[] = []

afterEach(async () => {
    for (const a of started.splice(0)) {
        await runCli(["agent", "stop"], { cwd: a.runtime, env: { XDG_RUNTIME_DIR: a.runtime } })
        try {
            process.kill(a.pid, "SIGKILL")
        } catch {
            // stopped already
        }
    }
})

async function startAgent(runtime: string, home: string): Promise<number> {
    const r = await runCli(["agent", "start"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const status = JSON.parse((await runCli(["agent", "status", "--json"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })).stdout) as { pid: number; identities: number }
    started.push({ runtime, pid: status.pid })
    return status.pid
}

async function agentStatus(runtime: string, home: string): Promise<{ running: boolean; identities?: number }> {
    return JSON.parse((await runCli(["agent", "status", "--json"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })).stdout) as { running: boolean; identities?: number }
}

/** A home with a key file made by Debian `age -p` (passphrase typed in tmux) and app.yaml encrypted to its key. */
async function ageHome(): Promise<{ home: string; runtime: string; keyFile: string }> {
    const home = tempDir()
    const runtime = join(home, "run")
    mkdirSync(runtime, { mode: 0o700 })
    const plain = ageKeygen(home, "plain")
    const keyFile = join(home, "key.age")
    const tty = new Tty(home, `age -p -o '${keyFile}' '${plain.file}'`)
    try {
        await tty.waitFor(/Enter passphrase/)
        tty.type(PASS)
        await tty.waitFor(/Confirm passphrase/)
        tty.type(PASS)
        expect(await exitOf(home)).toBe("exit=0")
    } finally {
        tty.kill()
    }
    run("rm", [plain.file, join(home, "rc.txt")])
    expect(readFileSync(keyFile, "utf8").startsWith("age-encryption.org/v1")).toBe(true)
    writeFileSync(join(home, "app.yaml"), `password: ${SECRET}\n`)
    const enc = await runCli(["encrypt", "-i", "--age", plain.recipient, "app.yaml"], { cwd: home })
    expect(enc.code, enc.stderr).toBe(0)
    return { home, runtime, keyFile }
}

/** Run `script` (sh) at a terminal with the test's environment; the screen once it ended and its exit line. */
function shellEnv(home: string, runtime: string, extra = ""): string {
    return `cd '${home}' && export HOME='${home}' XDG_CONFIG_HOME='${home}/.config' XDG_RUNTIME_DIR='${runtime}' PATH='${process.env.PATH ?? "/usr/bin:/bin"}' ${extra}`
}

const secrets = `'${process.execPath}' '${BIN}'`
const prompts = (screen: string) => (screen.match(/passphrase for/g) ?? []).length

/**
 * `n` decrypts of app.yaml one after another at one terminal (into out1.yaml …),
 * the first passphrase prompt answered; how many prompts the screen showed.
 */
async function decryptsAtTerminal(home: string, runtime: string, n: number, extraEnv = ""): Promise<number> {
    const loop = `for i in $(seq ${n}); do ${secrets} decrypt app.yaml > out$i.yaml || exit 1; done; echo all-done`
    const tty = new Tty(home, `${shellEnv(home, runtime, extraEnv)} && ${loop}`)
    try {
        await tty.waitFor(/passphrase for/)
        tty.type(PASS)
        expect(await exitOf(home)).toBe("exit=0")
        await tty.waitFor(/all-done/)
        return prompts(tty.screen())
    } finally {
        tty.kill()
    }
}

describe.skipIf(!hasTmux())("an age -p key file with the agent", () => {
    it("ten decrypts ask once; SECRETS_AGENT=0 bypasses the agent that holds the key; after lock the next asks again", { timeout: 300_000 }, async () => {
        const { home, runtime, keyFile } = await ageHome()
        await startAgent(runtime, home)
        expect(await decryptsAtTerminal(home, runtime, 10, `SOPS_AGE_KEY_FILE='${keyFile}'`)).toBe(1)
        for (let i = 1; i <= 10; i++) expect(readFileSync(join(home, `out${i}.yaml`), "utf8")).toBe(`password: ${SECRET}\n`)
        const held = await agentStatus(runtime, home)
        expect(held.identities).toBe(1)
        // Off a terminal the agent opens it too: no prompt possible, and none needed.
        const quiet = await runCli(["decrypt", "app.yaml"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime, SOPS_AGE_KEY_FILE: keyFile } })
        expect(quiet.stderr).toBe("")
        expect(quiet.stdout).toBe(`password: ${SECRET}\n`)

        // SECRETS_AGENT=0: as without an agent, so off a terminal the locked key is skipped (exit 128).
        const bypass = await runCli(["decrypt", "app.yaml"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime, SOPS_AGE_KEY_FILE: keyFile, SECRETS_AGENT: "0" } })
        expect(bypass.code).toBe(128)
        expect(bypass.stderr).toContain("protected by a passphrase and there is no terminal")

        const lock = await runCli(["agent", "lock"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })
        expect(lock.code).toBe(0)
        expect((await agentStatus(runtime, home)).identities).toBe(0)
        const afterLock = await runCli(["decrypt", "app.yaml"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime, SOPS_AGE_KEY_FILE: keyFile } })
        expect(afterLock.code).toBe(128)

        run("rm", [join(home, "rc.txt"), join(home, "out2.yaml")])
        expect(await decryptsAtTerminal(home, runtime, 2, `SOPS_AGE_KEY_FILE='${keyFile}'`)).toBe(1)
        expect(readFileSync(join(home, "out2.yaml"), "utf8")).toBe(`password: ${SECRET}\n`)
    })

    it("a killed agent (kill -9): the decrypt asks as without one, and does not hang", { timeout: 300_000 }, async () => {
        const { home, runtime, keyFile } = await ageHome()
        const pid = await startAgent(runtime, home)
        process.kill(pid, "SIGKILL")
        // The stale socket stays behind; wait for the process to be gone, not for a time.
        while ((await agentStatus(runtime, home)).running) await new Promise((r) => setTimeout(r, 100))
        expect(statSync(join(runtime, "secrets", "agent.sock")).isSocket()).toBe(true)
        const tty = new Tty(home, `${shellEnv(home, runtime, `SOPS_AGE_KEY_FILE='${keyFile}'`)} && ${secrets} decrypt app.yaml > out.yaml`)
        try {
            await tty.waitFor(/passphrase for/)
            tty.type(PASS)
            expect(await exitOf(home)).toBe("exit=0")
        } finally {
            tty.kill()
        }
        expect(readFileSync(join(home, "out.yaml"), "utf8")).toBe(`password: ${SECRET}\n`)
        // And a new agent replaces the stale socket.
        await startAgent(runtime, home)
        expect((await agentStatus(runtime, home)).running).toBe(true)
    })
})

describe.skipIf(!hasTmux())("an ssh-keygen -N key with the agent", () => {
    it("three decrypts ask once, and the agent holds the SSH identity and its X25519 twin", { timeout: 300_000 }, async () => {
        const home = tempDir()
        const runtime = join(home, "run")
        mkdirSync(runtime, { mode: 0o700 })
        mkdirSync(join(home, ".ssh"), { mode: 0o700 })
        const key = join(home, ".ssh", "id_ed25519")
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", PASS, "-C", "me@laptop", "-f", key])
        writeFileSync(join(home, "app.yaml"), `password: ${SECRET}\n`)
        const enc = await runCli(["encrypt", "-i", "--age", readFileSync(`${key}.pub`, "utf8").trim(), "app.yaml"], { cwd: home })
        expect(enc.code, enc.stderr).toBe(0)
        await startAgent(runtime, home)
        expect(await decryptsAtTerminal(home, runtime, 3)).toBe(1)
        for (let i = 1; i <= 3; i++) expect(readFileSync(join(home, `out${i}.yaml`), "utf8")).toBe(`password: ${SECRET}\n`)
        expect((await agentStatus(runtime, home)).identities).toBe(2)
    })
})

describe("the agent's socket and directory", () => {
    it("the socket is 0600 in a 0700 directory of ours, with a 0600 cookie", async () => {
        const home = tempDir()
        const runtime = join(home, "run")
        mkdirSync(runtime, { mode: 0o700 })
        await startAgent(runtime, home)
        const dir = join(runtime, "secrets")
        expect(statSync(dir).mode & 0o777).toBe(0o700)
        expect(statSync(join(dir, "agent.sock")).mode & 0o777).toBe(0o600)
        expect(statSync(join(dir, "agent.cookie")).mode & 0o777).toBe(0o600)
        expect(statSync(dir).uid).toBe(process.getuid?.())
    })

    it("a directory open to others is refused by start, and a running agent's is ignored by the CLI", async () => {
        const home = tempDir()
        const runtime = join(home, "run")
        mkdirSync(join(runtime, "secrets"), { recursive: true, mode: 0o700 })
        chmodSync(join(runtime, "secrets"), 0o755)
        const r = await runCli(["agent", "start"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            `secrets: error: refusing to put the agent's socket there: ${join(runtime, "secrets")} is open to other users (mode 0755); it must be 0700\n` +
                `secrets: hint: remove ${join(runtime, "secrets")} or make it yours with mode 0700\n`,
        )
        // An agent whose directory becomes open is not used: status says none runs.
        chmodSync(join(runtime, "secrets"), 0o700)
        await startAgent(runtime, home)
        chmodSync(join(runtime, "secrets"), 0o755)
        expect((await agentStatus(runtime, home)).running).toBe(false)
        chmodSync(join(runtime, "secrets"), 0o700)
    })

    it.skipIf(process.getuid?.() !== 0)("a directory owned by another user is refused", async () => {
        const home = tempDir()
        const runtime = join(home, "run")
        mkdirSync(join(runtime, "secrets"), { recursive: true, mode: 0o700 })
        chownSync(join(runtime, "secrets"), 65534, 65534)
        const r = await runCli(["agent", "start"], { cwd: home, env: { XDG_RUNTIME_DIR: runtime } })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`${join(runtime, "secrets")} belongs to uid 65534, not to you (uid 0)`)
    })

    it("a plain key decrypts as before with an agent that holds nothing, with a stale socket, and stop cleans up", async () => {
        const home = tempDir()
        const runtime = join(home, "run")
        mkdirSync(runtime, { mode: 0o700 })
        const key = ageKeygen(home, "k")
        writeFileSync(join(home, "app.yaml"), `password: ${SECRET}\n`)
        expect((await runCli(["encrypt", "-i", "--age", key.recipient, "app.yaml"], { cwd: home })).code).toBe(0)
        const env = { XDG_RUNTIME_DIR: runtime, SOPS_AGE_KEY_FILE: key.file }
        await startAgent(runtime, home)
        const withAgent = await runCli(["decrypt", "app.yaml"], { cwd: home, env })
        expect(withAgent.stderr).toBe("")
        expect(withAgent.stdout).toBe(`password: ${SECRET}\n`)
        // A plain key cost no prompt: the agent is not given it.
        expect((await agentStatus(runtime, home)).identities).toBe(0)
        const stop = await runCli(["agent", "stop"], { cwd: home, env })
        expect(stop.stdout).toBe("agent stopped\n")
        while ((await agentStatus(runtime, home)).running) await new Promise((r) => setTimeout(r, 100))
        const after = await runCli(["decrypt", "app.yaml"], { cwd: home, env })
        expect(after.stdout).toBe(`password: ${SECRET}\n`)
    })
})

describe("an identity in 1Password (stand-in op) with the agent", () => {
    it("three decrypts run op read once; after lock, once more", { timeout: 120_000 }, async () => {
        const dir = tempDir()
        const runtime = join(dir, "run")
        mkdirSync(runtime, { mode: 0o700 })
        const key = ageKeygen(dir, "key")
        run("rm", [key.file])
        writeFileSync(join(dir, "s.yaml"), `password: ${SECRET}\n`)
        expect((await runCli(["encrypt", "--age", key.recipient, "-i", "s.yaml"], { cwd: dir })).code).toBe(0)
        const store = seedStore()
        store.vaults[0]!.items.push(item({ title: "age", category: "API_CREDENTIAL", fields: [{ label: "identity", value: key.text, type: "CONCEALED" }] }))
        const op = await makeOpStandin(dir, store)
        const env = { ...op.env, XDG_RUNTIME_DIR: runtime, SECRETS_AGE_KEY_OP: "op://Dev/age/identity" }
        await startAgent(runtime, dir)
        for (let i = 0; i < 3; i++) {
            const r = await runCli(["decrypt", "s.yaml"], { cwd: dir, env })
            expect(r.stderr).toBe("")
            expect(r.stdout).toBe(`password: ${SECRET}\n`)
        }
        expect((await op.readLog()).length).toBe(1)
        expect((await agentStatus(runtime, dir)).identities).toBe(1)
        await runCli(["agent", "lock"], { cwd: dir, env })
        expect((await runCli(["decrypt", "s.yaml"], { cwd: dir, env })).code).toBe(0)
        expect((await runCli(["decrypt", "s.yaml"], { cwd: dir, env })).code).toBe(0)
        expect((await op.readLog()).length).toBe(2)
    })
})
