/**
 * exec-env, exec-file and edit safe by default (issue 10 §5), through the built
 * binary with real children: a value that was not decrypted never sets PATH,
 * LD_PRELOAD and the like, nulls are left out, and neither the command nor the
 * editor inherits the identity variables unless --pass-identity-env.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const SECRET = "t0ken-never-printed"
const OUR_PATH = process.env.PATH ?? "/usr/bin:/bin"

/** `env` output as a map. */
function parseEnv(out: string): Record<string, string> {
    const vars: Record<string, string> = {}
    for (const line of out.split("\n")) {
        const i = line.indexOf("=")
        if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1)
    }
    return vars
}

/** `s.yaml` with `plain`, encrypted for a fresh key by `secrets [globalArgs] encrypt [encryptArgs]`. */
async function project(plain: string, encryptArgs: string[] = [], globalArgs: string[] = []) {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, "s.yaml"), plain)
    const enc = await runCli([...globalArgs, "encrypt", "--age", key.recipient, ...encryptArgs, "-i", "s.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
    expect([enc.code, enc.stderr]).toEqual([0, ""])
    return { dir, key, env: { SOPS_AGE_KEY_FILE: key.file } }
}

describe("exec-env: values that were not decrypted", () => {
    it("under mac_only_encrypted, clear PATH, LD_PRELOAD and BASH_ENV are left out with a warning; other clear values and encrypted ones are set", async () => {
        const { dir, env } = await project(
            `API_TOKEN: ${SECRET}\nPATH: /tmp/evil-bin\nLD_PRELOAD: /tmp/evil.so\nBASH_ENV: /tmp/evil.sh\nNODE_ENV: production\nnothing: null\n`,
            ["--encrypted-regex", "^API_TOKEN$"],
            ["--mac-only-encrypted"],
        )
        // Anyone can change a clear value of this file: the MAC does not cover it.
        const f = join(dir, "s.yaml")
        writeFileSync(f, readFileSync(f, "utf8").replace("PATH: /tmp/evil-bin", "PATH: /tmp/other-evil-bin"))
        const r = await runCli(["exec-env", "s.yaml", "/usr/bin/env"], { cwd: dir, env })
        expect(r.code).toBe(0)
        const vars = parseEnv(r.stdout)
        expect(vars.PATH).toBe(OUR_PATH)
        expect(vars.LD_PRELOAD).toBeUndefined()
        expect(vars.BASH_ENV).toBeUndefined()
        expect(vars.nothing).toBeUndefined()
        expect(vars.NODE_ENV).toBe("production")
        expect(vars.API_TOKEN).toBe(SECRET)
        const warnings = r.stderr.trimEnd().split("\n")
        expect(warnings).toEqual([
            expect.stringMatching(/^secrets: warning: "s\.yaml": "PATH" was left out of the environment: it changes how the shell .*; encrypt the value to pass it$/),
            expect.stringMatching(/^secrets: warning: "s\.yaml": "LD_PRELOAD" was left out .*which libraries every program loads/),
            expect.stringMatching(/^secrets: warning: "s\.yaml": "BASH_ENV" was left out /),
            `secrets: warning: "s.yaml": "nothing" is null and was left out of the environment`,
        ])
        expect(r.stderr).not.toContain("evil")
        expect(r.stderr).not.toContain(SECRET)
    })

    it('PATH: "" added to a file passes the MAC, but no longer makes the shell run ./PROGRAM', async () => {
        const { dir, env } = await project(`password: ${SECRET}\n`)
        const f = join(dir, "s.yaml")
        // An empty value is stored unencrypted and hashes nothing; key names are not hashed at all.
        writeFileSync(f, `PATH: ""\n${readFileSync(f, "utf8")}`)
        const check = await runCli(["decrypt", "s.yaml"], { cwd: dir, env })
        expect([check.code, check.stdout]).toEqual([0, `PATH: ""\npassword: ${SECRET}\n`])
        // With PATH="" dash looks in the current directory: this would run.
        writeFileSync(join(dir, "deploy"), `#!/bin/sh\ntouch '${join(dir, "pwned")}'\n`)
        chmodSync(join(dir, "deploy"), 0o755)
        const r = await runCli(["exec-env", "s.yaml", `deploy; printf '%s' "$PATH"`], { cwd: dir, env })
        expect(existsSync(join(dir, "pwned"))).toBe(false)
        expect(r.stdout).toBe(OUR_PATH)
        expect(r.stderr).toContain(`secrets: warning: "s.yaml": "PATH" was left out of the environment`)
    })

    it("an encrypted PATH is set: it was written by someone holding the data key", async () => {
        const { dir, env } = await project(`PATH: /opt/tools/bin:/usr/bin:/bin\npassword: ${SECRET}\n`)
        const r = await runCli(["exec-env", "s.yaml", `printf '%s' "$PATH"`], { cwd: dir, env })
        expect([r.code, r.stdout, r.stderr]).toEqual([0, "/opt/tools/bin:/usr/bin:/bin", ""])
    })
})

/** A real ed25519 key without a passphrase, made by ssh-keygen. */
function sshKey(dir: string): string {
    const file = join(dir, "id_ed25519")
    if (!existsSync(file)) run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file])
    return file
}

