/**
 * `secrets ls --reveal` at a real terminal (tmux): it asks first, shows nothing when
 * the answer is no, and the values when it is yes.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"

const TOKEN = "tok-terminal-ls-4f2a"

async function session(answer: string): Promise<{ screen: string; exit: string }> {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "app.env"), `TOKEN=${TOKEN}\n`)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "app.env"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    expect(enc.code).toBe(0)
    const tty = new Tty(dir, `cd '${dir}' && HOME='${dir}' SOPS_AGE_KEY_FILE='${key.file}' '${process.execPath}' '${BIN}' ls --reveal app.env`)
    try {
        await tty.waitFor(/show the secret values on this terminal\?/)
        expect(tty.screen()).not.toContain(TOKEN)
        tty.type(answer)
        const exit = await exitOf(dir)
        return { screen: tty.screen(), exit }
    } finally {
        tty.kill()
    }
}

describe.skipIf(!hasTmux())("secrets ls --reveal at a terminal", () => {
    it("asks first: no shows nothing and exits 1, yes shows the values", async () => {
        const no = await session("n")
        expect(no.exit).toBe("exit=1")
        expect(no.screen).toContain("secrets: error: values not revealed")
        expect(no.screen).not.toContain(TOKEN)

        const yes = await session("y")
        expect(yes.exit).toBe("exit=0")
        expect(yes.screen).toContain(`["TOKEN"]  "${TOKEN}"`)
    }, 180_000)
})
