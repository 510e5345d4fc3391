/**
 * `secrets edit` in a real terminal: the built binary runs inside a detached tmux
 * session with EDITOR=vim, and the test types into it with send-keys, reading the
 * screen with capture-pane. This is the only place where stdin is a TTY, so it
 * covers the "press Enter to reopen the editor" loop and Ctrl-C at that prompt.
 * Each test uses its own tmux server (-L), killed in a finally.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const OLD = "old-value-4711"
const NEW = "new-value-0815"

interface Session {
    dir: string
    env: Record<string, string>
    tmux(...args: string[]): string
    screen(): string
    waitFor(what: RegExp | string, timeoutMs?: number): Promise<string>
    exitCode(timeoutMs?: number): Promise<number>
    keys(...keys: string[]): void
}

async function sleep(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms))
}

/** Encrypt f.yaml and start `secrets edit f.yaml` with vim in a fresh tmux server; run `fn`; kill the server. */
async function inTmux(fn: (s: Session) => Promise<void>): Promise<void> {
    const dir = tempDir()
    const key = ageKeygen(dir, "alice")
    const env = { SOPS_AGE_KEY_FILE: key.file }
    writeFileSync(join(dir, "f.yaml"), `greeting: hello\nsecret: ${OLD}\n`)
    // Setup, not the claim: encrypted in this process (the binary is what the tests run after).
    const enc = await runInProcess(["encrypt", "--age", key.recipient, "-i", "f.yaml"], { cwd: dir })
    expect(enc.code).toBe(0)

    // A clean environment inside the pane: only what the command needs, HOME in the temp dir.
    writeFileSync(
        join(dir, "run.sh"),
        [
            "#!/bin/sh",
            `cd '${dir}'`,
            // Ctrl-C goes to the whole foreground group, this shell included: a trap (reset
            // to the default in children) keeps it alive to record how secrets exited.
            "trap 'true' INT",
            `env -i HOME='${dir}' PATH='${process.env.PATH ?? "/usr/bin:/bin"}' TERM="$TERM" EDITOR=vim SOPS_AGE_KEY_FILE='${key.file}' '${process.execPath}' '${BIN}' edit f.yaml`,
            `echo $? > '${dir}/rc.txt'`,
            "",
        ].join("\n"),
    )
    const socket = `secrets-test-${process.pid}-${Math.random().toString(36).slice(2)}`
    const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" })
    const screen = () => tmux("capture-pane", "-p", "-t", "edit")
    const s: Session = {
        dir,
        env,
        tmux,
        screen,
        // 90 s: hang guards that show the screen, not speed checks (issue 10 §16).
        async waitFor(what, timeoutMs = 90_000) {
            const deadline = Date.now() + timeoutMs
            for (;;) {
                const text = screen()
                if (typeof what === "string" ? text.includes(what) : what.test(text)) return text
                if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(what)}; the screen shows:\n${text}`)
                await sleep(100)
            }
        },
        async exitCode(timeoutMs = 90_000) {
            const deadline = Date.now() + timeoutMs
            const rc = join(dir, "rc.txt")
            while (!existsSync(rc) || readFileSync(rc, "utf8").trim() === "") {
                if (Date.now() > deadline) throw new Error(`timed out waiting for secrets to exit; the screen shows:\n${screen()}`)
                await sleep(100)
            }
            return Number(readFileSync(rc, "utf8").trim())
        },
        keys(...keys) {
            tmux("send-keys", "-t", "edit", ...keys)
        },
    }
    try {
        // The trailing sleep keeps the pane readable after `secrets` ends.
        tmux("new-session", "-d", "-s", "edit", "-x", "120", "-y", "40", `trap 'true' INT; sh '${dir}/run.sh'; sleep 30`)
        await fn(s)
    } finally {
        try {
            tmux("kill-server")
        } catch {
            // already gone
        }
    }
}

/** The temp file vim has open, as vim reports it. */
async function vimFilePath(s: Session): Promise<string> {
    s.keys(":echo 'PATH=' . expand('%:p')", "Enter")
    const text = await s.waitFor(/PATH=\S+/)
    const m = /PATH=(\S+)/.exec(text)
    return m?.[1] ?? ""
}

describe("edit in a real terminal (tmux + vim)", () => {
    it("vim shows the plaintext; changing a value and :wq re-encrypts it", async () => {
        await inTmux(async (s) => {
            await s.waitFor(`secret: ${OLD}`)
            const tmp = await vimFilePath(s)
            expect(tmp).toMatch(/^\/dev\/shm\/secrets-[^/]+\/f\.yaml$/)
            s.keys(`:%s/${OLD}/${NEW}/`, "Enter")
            s.keys(":wq", "Enter")
            expect(await s.exitCode()).toBe(0)
            expect(existsSync(tmp)).toBe(false)
            const text = readFileSync(join(s.dir, "f.yaml"), "utf8")
            expect(text).not.toContain(NEW)
            const dec = await runCli(["decrypt", "f.yaml"], { cwd: s.dir, env: s.env })
            expect(dec.stdout).toBe(`greeting: hello\nsecret: ${NEW}\n`)
        })
    })

    it("invalid YAML: the error and the Enter prompt appear; Enter reopens vim on the broken text; fixing it saves", async () => {
        await inTmux(async (s) => {
            await s.waitFor(`secret: ${OLD}`)
            s.keys(`:%s/^secret: .*/secret: [${NEW}/`, "Enter")
            s.keys(":wq", "Enter")
            const prompt = await s.waitFor("press Enter to reopen the editor, or Ctrl+C to give up")
            expect(prompt).toMatch(/secrets: error: "f\.yaml": .*line \d+/)
            // Our messages never echo the text (vim's last screen may still show it above them).
            const ours = prompt.split("\n").filter((l) => l.startsWith("secrets: "))
            expect(ours.length).toBeGreaterThanOrEqual(2)
            for (const line of ours) expect(line).not.toContain(NEW)
            expect(existsSync(join(s.dir, "rc.txt"))).toBe(false)

            s.keys("Enter")
            // vim comes back with what was saved, not with the original.
            await s.waitFor(`secret: [${NEW}`)
            s.keys(`:%s/\\[${NEW}/${NEW}/`, "Enter")
            s.keys(":wq", "Enter")
            expect(await s.exitCode()).toBe(0)
            const dec = await runCli(["decrypt", "f.yaml"], { cwd: s.dir, env: s.env })
            expect(dec.stdout).toBe(`greeting: hello\nsecret: ${NEW}\n`)
        })
    })

    it("SIGINT to the process group while vim runs does nothing to secrets; Ctrl-C at the Enter prompt gives up with exit 1, file and temp dir gone", async () => {
        await inTmux(async (s) => {
            const before = readFileSync(join(s.dir, "f.yaml"))
            await s.waitFor(`secret: ${OLD}`)
            const tmp = await vimFilePath(s)
            // vim reads Ctrl-C as a key (raw mode), so send what a terminal in cooked mode
            // would: SIGINT to the pane's whole process group. vim shrugs it off; so must we.
            const panePid = Number(s.tmux("display", "-p", "-t", "edit", "#{pane_pid}").trim())
            process.kill(-panePid, "SIGINT")
            s.keys("C-c")
            await sleep(500)
            expect(existsSync(tmp)).toBe(true)
            expect(existsSync(join(s.dir, "rc.txt"))).toBe(false)

            s.keys(`:%s/^secret: .*/secret: [${NEW}/`, "Enter")
            s.keys(":wq", "Enter")
            await s.waitFor("press Enter to reopen the editor")
            s.keys("C-c")
            expect(await s.exitCode()).toBe(1)
            await s.waitFor(/edit cancelled \(interrupted\): "f\.yaml" was left unchanged/)
            expect(readFileSync(join(s.dir, "f.yaml"))).toEqual(before)
            expect(existsSync(tmp)).toBe(false)
            expect(existsSync(join(tmp, ".."))).toBe(false)
        })
    })
})
