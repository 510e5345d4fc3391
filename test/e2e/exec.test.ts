/**
 * `exec-env` and `exec-file` through the built binary: the child sees the values
 * (environment, FIFO or 0600 file), its exit code comes back as ours, the private
 * directory is gone afterwards on every path, and no value reaches stderr or argv.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "p4ss-w0rd never printed"
const INTEROP = join(import.meta.dirname, "../fixtures/interop/humphd-sops-age")

/** A temp project with `s.yaml` encrypted for a fresh key; `env` opens it. */
async function project(plain = `password: ${SECRET}\nport: 5432\nratio: 1.0\nflag: true\n`, name = "s.yaml") {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, name), plain)
    // Setup, not the claim: encrypted in this process (the binary is what the tests run after).
    const enc = await runInProcess(["encrypt", "--age", key.recipient, "-i", name], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    expect(enc.stderr).toBe("")
    expect(enc.code).toBe(0)
    return { dir, env: { SOPS_AGE_KEY_FILE: key.file } }
}

/** The path the command wrote into `file` (its `{}`), read after the run. */
function recorded(dir: string, file = "path.txt"): string {
    const p = readFileSync(join(dir, file), "utf8").trim()
    expect(p).toMatch(/\/secrets-exec-[^/]+\/[^/]+$/)
    return p
}

/** Poll until `cond` holds; no deadline of its own: the test's timeout bounds it. */
async function until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise((res) => setTimeout(res, 20))
}

