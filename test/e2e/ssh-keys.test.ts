/**
 * SSH private keys as decryption identities, through the built binary: a
 * passphrase-protected key asked for at a real terminal (tmux) only when the file
 * is encrypted to it, the clear exit-128 error without a terminal, and the X25519
 * twin of an ed25519 host key (files encrypted to its ssh-to-age recipient).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { sshEd25519ToAgeRecipient } from "../../src/keys/ssh-to-age.js"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"

const SECRET = "ssh-guarded-value-never-printed"
const PASS = "a long ssh passphrase"

/** A home with a passphrase-protected ~/.ssh/id_ed25519 and a file encrypted to it (and optionally to `also`). */
async function homeWithLockedKey(also?: string) {
    const home = tempDir()
    mkdirSync(join(home, ".ssh"), { mode: 0o700 })
    const key = join(home, ".ssh", "id_ed25519")
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", PASS, "-C", "me@laptop", "-f", key])
    const pub = readFileSync(`${key}.pub`, "utf8").trim()
    writeFileSync(join(home, "app.yaml"), `password: ${SECRET}\n`)
    const recipients = also === undefined ? pub : `${pub},${also}`
    const enc = await runCli(["encrypt", "-i", "--age", recipients, "app.yaml"], { cwd: home })
    expect(enc.stderr).toBe("")
    expect(enc.code).toBe(0)
    return { home, key, pub }
}

describe("a passphrase-protected ~/.ssh/id_ed25519", () => {
    it("without a terminal: exit 128, and the error says the key needs a terminal", async () => {
        const { home, key } = await homeWithLockedKey()
        const r = await runCli(["decrypt", "app.yaml"], { cwd: home })
        expect(r.code).toBe(128)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain(`secrets: hint: ${key} is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal\n`)
        expect(r.stderr).toContain(`${key} (ssh-ed25519 key, passphrase-protected)`)
        expect(r.stderr).not.toContain(SECRET)
    })

    it("is never asked for, and never warned about, when another identity opens the file", async () => {
        const ci = ageKeygen(tempDir(), "ci")
        const { home } = await homeWithLockedKey(ci.recipient)
        const r = await runCli(["decrypt", "app.yaml"], { cwd: home, env: { SOPS_AGE_KEY_FILE: ci.file } })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(`password: ${SECRET}\n`)
    })
})

describe.skipIf(!hasTmux())("at a terminal", () => {
    const env = (home: string) => `HOME='${home}' XDG_CONFIG_HOME='${home}/.config' PATH='${process.env.PATH ?? "/usr/bin:/bin"}'`

    it("asks once on stderr, and the decrypted file goes to stdout untouched", async () => {
        const { home, key } = await homeWithLockedKey()
        const tty = new Tty(home, `cd '${home}' && ${env(home)} '${process.execPath}' '${BIN}' decrypt app.yaml > out.yaml`)
        try {
            await tty.waitFor(new RegExp(`passphrase for ${key.replaceAll("/", "\\/")}`))
            tty.type(PASS)
            expect(await exitOf(home)).toBe("exit=0")
            expect(readFileSync(join(home, "out.yaml"), "utf8")).toBe(`password: ${SECRET}\n`)
            expect(tty.screen()).not.toContain(PASS)
        } finally {
            tty.kill()
        }
    })

    it("a wrong passphrase: exit 128 naming the key, and nothing decrypted", async () => {
        const { home, key } = await homeWithLockedKey()
        const tty = new Tty(home, `cd '${home}' && ${env(home)} '${process.execPath}' '${BIN}' decrypt app.yaml > out.yaml`)
        try {
            await tty.waitFor(/passphrase for/)
            tty.type("not it")
            expect(await exitOf(home)).toBe("exit=128")
            await tty.waitFor(/incorrect passphrase/)
            expect(tty.screen()).toContain(`secrets: hint: ${key}: incorrect passphrase`)
            expect(readFileSync(join(home, "out.yaml"), "utf8")).toBe("")
        } finally {
            tty.kill()
        }
    })
})

describe("keys generate --ssh with a passphrase-protected key", () => {
    it("without a terminal: a clear error, nothing written", async () => {
        const { home, key } = await homeWithLockedKey()
        const r = await runCli(["keys", "generate", "--ssh", key, "-o", "derived.txt"], { cwd: home })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(`secrets: error: "${key}" is protected by a passphrase and there is no terminal to ask for it\nsecrets: hint: run the command in a terminal\n`)
        expect(existsSync(join(home, "derived.txt"))).toBe(false)
    })

    it.skipIf(!hasTmux())("at a terminal: asks, and writes the identity of the age1 recipient ssh-to-age gives", async () => {
        const { home, key, pub } = await homeWithLockedKey()
        const tty = new Tty(home, `cd '${home}' && HOME='${home}' '${process.execPath}' '${BIN}' keys generate --ssh '${key}' -o derived.txt`)
        try {
            await tty.waitFor(/passphrase for/)
            tty.type(PASS)
            expect(await exitOf(home)).toBe("exit=0")
        } finally {
            tty.kill()
        }
        expect(run("age-keygen", ["-y", join(home, "derived.txt")]).toString()).toBe(`${sshEd25519ToAgeRecipient(pub)}\n`)
    })
})

describe("an ed25519 host key and its ssh-to-age recipient", () => {
    it("SOPS_AGE_SSH_PRIVATE_KEY_FILE opens a file encrypted to the converted age1 recipient, without a terminal", async () => {
        const dir = tempDir()
        const hostKey = join(dir, "ssh_host_ed25519_key")
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@web1", "-f", hostKey])
        // As `keys add-host --ssh-host-key … --to-age` records it (checked against Debian age in keys-generate-backup).
        const recipient = sshEd25519ToAgeRecipient(readFileSync(`${hostKey}.pub`, "utf8"))
        writeFileSync(join(dir, "db.env"), `DB_PASSWORD=${SECRET}\n`)
        const enc = await runCli(["encrypt", "-i", "--age", recipient, "db.env"], { cwd: dir })
        expect(enc.code).toBe(0)
        const r = await runCli(["decrypt", "db.env"], { cwd: dir, home: tempDir(), env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: hostKey } })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(`DB_PASSWORD=${SECRET}\n`)
    })
})
