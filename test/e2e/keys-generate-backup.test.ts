/**
 * `secrets keys generate`, `keys backup` and `keys restore`, run as the built binary,
 * cross-checked with Debian's age, age-keygen and ssh-keygen.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Decrypter, armor } from "age-encryption"
import { describe, expect, it } from "vitest"

import { buildBackupPayload, sealBackup } from "../../src/fleet/backup.js"
import { sshEd25519ToAgeRecipient } from "../../src/keys/ssh-to-age.js"
import { BIN, runCli } from "../helpers/cli.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const NOW = "2025-03-04T05:06:07Z"
const PASS = "correct horse battery staple"

function keysTxt(home: string): string {
    return join(home, ".config", "sops", "age", "keys.txt")
}

function mode(path: string): number {
    return statSync(path).mode & 0o777
}

function identityLines(text: string): string[] {
    return text.split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-"))
}

describe("keys generate", () => {
    it("writes an age-keygen style file with --output (0600) whose recipient age-keygen agrees with", async () => {
        const dir = tempDir()
        const r = await runCli(["keys", "generate", "--output", "id.txt"], { cwd: dir, env: { SECRETS_NOW: NOW } })
        expect(r.code).toBe(0)
        const file = join(dir, "id.txt")
        expect(mode(file)).toBe(0o600)
        const recipient = run("age-keygen", ["-y", file]).toString().trim()
        expect(r.stdout).toBe(`${recipient}\n`)
        expect(r.stderr).toBe(`secrets: wrote the identity to "id.txt" (mode 0600)\n`)
        const text = readFileSync(file, "utf8")
        expect(text).toMatch(new RegExp(`^# created: ${NOW}\\n# public key: ${recipient}\\nAGE-SECRET-KEY-1[0-9A-Z]{58}\\n$`))
        // The identity never reaches stdout or stderr.
        expect(r.stdout + r.stderr).not.toContain("AGE-SECRET-KEY")
    })

    it("refuses to overwrite an existing --output and leaves it alone", async () => {
        const dir = tempDir()
        const file = join(dir, "id.txt")
        writeFileSync(file, "precious\n")
        const r = await runCli(["keys", "generate", "-o", "id.txt"], { cwd: dir })
        expect(r.code).toBe(3)
        expect(r.stderr).toContain(`secrets: error: refusing to overwrite "${file}"`)
        expect(r.stdout).toBe("")
        expect(readFileSync(file, "utf8")).toBe("precious\n")
    })

    it("creates the default key file (dirs 0700, file 0600) and appends on the next run, keeping the old lines", async () => {
        const home = tempDir()
        const first = await runCli(["keys", "generate"], { cwd: home, home })
        expect(first.code).toBe(0)
        const path = keysTxt(home)
        expect(mode(join(home, ".config", "sops", "age"))).toBe(0o700)
        expect(mode(path)).toBe(0o600)
        const before = readFileSync(path, "utf8")
        const second = await runCli(["keys", "generate", "--json"], { cwd: home, home })
        expect(second.code).toBe(0)
        const after = readFileSync(path, "utf8")
        expect(after.startsWith(before)).toBe(true)
        expect(identityLines(after)).toHaveLength(2)
        expect(mode(path)).toBe(0o600)
        const json = JSON.parse(second.stdout) as { recipient: string; type: string; file: string }
        expect(json).toEqual({ recipient: expect.stringMatching(/^age1[0-9a-z]{58}$/), type: "x25519", file: path })
        expect(run("age-keygen", ["-y", path]).toString()).toBe(`${first.stdout}${json.recipient}\n`)
    })

    it("appends after a last line without a newline", async () => {
        const home = tempDir()
        const mine = ageKeygen(home, "mine")
        mkdirSync(join(home, ".config", "sops", "age"), { recursive: true })
        writeFileSync(keysTxt(home), mine.text.trimEnd(), { mode: 0o640 })
        const r = await runCli(["keys", "generate"], { cwd: home, home })
        expect(r.code).toBe(0)
        const text = readFileSync(keysTxt(home), "utf8")
        expect(text.startsWith(`${mine.text.trimEnd()}\n# created: `)).toBe(true)
        // An identity file keeps at most its owner's bits: a group-readable one is made
        // private (issue 10 §6), and never widened.
        expect(mode(keysTxt(home))).toBe(0o600)
        expect(run("age-keygen", ["-y", keysTxt(home)]).toString()).toBe(`${mine.recipient}\n${r.stdout}`)
    })

    it("--pq makes a hybrid identity that encrypts and decrypts a sops file", async () => {
        const dir = tempDir()
        const g = await runCli(["keys", "generate", "--pq", "-o", "pq.txt", "--json"], { cwd: dir })
        expect(g.code).toBe(0)
        const { recipient, type } = JSON.parse(g.stdout) as { recipient: string; type: string }
        expect(type).toBe("pq")
        expect(recipient.startsWith("age1pq1")).toBe(true)
        expect(identityLines(readFileSync(join(dir, "pq.txt"), "utf8"))[0]).toMatch(/^AGE-SECRET-KEY-PQ-1/)
        writeFileSync(join(dir, "a.yaml"), "token: s3cr3t\n")
        const enc = await runCli(["encrypt", "--age", recipient, "-i", "a.yaml"], { cwd: dir })
        expect(enc.code).toBe(0)
        expect(readFileSync(join(dir, "a.yaml"), "utf8")).toContain(`recipient: ${recipient}`)
        const dec = await runCli(["decrypt", "a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: join(dir, "pq.txt") } })
        expect(dec.code).toBe(0)
        expect(dec.stdout).toBe("token: s3cr3t\n")
    })

    it("--ssh derives the ssh-to-age identity of an ssh-keygen ed25519 key; Debian age agrees both ways", async () => {
        const dir = tempDir()
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", join(dir, "host_key")])
        const pub = readFileSync(join(dir, "host_key.pub"), "utf8")
        const g = await runCli(["keys", "generate", "--ssh", "host_key", "-o", "host.txt"], { cwd: dir, env: { SECRETS_NOW: NOW } })
        expect(g.code).toBe(0)
        const recipient = sshEd25519ToAgeRecipient(pub)
        expect(g.stdout).toBe(`${recipient}\n`)
        expect(readFileSync(join(dir, "host.txt"), "utf8")).toMatch(
            new RegExp(`^# created: ${NOW}\\n# derived from ssh key: ${join(dir, "host_key")}\\n# public key: ${recipient}\\nAGE-SECRET-KEY-1`),
        )
        expect(run("age-keygen", ["-y", join(dir, "host.txt")]).toString()).toBe(`${recipient}\n`)
        // Encrypted by Debian age to the converted recipient, opened with the derived identity (by age and by typage).
        const ct = run("age", ["-r", recipient], { input: "for the host\n" })
        expect(run("age", ["-d", "-i", join(dir, "host.txt")], { input: ct }).toString()).toBe("for the host\n")
        const d = new Decrypter()
        d.addIdentity(identityLines(readFileSync(join(dir, "host.txt"), "utf8"))[0] ?? "")
        expect(await d.decrypt(ct, "text")).toBe("for the host\n")
    })

    it("--ssh with a non-ed25519 key, a missing file, or with --pq is a clear error and writes nothing", async () => {
        const dir = tempDir()
        run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", join(dir, "rsa")])
        const rsa = await runCli(["keys", "generate", "--ssh", "rsa", "-o", "x.txt"], { cwd: dir })
        expect(rsa.code).toBe(1)
        expect(rsa.stderr).toBe(`secrets: error: "rsa": only ssh-ed25519 keys can be converted to age keys\n`)
        const missing = await runCli(["keys", "generate", "--ssh", "nope", "-o", "x.txt"], { cwd: dir })
        expect(missing.code).toBe(2)
        const both = await runCli(["keys", "generate", "--ssh", "rsa", "--pq", "-o", "x.txt"], { cwd: dir })
        expect(both.code).toBe(8)
        expect(existsSync(join(dir, "x.txt"))).toBe(false)
        expect(existsSync(keysTxt(dir))).toBe(false)
    })
})

/** A home with a default key file of two identities and an extra key file. */
function homeWithKeys() {
    const home = tempDir()
    mkdirSync(join(home, ".config", "sops", "age"), { recursive: true, mode: 0o700 })
    const a = ageKeygen(home, "a")
    const b = ageKeygen(home, "b")
    const extra = ageKeygen(home, "extra")
    writeFileSync(keysTxt(home), a.text + b.text, { mode: 0o600 })
    return { home, recipients: [a.recipient, b.recipient, extra.recipient], extra: extra.file }
}