/** Our identity variables, all pointing at (or being) the key that opens the file. */
function identityEnv(p: Awaited<ReturnType<typeof project>>) {
    const secretLine = p.key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-")) ?? ""
    return {
        SOPS_AGE_KEY: secretLine,
        SOPS_AGE_KEY_FILE: p.key.file,
        SOPS_AGE_KEY_CMD: `cat ${p.key.file}`,
        SOPS_AGE_SSH_PRIVATE_KEY_FILE: sshKey(p.dir),
        OURS: "kept",
    }
}
const IDENTITY_NAMES = ["SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"]

describe("identity variables", () => {
    it("exec-env and exec-file do not pass them to the command; --pass-identity-env does", async () => {
        const p = await project(`password: ${SECRET}\n`)
        const env = identityEnv(p)
        for (const args of [
            ["exec-env", "s.yaml", "/usr/bin/env"],
            ["exec-file", "s.yaml", "/usr/bin/env; cat {} > /dev/null"],
        ]) {
            const r = await runCli(args, { cwd: p.dir, env })
            expect([r.code, r.stderr]).toEqual([0, ""])
            const vars = parseEnv(r.stdout)
            expect(vars.OURS).toBe("kept")
            for (const name of IDENTITY_NAMES) expect(vars[name]).toBeUndefined()
            expect(r.stdout).not.toContain("AGE-SECRET-KEY-")

            const [command, ...rest] = args
            const kept = await runCli([command ?? "", "--pass-identity-env", ...rest], { cwd: p.dir, env })
            expect([kept.code, kept.stderr]).toEqual([0, ""])
            const keptVars = parseEnv(kept.stdout)
            for (const name of IDENTITY_NAMES) expect(keptVars[name]).toBe(env[name as keyof typeof env])
        }
    })

    it("the file's own encrypted SOPS_AGE_KEY is still the file's to set", async () => {
        const p = await project(`SOPS_AGE_KEY: from-the-file\n`)
        const r = await runCli(["exec-env", "s.yaml", `printf '%s' "$SOPS_AGE_KEY"`], { cwd: p.dir, env: identityEnv(p) })
        expect([r.code, r.stdout]).toEqual([0, "from-the-file"])
    })

    it("the editor of edit does not get them either; --pass-identity-env gives them", async () => {
        const p = await project(`a: ${SECRET}\n`)
        const env = identityEnv(p)
        const editor = join(p.dir, "editor.sh")
        writeFileSync(editor, `#!/bin/sh\n/usr/bin/env > '${join(p.dir, "editor-env.txt")}'\nsed -i 's/^a: .*/a: changed/' "$1"\n`)
        chmodSync(editor, 0o755)
        const r = await runCli(["edit", "s.yaml"], { cwd: p.dir, env: { ...env, EDITOR: editor } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const seen = parseEnv(readFileSync(join(p.dir, "editor-env.txt"), "utf8"))
        expect(seen.OURS).toBe("kept")
        for (const name of IDENTITY_NAMES) expect(seen[name]).toBeUndefined()

        writeFileSync(editor, `#!/bin/sh\n/usr/bin/env > '${join(p.dir, "editor-env.txt")}'\nsed -i 's/^a: .*/a: again/' "$1"\n`)
        const kept = await runCli(["edit", "--pass-identity-env", "s.yaml"], { cwd: p.dir, env: { ...env, EDITOR: editor } })
        expect([kept.code, kept.stderr]).toEqual([0, ""])
        const keptVars = parseEnv(readFileSync(join(p.dir, "editor-env.txt"), "utf8"))
        for (const name of IDENTITY_NAMES) expect(keptVars[name]).toBe(env[name as keyof typeof env])
    })
})
