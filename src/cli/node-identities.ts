/**
 * The Node.js side of identity lookup: real files, the home directory, the key
 * command runner, and a passphrase prompt only when a terminal can answer it.
 */
import { access, readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { collectIdentities, type CollectedIdentities } from "./identity-sources.js"
import type { Io } from "./io.js"
import { warn } from "./report.js"

export async function identitiesFor(io: Io, recipients: readonly string[] = []): Promise<CollectedIdentities> {
    const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true
    const collected = await collectIdentities({
        env: io.env,
        homedir: homedir(),
        platform: process.platform,
        readFile: (p) => readFile(p),
        exists: async (p) => {
            try {
                await access(p)
                return true
            } catch {
                return false
            }
        },
        runKeyCommand: async (cmd, env, recipient) => (await import("../integrations/key-command.js")).runKeyCommand(cmd, env, recipient),
        recipients,
        ...(interactive
            ? {
                  promptPassphrase: async (source: string) => {
                      const { password } = await import("@inquirer/prompts")
                      return password({ message: `passphrase for ${source}`, mask: true })
                  },
              }
            : {}),
    })
    for (const w of collected.warnings) warn(io, w)
    return collected
}
