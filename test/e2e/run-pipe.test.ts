/**
 * `secrets run` with masking pumps the child's output through the masker by hand
 * (src/integrations/run-program.ts). Through the built binary: a large output
 * arrives whole and masked, and a reader that stops early stops the command, as
 * it would stop a program writing straight into the pipe (`… | head`).
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const TOKEN = "pipe-token-0123456789abcdef"
const CONCEALED = "<concealed by secrets>"

async function project() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    const env = { SOPS_AGE_KEY_FILE: key.file }
    writeFileSync(join(dir, "app.env"), `TOKEN=${TOKEN}\n`)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "app.env"], { cwd: dir, env })
    expect(enc.code).toBe(0)
    return { dir, env }
}

describe("secrets run: the masked output pipe", () => {
    it("passes 8 MB through whole, every value concealed, in order", async () => {
        const { dir, env } = await project()
        // 100,000 numbered lines, every 1,000th carrying the value.
        const script = `let s='';for(let i=0;i<100000;i++){s+='line '+i+(i%1000===0?' '+process.env.TOKEN:'')+' '.repeat(60)+'\\n'};process.stdout.write(s)`
        const r = await runCli(["run", "--file", "app.env", "--", process.execPath, "-e", script], { cwd: dir, env })
        expect(r.code).toBe(0)
        const lines = r.stdout.split("\n")
        expect(lines.length).toBe(100001)
        expect(r.stdout).not.toContain(TOKEN)
        expect(lines[5000]).toBe(`line 5000 ${CONCEALED}${" ".repeat(60)}`)
        expect(lines[99999]).toBe(`line 99999${" ".repeat(60)}`)
    }, 120_000)

    it("stops the command when the reader goes away, with the command's failing status", async () => {
        const { dir, env } = await project()
        // `yes` writes forever, until its output fails: the pipe to us is a socket, so
        // it reports "Connection reset by peer" and exits 1 (a plain pipe: SIGPIPE, 141).
        const child = spawn(process.execPath, [BIN, "run", "--file", "app.env", "--", "yes", `${"x".repeat(99)} ${TOKEN}`], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        })
        let got = ""
        child.stdout.on("data", (d: Buffer) => {
            got += d.toString()
            // Enough seen: close our end, as `head` does.
            if (got.length > 100_000) child.stdout.destroy()
        })
        const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
        expect([1, 141]).toContain(status)
        expect(got).toContain(CONCEALED)
        expect(got).not.toContain(TOKEN)
    }, 120_000)
})