/**
 * What `keys backup -o b.age` writes for `home` (the same payload function), sealed
 * at scrypt work factor 2^10 instead of 2^18: for the restore cases after the
 * round trip, which is the one that runs `keys backup` itself. Each 2^18
 * derivation costs seconds of CPU; restore takes any factor age accepts.
 */
async function lightBackup(home: string): Promise<string> {
    const payload = buildBackupPayload([{ path: keysTxt(home), text: readFileSync(keysTxt(home), "utf8") }], new Date(NOW))
    const file = join(home, "b.age")
    writeFileSync(file, await sealBackup(payload, PASS, 10), { mode: 0o600 })
    return file
}

describe("keys backup and restore", () => {
    it("round-trips the default key file and --key-file into a fresh home, and a second restore adds nothing", async () => {
        const { home, recipients, extra } = homeWithKeys()
        const env = { SECRETS_BACKUP_PASSPHRASE: PASS, SECRETS_NOW: NOW }
        const b = await runCli(["keys", "backup", "--output", "backup.age", "--key-file", extra], { cwd: home, home, env })
        expect(b.code).toBe(0)
        const backup = join(home, "backup.age")
        expect(mode(backup)).toBe(0o600)
        const armored = readFileSync(backup, "utf8")
        expect(armored).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+\n-----END AGE ENCRYPTED FILE-----\n$/)
        expect(armored).not.toContain("AGE-SECRET-KEY")
        const bin = armor.decode(armored)
        expect(Buffer.from(bin.subarray(0, 40)).toString("latin1")).toMatch(/^age-encryption\.org\/v1\n-> scrypt /)
        // The payload is documented: the v1 header, then the key files.
        const d = new Decrypter()
        d.addPassphrase(PASS)
        const payload = await d.decrypt(bin, "text")
        expect(payload.startsWith(`# secrets identity backup v1\n# created: ${NOW}\n# source: ${keysTxt(home)}\n`)).toBe(true)
        expect(payload).toContain(`# source: ${extra}\n`)

        const fresh = tempDir()
        const r1 = await runCli(["keys", "restore", backup], { cwd: fresh, home: fresh, env })
        expect(r1.code).toBe(0)
        expect(r1.stdout).toBe(recipients.map((r) => `${r}\n`).join(""))
        expect(r1.stderr).toBe(`secrets: restored 3 identities into "${keysTxt(fresh)}", 0 already present\n`)
        expect(mode(keysTxt(fresh))).toBe(0o600)
        expect(mode(join(fresh, ".config", "sops", "age"))).toBe(0o700)
        expect(run("age-keygen", ["-y", keysTxt(fresh)]).toString()).toBe(recipients.map((r) => `${r}\n`).join(""))
        const restored = readFileSync(keysTxt(fresh), "utf8")

        const r2 = await runCli(["keys", "restore", backup], { cwd: fresh, home: fresh, env })
        expect(r2.code).toBe(0)
        expect(r2.stdout).toBe("")
        expect(r2.stderr).toBe(`secrets: restored 0 identities into "${keysTxt(fresh)}", 3 already present\n`)
        expect(readFileSync(keysTxt(fresh), "utf8")).toBe(restored)
    })

    it("restore merges into an existing --output without touching its lines", async () => {
        const { home, recipients } = homeWithKeys()
        const env = { SECRETS_BACKUP_PASSPHRASE: PASS }
        await lightBackup(home)
        const other = tempDir()
        const mine = ageKeygen(other, "mine")
        const target = join(other, "keys.txt")
        writeFileSync(target, mine.text + readFileSync(keysTxt(home), "utf8").split("\n").slice(0, 3).join("\n") + "\n")
        const before = readFileSync(target, "utf8")
        const r = await runCli(["keys", "restore", join(home, "b.age"), "--output", target], { cwd: other, home: other, env })
        expect(r.code).toBe(0)
        expect(r.stderr).toBe(`secrets: restored 1 identity into "${target}", 1 already present\n`)
        const after = readFileSync(target, "utf8")
        expect(after.startsWith(before)).toBe(true)
        expect(run("age-keygen", ["-y", target]).toString()).toBe(`${mine.recipient}\n${recipients[0]}\n${recipients[1]}\n`)
    })

    it("a wrong passphrase is exit 1 and writes nothing", async () => {
        const { home } = homeWithKeys()
        await lightBackup(home)
        const fresh = tempDir()
        const r = await runCli(["keys", "restore", join(home, "b.age")], { cwd: fresh, home: fresh, env: { SECRETS_BACKUP_PASSPHRASE: "wrong" } })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            `secrets: error: "${join(home, "b.age")}": incorrect passphrase\nsecrets: hint: nothing was written; try again with the passphrase used for the backup\n`,
        )
        expect(existsSync(join(fresh, ".config"))).toBe(false)
    })

    it("refuses to overwrite a backup, to run without a passphrase off a terminal, and to back up nothing", async () => {
        const { home } = homeWithKeys()
        writeFileSync(join(home, "old.age"), "old\n")
        const over = await runCli(["keys", "backup", "-o", "old.age"], { cwd: home, home, env: { SECRETS_BACKUP_PASSPHRASE: PASS } })
        expect(over.code).toBe(3)
        expect(readFileSync(join(home, "old.age"), "utf8")).toBe("old\n")
        const nopass = await runCli(["keys", "backup", "-o", "new.age"], { cwd: home, home })
        expect(nopass.code).toBe(1)
        expect(nopass.stderr).toContain("secrets: error: no passphrase: not at a terminal and SECRETS_BACKUP_PASSPHRASE is not set\n")
        expect(existsSync(join(home, "new.age"))).toBe(false)
        const empty = tempDir()
        const none = await runCli(["keys", "backup", "-o", "new.age"], { cwd: empty, home: empty, env: { SECRETS_BACKUP_PASSPHRASE: PASS } })
        expect(none.code).toBe(1)
        expect(none.stderr).toContain(`secrets: error: no local identities to back up: "${keysTxt(empty)}" does not exist\n`)
        expect(existsSync(join(empty, "new.age"))).toBe(false)
    })
})

