/**
 * Issue 15 §2 with real git: `secrets git diff-text` as the textconv of a `secrets`
 * diff driver. A reader's `git log -p` / `git diff` shows plaintext values, a
 * recipient added and a rotated data key; a non-reader's shows the ciphertext; a
 * plain file under the attribute shows as it is; and nothing leaves plaintext on
 * disk (git's temp dir, the repository, refs/notes).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { armor, Encrypter } from "age-encryption"
import { filesUnder } from "../helpers/files-under.js"

const OLD = "hunter2-old-value"
const NEW = "s3cr3t-new-value"


describe("secrets git diff-text (textconv) under real git", () => {
    it("reader sees values, recipients and data key changes; non-reader sees ciphertext; no plaintext on disk", { timeout: 120_000 }, async () => {
        const root = tempDir()
        const repo = join(root, "repo")
        const gitTmp = join(root, "gittmp")
        const home = join(root, "home")
        mkdirSync(repo)
        mkdirSync(gitTmp)
        mkdirSync(home)
        const alice = ageKeygen(root, "alice")
        const web1 = ageKeygen(root, "web1")
        const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), TMPDIR: gitTmp, GIT_CONFIG_NOSYSTEM: "1" }
        const reader = { ...baseEnv, SOPS_AGE_KEY_FILE: alice.file }
        const git = (args: string[], env: Record<string, string> = reader) => execFileSync("git", args, { cwd: repo, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        const cli = async (args: string[]) => {
            const r = await runCli(args, { cwd: repo, home, env: { SOPS_AGE_KEY_FILE: alice.file } })
            expect(r.code, r.stderr).toBe(0)
        }
        const config = (recipients: string) =>
            `keys:\n  - &user_alice ${alice.recipient}\n  - &host_web1 ${web1.recipient}\ncreation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [${recipients}]\n`

        git(["init", "-q"])
        git(["config", "user.email", "t@example.com"])
        git(["config", "user.name", "t"])
        git(["config", "diff.secrets.textconv", `"${process.execPath}" "${BIN}" git diff-text`])
        writeFileSync(join(repo, ".gitattributes"), "*.yaml diff=secrets\n")
        writeFileSync(join(repo, ".sops.yaml"), config("*user_alice"))
        writeFileSync(join(repo, "app.yaml"), `db:\n  password: ${OLD}\n`)
        await cli(["encrypt", "-i", "app.yaml"])
        writeFileSync(join(repo, "notes.yaml"), "plain: first\n")
        git(["add", "."])
        git(["commit", "-qm", "one"])
        await cli(["set", "app.yaml", '["db"]["password"]', JSON.stringify(NEW)])
        writeFileSync(join(repo, "notes.yaml"), "plain: second\n")
        git(["commit", "-qam", "two"])

        // The reader: values in plaintext, under the header; the plain file as it is.
        const log = git(["log", "-p", "-1"])
        expect(log).toContain(`-    password: ${OLD}\n+    password: ${NEW}\n`)
        expect(log).toMatch(/^ # sops: recipients: user alice\n # sops: data key [0-9a-f]{8}\n db:\n/m)
        expect(log).not.toContain("ENC[")
        expect(log).toContain("-plain: first\n+plain: second\n")
        expect(git(["diff", "HEAD~1", "--", "app.yaml"])).toContain(`+    password: ${NEW}\n`)

        // A non-reader (no identity anywhere): the encrypted text, never a value; git succeeds.
        const outsider = git(["diff", "HEAD~1"], baseEnv)
        expect(outsider).toMatch(/^\+ {4}password: ENC\[AES256_GCM,/m)
        expect(outsider).not.toContain(NEW)
        expect(outsider).not.toContain(OLD)
        expect(outsider).not.toContain("# sops:")

        // A recipient added by updatekeys: one + line naming it from .sops.yaml.
        writeFileSync(join(repo, ".sops.yaml"), config("*user_alice, *host_web1"))
        await cli(["updatekeys", "-y", "app.yaml"])
        git(["commit", "-qam", "three"])
        const added = git(["show", "HEAD", "--", "app.yaml"])
        expect(added.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l))).toEqual(["+# sops: recipients: host web1"])

        // A rotation: only the data key id line changes (values are the same).
        await cli(["rotate", "-i", "app.yaml"])
        git(["commit", "-qam", "four"])
        const rotated = git(["show", "HEAD", "--", "app.yaml"])
        const changed = rotated.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l))
        expect(changed).toHaveLength(2)
        expect(changed[0]).toMatch(/^-# sops: data key [0-9a-f]{8}$/)
        expect(changed[1]).toMatch(/^\+# sops: data key [0-9a-f]{8}$/)
        expect(changed[0]!.slice(1)).not.toBe(changed[1]!.slice(1))

        // Nothing written in plaintext: git's temp dir is empty again, the work tree
        // holds no value outside the encrypted file, and no textconv cache exists.
        expect(readdirSync(gitTmp)).toEqual([])
        for (const f of filesUnder(repo)) {
            const text = readFileSync(f, "latin1")
            expect(text.includes(OLD) || text.includes(NEW), f).toBe(false)
        }
        expect(git(["for-each-ref", "refs/notes"])).toBe("")
    })
})

describe("secrets git diff-text outside git", () => {
    it("a JSON file without an extension gets a // header; a file whose MAC fails shows encrypted, with a warning", { timeout: 60_000 }, async () => {
        const dir = tempDir()
        const alice = ageKeygen(dir, "alice")
        const env = { SOPS_AGE_KEY_FILE: alice.file }
        writeFileSync(join(dir, "app.json"), JSON.stringify({ token: OLD }))
        const enc = await runCli(["encrypt", "--age", alice.recipient, "app.json"], { cwd: dir, env })
        expect(enc.code, enc.stderr).toBe(0)
        writeFileSync(join(dir, "app"), enc.stdout)
        const shown = await runCli(["git", "diff-text", "app"], { cwd: dir, env })
        expect(shown.code, shown.stderr).toBe(0)
        expect(shown.stdout).toMatch(new RegExp(`^// sops: recipients: ${alice.recipient.slice(0, 12)}\n// sops: data key [0-9a-f]{8}\n\\{\n\t"token": "${OLD}"\n\\}\n$`))

        // The MAC no longer matches (a value removed by hand): the text as it is, said on stderr.
        const tampered = enc.stdout.replace(/\t"token": "ENC\[[^"]*\]",\n/, "")
        expect(tampered).not.toBe(enc.stdout)
        writeFileSync(join(dir, "bad.json"), tampered)
        const bad = await runCli(["git", "diff-text", "bad.json"], { cwd: dir, env })
        expect(bad.code).toBe(0)
        expect(bad.stdout).toBe(tampered)
        expect(bad.stderr).toMatch(/^secrets: warning: "bad\.json": .*MAC.*; showing the encrypted text\n/)
    })

    it.skipIf(!hasTmux())("at a terminal, a key that only a passphrase opens is not asked for: the encrypted text shows", { timeout: 120_000 }, async () => {
        const dir = tempDir()
        const alice = ageKeygen(dir, "alice")
        const e = new Encrypter()
        e.setPassphrase("correct horse")
        e.setScryptWorkFactor(10)
        writeFileSync(join(dir, "locked.txt"), armor.encode(await e.encrypt(alice.text)))
        writeFileSync(join(dir, "app.yaml"), `a: ${OLD}\n`)
        const enc = await runCli(["encrypt", "--age", alice.recipient, "app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(enc.code, enc.stderr).toBe(0)
        writeFileSync(join(dir, "enc.yaml"), enc.stdout)
        const tty = new Tty(dir, `cd ${dir} && HOME=${dir} SOPS_AGE_KEY_FILE=${join(dir, "locked.txt")} "${process.execPath}" "${BIN}" git diff-text enc.yaml > out.txt`)
        try {
            expect(await exitOf(dir)).toBe("exit=0")
        } finally {
            tty.kill()
        }
        expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe(enc.stdout)
    })
})
