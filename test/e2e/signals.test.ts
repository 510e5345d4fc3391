/**
 * Signals sent to `secrets` while plaintext is out (issue 10 §7), with real
 * processes: `edit` with an editor that waits, `exec-file` with a command that
 * waits. SIGQUIT must clean up like SIGTERM — the private directory removed, no
 * core dumped (exit 131 rather than death by SIGQUIT) — and the editor must end
 * with the CLI instead of editing on into a deleted directory.
 *
 * `secrets` is started through `sh -c 'ulimit -c 0; exec …'` (same pid), so that a
 * build without the fix leaves no core file behind when this test fails.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "s1gnal-s3cret-never-printed"

async function project() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "s.yaml"), `a: ${SECRET}\n`)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "s.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    expect([enc.code, enc.stderr]).toEqual([0, ""])
    return { dir, env: { SOPS_AGE_KEY_FILE: key.file } }
}

interface Started {
    readonly child: ChildProcess
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
    stderr(): string
}

function start(dir: string, args: string[], env: Record<string, string>): Started {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")
    const child = spawn("/bin/sh", ["-c", `ulimit -c 0; exec ${quoted}`], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
        stdio: ["ignore", "ignore", "pipe"],
    })
    let err = ""
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })))
    onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
    return { child, exited, stderr: () => err }
}

/** Wait (without a deadline of our own: vitest's timeout bounds it) until `file` has a complete line. */
async function lineOf(file: string): Promise<string> {
    for (;;) {
        if (existsSync(file)) {
            const text = readFileSync(file, "utf8")
            if (text.endsWith("\n")) return text.trim()
        }
        await new Promise((r) => setTimeout(r, 25))
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch {
        return false
    }
}

/** Kill a process we started if it outlived the test (an orphaned editor of a failing run). */
function reap(pid: number): void {
    onTestFinished(() => {
        if (alive(pid)) process.kill(pid, "SIGKILL")
    })
}

/** Remove the private dir of `plaintext` after the test if a failing run left it behind. */
function leftOver(plaintext: string): void {
    onTestFinished(() => rmSync(dirname(plaintext), { recursive: true, force: true }))
}

/** An editor that records its pid and the file's path, then waits (as a person would). */
function waitingEditor(dir: string): string {
    const p = join(dir, "editor.sh")
    writeFileSync(p, `#!/bin/sh\necho $$ > '${dir}/editor.pid'\necho "$1" > '${dir}/editor.path'\nexec sleep 600\n`)
    chmodSync(p, 0o755)
    return p
}

describe("edit: a signal while the editor is open", () => {
    it.each([
        ["SIGQUIT", 131],
        ["SIGTERM", 143],
        ["SIGHUP", 129],
    ] as const)("%s ends the editor, removes the plaintext, leaves the file, exits %i", async (signal, status) => {
        const { dir, env } = await project()
        const before = readFileSync(join(dir, "s.yaml"))
        const run = start(dir, ["edit", "s.yaml"], { ...env, EDITOR: waitingEditor(dir) })
        const editorPid = Number(await lineOf(join(dir, "editor.pid")))
        reap(editorPid)
        const plaintext = await lineOf(join(dir, "editor.path"))
        leftOver(plaintext)
        expect(readFileSync(plaintext, "utf8")).toBe(`a: ${SECRET}\n`)

        run.child.kill(signal)
        const ended = await run.exited
        // The editor went first (no orphan editing into a deleted directory), then the plaintext.
        expect(alive(editorPid)).toBe(false)
        expect(existsSync(dirname(plaintext))).toBe(false)
        // An exit status, not death by the signal: SIGQUIT's default action would dump core.
        expect(ended).toEqual({ code: status, signal: null })
        expect(readFileSync(join(dir, "s.yaml"))).toEqual(before)
        expect(existsSync(join(dir, "s.yaml.lock"))).toBe(false)
        expect(run.stderr()).toBe(`secrets: error: the edit was interrupted by ${signal}: the editor was ended and nothing was written\n`)
    })
})

describe("exec-file: SIGQUIT while the command runs", () => {
    it("reaches the command, and the private directory is removed; no core", async () => {
        const { dir, env } = await project()
        const run = start(dir, ["exec-file", "--no-fifo", "s.yaml", `echo $$ > cmd.pid; echo {} > path.txt; exec sleep 600`], env)
        const cmdPid = Number(await lineOf(join(dir, "cmd.pid")))
        reap(cmdPid)
        const plaintext = await lineOf(join(dir, "path.txt"))
        leftOver(plaintext)
        expect(readFileSync(plaintext, "utf8")).toBe(`a: ${SECRET}\n`)
        run.child.kill("SIGQUIT")
        // The command died of the forwarded SIGQUIT: 128 + 3, as a shell reports it.
        expect(await run.exited).toEqual({ code: 131, signal: null })
        expect(alive(cmdPid)).toBe(false)
        expect(existsSync(dirname(plaintext))).toBe(false)
        expect(run.stderr()).toBe("")
    })
})