describe.skipIf(!hasTmux())("passphrases at a terminal", () => {
    const env = (home: string) => `HOME='${home}' XDG_CONFIG_HOME='${home}/.config' PATH='${process.env.PATH ?? "/usr/bin:/bin"}'`

    it("mismatched passphrases are refused and nothing is written", async () => {
        const { home } = homeWithKeys()
        const tty = new Tty(home, `cd '${home}' && ${env(home)} '${process.execPath}' '${BIN}' keys backup -o b.age`)
        try {
            await tty.waitFor(/passphrase for the backup/)
            tty.type("first passphrase")
            await tty.waitFor(/the same passphrase again/)
            tty.type("second passphrase")
            expect(await exitOf(home)).toBe("exit=1")
            expect(tty.screen()).toContain("secrets: error: the passphrases do not match: nothing written")
            expect(tty.screen()).not.toContain("first passphrase")
            expect(existsSync(join(home, "b.age"))).toBe(false)
        } finally {
            tty.kill()
        }
    })

    it("a backup typed at the terminal is opened by Debian age -d with the passphrase", async () => {
        const { home } = homeWithKeys()
        const tty = new Tty(home, `cd '${home}' && ${env(home)} '${process.execPath}' '${BIN}' keys backup -o b.age && age -d -o out.txt b.age`)
        try {
            await tty.waitFor(/passphrase for the backup/)
            tty.type(PASS)
            await tty.waitFor(/the same passphrase again/)
            tty.type(PASS)
            await tty.waitFor(/Enter passphrase/)
            tty.type(PASS)
            expect(await exitOf(home)).toBe("exit=0")
            const out = readFileSync(join(home, "out.txt"), "utf8")
            expect(out.startsWith("# secrets identity backup v1\n")).toBe(true)
            // The decrypted payload is itself a key file Debian age accepts.
            expect(run("age-keygen", ["-y", join(home, "out.txt")]).toString()).toBe(run("age-keygen", ["-y", keysTxt(home)]).toString())
        } finally {
            tty.kill()
        }
    })
})
