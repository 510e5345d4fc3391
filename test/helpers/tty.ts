/** A real terminal for interactive tests: a command in a detached tmux session. */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** A command in a detached tmux session on a private server, to type at its prompts. */
export class Tty {
    readonly socket: string
    constructor(dir: string, script: string) {
        this.socket = join(dir, "tmux.sock")
        writeFileSync(join(dir, "run.sh"), `#!/bin/sh\n${script}\necho "exit=$?" > ${join(dir, "rc.txt")}\nsleep 120\n`, { mode: 0o700 })
        execFileSync("tmux", ["-S", this.socket, "new-session", "-d", "-x", "150", "-y", "40", join(dir, "run.sh")])
    }
    screen(): string {
        return execFileSync("tmux", ["-S", this.socket, "capture-pane", "-p"]).toString()
    }
    async waitFor(re: RegExp, count = 1): Promise<void> {
        // 90 s: a hang guard with the screen in its message, not a speed check.
        for (let i = 0; i < 900; i++) {
            if ((this.screen().match(new RegExp(re.source, "g")) ?? []).length >= count) return
            await new Promise((r) => setTimeout(r, 100))
        }
        throw new Error(`timed out waiting for ${String(re)}; screen:\n${this.screen()}`)
    }
    type(text: string): void {
        execFileSync("tmux", ["-S", this.socket, "send-keys", "-l", text])
        execFileSync("tmux", ["-S", this.socket, "send-keys", "Enter"])
    }
    kill(): void {
        try {
            execFileSync("tmux", ["-S", this.socket, "kill-server"], { stdio: "ignore" })
        } catch {
            // already gone
        }
    }
}

/** The `exit=N` line the session's script writes when the command ends. */
export async function exitOf(dir: string): Promise<string> {
    for (let i = 0; i < 900; i++) {
        if (existsSync(join(dir, "rc.txt"))) return readFileSync(join(dir, "rc.txt"), "utf8").trim()
        await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error("command did not finish")
}

export function hasTmux(): boolean {
    try {
        execFileSync("tmux", ["-V"], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
}
