/**
 * `secrets run` while the command runs: SIGTERM sent to `secrets` reaches the
 * command (which may clean up and choose its status, passed back to us), and
 * with a terminal on stdin the command still reads from it while its output is
 * masked.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { watchProcess } from "../helpers/watched-process.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"

const TOKEN = "tok-terminal-7c1d9e"

async function project() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "app.env"), `TOKEN=${TOKEN}\n`)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "app.env"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    expect(enc.code).toBe(0)
    return { dir, keyFile: key.file }
}

describe("secrets run while the command runs", () => {
    it("forwards SIGTERM to the command and exits with the status it chooses, output still masked", async () => {
        const { dir, keyFile } = await project()
        const script = "process.on('SIGTERM', () => { console.log('stopping ' + process.env.TOKEN); process.exit(7) }); console.log('ready'); setInterval(() => {}, 1000)"
        const child = spawn(process.execPath, [BIN, "run", "--file", "app.env", "--", process.execPath, "-e", script], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, SOPS_AGE_KEY_FILE: keyFile },
            stdio: "pipe",
        })
        const p = watchProcess(child)
        await p.saw("ready")
        p.kill("SIGTERM")
        const end = await p.ended
        expect(end.code).toBe(7)
        expect(p.out()).toBe("ready\nstopping <concealed by secrets>\n")
    }, 60_000)

    it.skipIf(!hasTmux())("leaves the terminal on stdin to the command, which reads from it", async () => {
        const { dir, keyFile } = await project()
        const read = "process.stdout.write('stdin is a tty: ' + process.stdin.isTTY + '\\nname? '); process.stdin.once('data', (d) => { console.log('hello ' + d.toString().trim() + ' ' + process.env.TOKEN); process.exit(0) })"
        const tty = new Tty(dir, `cd '${dir}' && HOME='${dir}' SOPS_AGE_KEY_FILE='${keyFile}' '${process.execPath}' '${BIN}' run --file app.env -- '${process.execPath}' -e "${read}"`)
        try {
            await tty.waitFor(/name\?/)
            expect(tty.screen()).toContain("stdin is a tty: true")
            tty.type("alice")
            await tty.waitFor(/hello alice/)
            expect(tty.screen()).toContain("hello alice <concealed by secrets>")
            expect(tty.screen()).not.toContain(TOKEN)
            expect(await exitOf(dir)).toBe("exit=0")
        } finally {
            tty.kill()
        }
    }, 120_000)
})
