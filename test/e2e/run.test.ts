/**
 * `secrets run` and `secrets ci mask` through the built binary (issue 13 points
 * 1-2): values reach a real child program's environment without a shell, its
 * output is masked on stdout and stderr even when it writes one byte at a time,
 * exit statuses and signals come back, and under GitHub Actions the add-mask
 * lines come first, in the runner's exact format.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const TOKEN = "tok-$(touch pwned)-never-printed"
const PEM = "-----BEGIN TEST KEY-----\nAAAAbbbbCCCCddddEEEE\nFFFFggggHHHHiiiiJJJJ\n-----END TEST KEY-----"
const DB_PASSWORD = "db-pa55w0rd-hidden"
const CONCEALED = "<concealed by secrets>"

/** A project with `app.yaml` (nested) encrypted for a fresh key, and a child script `child.cjs`. */
async function project() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    const env = { SOPS_AGE_KEY_FILE: key.file }
    writeFileSync(join(dir, "app.yaml"), `API_TOKEN: '${TOKEN}'\nTLS_KEY: |\n${PEM.split("\n").map((l) => `    ${l}`).join("\n")}\ndb:\n    password: ${DB_PASSWORD}\n`)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "app.yaml"], { cwd: dir, env })
    expect(enc.stderr).toBe("")
    expect(enc.code).toBe(0)
    // Writes each argument (or the variable an `env:NAME` argument names) one byte per write() call, to fd 1 or 2.
    writeFileSync(
        join(dir, "child.cjs"),
        [
            "const fs = require('node:fs')",
            "const [fd, ...names] = process.argv.slice(2)",
            "for (const n of names) {",
            "  const text = (n.startsWith('env:') ? process.env[n.slice(4)] ?? '<unset>' : n) + '\\n'",
            "  for (const b of Buffer.from(text)) fs.writeSync(Number(fd), Buffer.from([b]))",
            "}",
        ].join("\n"),
    )
    return { dir, env, recipient: key.recipient }
}

