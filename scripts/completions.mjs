#!/usr/bin/env node
// Write the shell completion scripts into completions/ from the built program:
// `node scripts/completions.mjs` after `npm run build`. The files are committed for
// packagers; test/e2e/completion-scripts.test.ts fails when they differ from what
// `secrets completion SHELL` prints. `--check` only compares (exit 1 on a difference).
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const FILES = { bash: "secrets.bash", zsh: "_secrets", fish: "secrets.fish" }
const check = process.argv.includes("--check")

let stale = 0
mkdirSync(join(root, "completions"), { recursive: true })
for (const [shell, name] of Object.entries(FILES)) {
    const script = execFileSync(process.execPath, [join(root, "bin/secrets.cjs"), "completion", shell], { cwd: root, encoding: "utf8" })
    const path = join(root, "completions", name)
    let current
    try {
        current = readFileSync(path, "utf8")
    } catch {
        current = undefined
    }
    if (current === script) continue
    stale++
    if (check) console.error(`completions/${name} differs from \`secrets completion ${shell}\``)
    else writeFileSync(path, script)
}
if (check && stale > 0) process.exit(1)