describe("exec-env", () => {
    it("puts the top-level values into the command's environment", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-env", "s.yaml", `printf %s "$password"`], { cwd: dir, env })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(SECRET)
        // Non-strings as sops' ValueToString: ints as is, floats keep ".0", bools lowercase.
        const t = await runCli(["exec-env", "s.yaml", `printf '%s|%s|%s' "$port" "$ratio" "$flag"`], { cwd: dir, env })
        expect(t.stdout).toBe("5432|1.0|true")
        // stdin is the command's too.
        const i = await runCli(["exec-env", "s.yaml", `read line; printf '%s-%s' "$line" "$port"`], { cwd: dir, env, input: "hello\n" })
        expect(i.stdout).toBe("hello-5432")
    })

    it("keeps our environment underneath, the file's value winning over ours", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-env", "s.yaml", `printf '%s|%s|%s' "$HOME" "$password" "$OURS"`], {
            cwd: dir,
            env: { ...env, password: "inherited", OURS: "kept" },
        })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(`${dir}|${SECRET}|kept`)
    })

    it("passes the exit code through, and 128 + the signal when a signal ends the command", async () => {
        const { dir, env } = await project()
        const seven = await runCli(["exec-env", "s.yaml", "exit 7"], { cwd: dir, env })
        expect(seven.code).toBe(7)
        expect(seven.stderr).toBe("")
        const term = await runCli(["exec-env", "s.yaml", "kill -TERM $$"], { cwd: dir, env })
        expect(term.code).toBe(143)
        expect(term.stderr).toBe("")
        const kill = await runCli(["exec-env", "s.yaml", "kill -KILL $$"], { cwd: dir, env })
        expect(kill.code).toBe(137)
    })

    it("--pristine gives the command only the file's variables", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-env", "--pristine", "s.yaml", "/usr/bin/env"], { cwd: dir, env: { ...env, OURS: "x" } })
        expect(r.code).toBe(0)
        const vars = Object.fromEntries(r.stdout.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]))
        // /bin/sh itself adds PWD; nothing of ours (PATH, HOME, SOPS_AGE_KEY_FILE, OURS) is there.
        expect(vars).toEqual({ password: SECRET, port: "5432", ratio: "1.0", flag: "true", PWD: dir })
    })

    it("refuses a nested value naming the key, without running the command or showing a value", async () => {
        const { dir, env } = await project(`token: ${SECRET}\ndb:\n    password: ${SECRET}\n`)
        const r = await runCli(["exec-env", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            `secrets: error: "s.yaml": the value of "db" is a mapping; only top-level scalar values can be environment variables\n` +
                "secrets: hint: move nested values to the top level, or use exec-file to pass the whole file\n",
        )
        expect(r.stdout).toBe("")
        expect(existsSync(join(dir, "ran"))).toBe(false)
    })

    it("refuses a key containing '='", async () => {
        const { dir, env } = await project(`"A=B": ${SECRET}\n`)
        const r = await runCli(["exec-env", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`secrets: error: "s.yaml": the key "A=B" contains "=" and cannot be an environment variable name\n`)
        expect(r.stderr).not.toContain(SECRET)
        expect(existsSync(join(dir, "ran"))).toBe(false)
    })

    it("works on a real sops 3.8.1 dotenv file, and names the nested key of the real JSON one", async () => {
        const env = { SOPS_AGE_KEY_FILE: join(INTEROP, "key.txt") }
        const dir = tempDir()
        const r = await runCli(["exec-env", join(INTEROP, "HEAD/secret.enc.env"), `printf '%s|%s' "$secret" "$another_secret"`], { cwd: dir, env })
        expect(r.stderr).toBe("")
        expect(r.stdout).toBe("this is a secret|7")
        const j = await runCli(["exec-env", join(INTEROP, "HEAD/secret.enc.json"), "true"], { cwd: dir, env })
        expect(j.code).toBe(1)
        expect(j.stderr).toContain(`the value of "complex" is a mapping`)
        expect(j.stderr).not.toContain("this is a secret")
    })

    it("never puts a value on argv: neither ours nor the shell's command line holds it", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-env", "s.yaml", `tr '\\0' ' ' < /proc/$PPID/cmdline; echo; tr '\\0' ' ' < /proc/$$/cmdline`], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(r.stdout).toContain("exec-env s.yaml")
        expect(r.stdout).toContain("/bin/sh -c")
        expect(r.stdout).not.toContain(SECRET)
    })

    it("rejects --user clearly, accepts --same-process, and refuses it with --background (exit 8)", async () => {
        const { dir, env } = await project()
        const user = await runCli(["exec-env", "--user", "nobody", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(user.code).toBe(1)
        expect(user.stderr).toBe(
            "secrets: error: exec-env --user is not supported: secrets cannot drop privileges for the command\n" +
                "secrets: hint: run the command through sudo -u USER or runuser -u USER inside CMD, or run secrets as that user\n",
        )
        expect(existsSync(join(dir, "ran"))).toBe(false)
        const same = await runCli(["exec-env", "--same-process", "s.yaml", `printf %s "$port"; exit 4`], { cwd: dir, env })
        expect(same.stdout).toBe("5432")
        expect(same.code).toBe(4)
        const both = await runCli(["exec-env", "--same-process", "--background", "s.yaml", "true"], { cwd: dir, env })
        expect(both.code).toBe(8)
        expect(both.stderr).toBe("secrets: error: --same-process cannot be used with --background\n")
    })

    it("--background starts the command without waiting for it", async () => {
        const { dir, env } = await project()
        // The command waits for a file that only the test makes, after secrets has
        // returned: so secrets did not wait for it, whatever the machine's speed.
        const r = await runCli(["exec-env", "--background", "s.yaml", `while [ ! -e go ]; do sleep 0.05; done; printf %s "$port" > bg.tmp; mv bg.tmp bg.txt`], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(r.stderr).toBe("secrets: warning: exec-env's --background option is deprecated, as in sops\n")
        expect(existsSync(join(dir, "bg.txt"))).toBe(false)
        writeFileSync(join(dir, "go"), "")
        await until(() => existsSync(join(dir, "bg.txt")))
        expect(readFileSync(join(dir, "bg.txt"), "utf8")).toBe("5432")
    })

    it("forwards SIGTERM to the command and exits with its status; SIGINT to secrets alone is left to the terminal", async () => {
        const { dir, env } = await project()
        const script = `trap 'printf got-term; exit 5' TERM; : > ready; while :; do sleep 0.05; done`
        const child = spawn(process.execPath, [BIN, "exec-env", "s.yaml", script], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        })
        let out = ""
        let err = ""
        child.stdout.on("data", (d: Buffer) => (out += d.toString()))
        child.stderr.on("data", (d: Buffer) => (err += d.toString()))
        const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)))
        await until(() => existsSync(join(dir, "ready")))
        child.kill("SIGINT")
        // A chance for a wrongly fatal SIGINT to show; a slow machine can only hide
        // the bug here, never fail a correct build.
        await new Promise((res) => setTimeout(res, 300))
        expect(child.exitCode).toBe(null)
        child.kill("SIGTERM")
        expect(await exited).toBe(5)
        expect(out).toBe("got-term")
        expect(err).toBe("")
    })

    it("a missing file exits 100 without running the command", async () => {
        const dir = tempDir()
        const r = await runCli(["exec-env", "nope.yaml", "touch ran"], { cwd: dir })
        expect(r.code).toBe(100)
        expect(r.stderr).toBe(`secrets: error: "nope.yaml" does not exist\n`)
        expect(existsSync(join(dir, "ran"))).toBe(false)
    })
})