describe("secrets run", () => {
    it("passes values in the environment and conceals them on stdout and stderr, written one byte at a time", async () => {
        const { dir, env } = await project()
        const out = await runCli(["run", "--file", "app.yaml", "--flatten", "--", process.execPath, "child.cjs", "1", "before", "env:API_TOKEN", "env:db__password", "after"], { cwd: dir, env })
        expect(out.code).toBe(0)
        expect(out.stdout).toBe(`before\n${CONCEALED}\n${CONCEALED}\nafter\n`)
        const err2 = await runCli(["run", "--file", "app.yaml", "--flatten", "--", process.execPath, "child.cjs", "2", "x", "env:API_TOKEN"], { cwd: dir, env })
        expect(err2.stderr).toBe(`x\n${CONCEALED}\n`)
        expect(err2.code).toBe(0)
    }, 60_000)

    it("runs argv without a shell: $(…) in a value or an argument stays literal and nothing runs", async () => {
        const { dir, env } = await project()
        const r = await runCli(
            ["run", "--no-masking", "--file", "app.yaml", "--flatten", "--", process.execPath, "child.cjs", "1", "env:API_TOKEN", "$(touch pwned2)"],
            { cwd: dir, env },
        )
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(`${TOKEN}\n$(touch pwned2)\n`)
        expect(existsSync(join(dir, "pwned"))).toBe(false)
        expect(existsSync(join(dir, "pwned2"))).toBe(false)
    }, 60_000)

    it("conceals each line of a multi-line value and its base64; --no-masking shows them", async () => {
        const { dir, env } = await project()
        const line = PEM.split("\n")[1]!
        const b64 = Buffer.from(PEM).toString("base64")
        const r = await runCli(["run", "--file", "app.yaml", "--flatten", "--", process.execPath, "child.cjs", "1", `line ${line}`, `b64 ${b64}`, "env:TLS_KEY"], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(r.stdout).not.toContain(line)
        expect(r.stdout).not.toContain("FFFFggggHHHHiiiiJJJJ")
        expect(r.stdout).not.toContain(b64.slice(0, 20))
        // The value (a YAML block, so it ends in a newline) is one marker, not one per line;
        // base64 padding is left (it tells nothing).
        expect(r.stdout).toBe(`line ${CONCEALED}\nb64 ${CONCEALED}=\n${CONCEALED}\n`)
        const plain = await runCli(["run", "--no-masking", "--file", "app.yaml", "--flatten", "--", process.execPath, "child.cjs", "1", "env:TLS_KEY"], { cwd: dir, env })
        expect(plain.stdout).toBe(`${PEM}\n\n`)
    }, 60_000)

    it("passes exit codes and signals through", async () => {
        const { dir, env } = await project()
        const args = ["run", "--file", "app.yaml", "--flatten", "--", process.execPath, "-e"]
        expect((await runCli([...args, "process.exit(0)"], { cwd: dir, env })).code).toBe(0)
        const three = await runCli([...args, "process.exit(3)"], { cwd: dir, env })
        expect(three.code).toBe(3)
        expect(three.stderr).toBe("")
        expect((await runCli([...args, "process.kill(process.pid, 'SIGTERM')"], { cwd: dir, env })).code).toBe(143)
        expect((await runCli([...args, "process.kill(process.pid, 'SIGKILL')"], { cwd: dir, env })).code).toBe(137)
        const missing = await runCli(["run", "--", "no-such-program-here"], { cwd: dir, env })
        expect(missing.code).toBe(1)
        expect(missing.stderr).toMatch(/^secrets: error: could not start "no-such-program-here": no such program\n/)
    }, 60_000)

    it("resolves --env-file templates and placeholder variables, later sources winning, plain text left readable", async () => {
        const { dir, env } = await project()
        writeFileSync(join(dir, ".env.template"), `# app\nDB_URL="postgres://app:{{ app.yaml#["db"]["password"] }}@db:5432/app"\nexport MODE=production\n`)
        const r = await runCli(
            ["run", "--env-file", ".env.template", "--", process.execPath, "-e", "console.log([process.env.DB_URL, process.env.MODE, process.env.FROM_ENV, process.env.SOPS_AGE_KEY_FILE].join('|'))"],
            { cwd: dir, env: { ...env, FROM_ENV: `{{ app.yaml#["API_TOKEN"] }}` } },
        )
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        // The password and the token are concealed, the URL around them is not; the identity variable is not passed.
        expect(r.stdout).toBe(`postgres://app:${CONCEALED}@db:5432/app|production|${CONCEALED}|\n`)
        const bad = await runCli(["run", "--env-file", "missing.template", "--", "true"], { cwd: dir, env })
        expect(bad.code).not.toBe(0)
        expect(bad.stderr).toMatch(/missing\.template/)
    }, 60_000)

    it("under GITHUB_ACTIONS=true prints the add-mask lines first, escaped as the runner reads them", async () => {
        const { dir, env } = await project()
        const r = await runCli(["run", "--file", "app.yaml", "--flatten", "--", process.execPath, "-e", "console.log('child output')"], {
            cwd: dir,
            env: { ...env, GITHUB_ACTIONS: "true" },
        })
        expect(r.code).toBe(0)
        const pemLines = PEM.split("\n")
        const expected = [
            `::add-mask::${TOKEN}`,
            `::add-mask::${PEM.replace(/\n/g, "%0A")}%0A`,
            ...pemLines.map((l) => `::add-mask::${l}`),
            `::add-mask::${DB_PASSWORD}`,
            "child output",
            "",
        ].join("\n")
        expect(r.stdout).toBe(expected)
        // Without GITHUB_ACTIONS: no add-mask lines.
        const local = await runCli(["run", "--file", "app.yaml", "--flatten", "--", "true"], { cwd: dir, env })
        expect(local.stdout).toBe("")
    }, 60_000)
})

describe("secrets ci mask", () => {
    it("prints only the add-mask lines of every value, and exec-env prints them first under GITHUB_ACTIONS", async () => {
        const { dir, env, recipient } = await project()
        const r = await runCli(["ci", "mask", "app.yaml"], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(r.stderr).toBe("")
        expect(r.stdout.split("\n").filter((l) => l !== "").every((l) => l.startsWith("::add-mask::"))).toBe(true)
        expect(r.stdout).toContain(`::add-mask::${DB_PASSWORD}\n`)
        expect(r.stdout).toContain(`::add-mask::${TOKEN}\n`)

        writeFileSync(join(dir, "flat.yaml"), `TOKEN: ${DB_PASSWORD}\nPIN: "123"\n`)
        expect((await runCli(["encrypt", "--age", recipient, "-i", "flat.yaml"], { cwd: dir, env })).code).toBe(0)
        const e = await runCli(["exec-env", "flat.yaml", "echo ran"], { cwd: dir, env: { ...env, GITHUB_ACTIONS: "true" } })
        expect(e.code).toBe(0)
        expect(e.stdout).toBe(`::add-mask::${DB_PASSWORD}\nran\n`)
        // Too short to mask usefully: named in a warning, the value never printed.
        expect(e.stderr).toMatch(/"PIN" is shorter than 4 characters/)
        expect(e.stderr).not.toContain("123")
    }, 60_000)
})