describe("exec-file", () => {
    const PLAIN = `password: ${SECRET}\nport: 5432\nratio: 1.0\nflag: true\n`

    it("hands the plaintext through a 0600 FIFO by default", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-file", "s.yaml", "cat {}"], { cwd: dir, env })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(PLAIN.replace("ratio: 1.0", "ratio: 1"))
        const kind = await runCli(["exec-file", "s.yaml", "test -p {} && stat -c %a {} && echo {} > path.txt"], { cwd: dir, env })
        expect(kind.code).toBe(0)
        expect(kind.stdout).toBe("600\n")
        const p = recorded(dir)
        expect(p.endsWith("/tmp-file")).toBe(true)
        expect(existsSync(dirname(p))).toBe(false)
    })

    it("--no-fifo: a 0600 regular file in a 0700 dir during the command, gone afterwards", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-file", "--no-fifo", "s.yaml", "test -f {} && stat -c %a {} && stat -c %a $(dirname {}) && cat {} && echo {} > path.txt"], {
            cwd: dir,
            env,
        })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe("600\n700\n" + PLAIN.replace("ratio: 1.0", "ratio: 1"))
        const p = recorded(dir)
        expect(existsSync(p)).toBe(false)
        expect(existsSync(dirname(p))).toBe(false)
    })

    it("--filename names the file; a path is refused before anything is decrypted", async () => {
        const { dir, env } = await project()
        const ok = await runCli(["exec-file", "--filename", "app.yaml", "s.yaml", "echo {} > path.txt"], { cwd: dir, env })
        expect(ok.code).toBe(0)
        expect(recorded(dir).endsWith("/app.yaml")).toBe(true)
        for (const bad of ["../x", "a/b", "/etc/passwd", ".."]) {
            const r = await runCli(["exec-file", "--filename", bad, "s.yaml", "touch ran"], { cwd: dir, env })
            expect(r.code).toBe(1)
            expect(r.stderr).toBe(
                `secrets: error: --filename must be a plain file name, not ${JSON.stringify(bad)}\n` +
                    `secrets: hint: give a name without "/" such as tmp-file or config.yaml; the directory is always a private temporary one\n`,
            )
            expect(existsSync(join(dir, "ran"))).toBe(false)
        }
    })

    it("--output-type json converts the plaintext", async () => {
        const { dir, env } = await project()
        const r = await runCli(["exec-file", "--output-type", "json", "s.yaml", "cat {}"], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(`{\n\t"password": "${SECRET}",\n\t"port": 5432,\n\t"ratio": 1,\n\t"flag": true\n}\n`)
    })

    it("a failing command: its exit code, and the directory gone (FIFO and file)", async () => {
        const { dir, env } = await project()
        for (const flags of [[], ["--no-fifo"]]) {
            const r = await runCli(["exec-file", ...flags, "s.yaml", "echo {} > path.txt; exit 3"], { cwd: dir, env })
            expect(r.code).toBe(3)
            expect(r.stderr).toBe("")
            expect(existsSync(dirname(recorded(dir)))).toBe(false)
        }
        const sig = await runCli(["exec-file", "s.yaml", "echo {} > path.txt; kill -TERM $$"], { cwd: dir, env })
        expect(sig.code).toBe(143)
        expect(existsSync(dirname(recorded(dir)))).toBe(false)
    })

    it("does not hang when the command never reads the FIFO, nor when it reads only part", async () => {
        const { dir, env } = await project(`big: ${"x".repeat(300_000)}\n`)
        // A hang shows as the test's timeout; nothing here reads a clock.
        const none = await runCli(["exec-file", "s.yaml", "echo {} > path.txt"], { cwd: dir, env })
        expect(none.code).toBe(0)
        expect(none.stderr).toBe("")
        expect(existsSync(dirname(recorded(dir)))).toBe(false)
        const part = await runCli(["exec-file", "s.yaml", "head -c 5 {}"], { cwd: dir, env })
        expect(part.code).toBe(0)
        expect(part.stdout).toBe("big: ")
        expect(part.stderr).toBe("")
        const all = await runCli(["exec-file", "s.yaml", "wc -c < {}"], { cwd: dir, env })
        expect(all.stdout.trim()).toBe(String(300_000 + 6))
    })

    it("SIGTERM to secrets reaches the command, and the directory is removed", async () => {
        const { dir, env } = await project()
        const child = spawn(process.execPath, [BIN, "exec-file", "--no-fifo", "s.yaml", "echo {} > path.txt; exec sleep 20"], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
            stdio: ["ignore", "ignore", "pipe"],
        })
        let stderr = ""
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
        const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)))
        await until(() => existsSync(join(dir, "path.txt")))
        const p = recorded(dir)
        expect(existsSync(p)).toBe(true)
        child.kill("SIGTERM")
        expect(await exited).toBe(143)
        expect(existsSync(dirname(p))).toBe(false)
        expect(stderr).toBe("")
    })

    it("rejects --user and --background clearly", async () => {
        const { dir, env } = await project()
        const user = await runCli(["exec-file", "--user", "nobody", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(user.code).toBe(1)
        expect(user.stderr).toContain("secrets: error: exec-file --user is not supported")
        const bg = await runCli(["exec-file", "--background", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(bg.code).toBe(1)
        expect(bg.stderr).toContain("secrets: error: exec-file --background is not supported")
        expect(existsSync(join(dir, "ran"))).toBe(false)
    })

    it("a tampered value exits 25 (sops' ErrorDecryptingTree) without running the command", async () => {
        const { dir, env } = await project()
        const f = join(dir, "s.yaml")
        const text = readFileSync(f, "utf8")
        // Swap two base64 characters of the first value's ciphertext.
        const tampered = text.replace(/(password: ENC\[AES256_GCM,data:)(.)(.)/, (_m, a: string, b: string, c: string) => a + (b === c ? (b === "A" ? "B" : "A") + c : c + b))
        expect(tampered).not.toBe(text)
        writeFileSync(f, tampered)
        const r = await runCli(["exec-file", "s.yaml", "touch ran"], { cwd: dir, env })
        expect(r.code).toBe(25)
        expect(r.stderr).not.toContain(SECRET)
        expect(existsSync(join(dir, "ran"))).toBe(false)
    })
})
