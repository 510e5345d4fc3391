/**
 * `status` and `status --check` on certificates stored as values (issue 16 §5),
 * in process (test/helpers/in-process.ts): certificates made by Debian's openssl
 * expiring in 10 and 100 days, files encrypted with keys from Debian's age-keygen,
 * one file the caller cannot open. The certificates' dates come from the real
 * clock (openssl's -days counts from now), so these runs do not pin SECRETS_NOW.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { BIN } from "../helpers/cli.js"

const SLOW = 120_000

function certificate(dir: string, cn: string, days: number): string {
    const out = join(dir, `${cn}.pem`)
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, `${cn}.key`), "-out", out, "-days", String(days), "-subj", `/CN=${cn}`], { stdio: "ignore" })
    return readFileSync(out, "utf8")
}

/** A YAML block scalar holding `pem` under `key`. */
function yamlBlock(key: string, pem: string): string {
    return `${key}: |\n${pem.trimEnd().split("\n").map((l) => `    ${l}`).join("\n")}\n`
}

async function makeRepo(secretsBlock: string) {
    const dir = tempDir()
    const keysDir = tempDir()
    const alice = ageKeygen(keysDir, "alice")
    const bob = ageKeygen(keysDir, "bob")
    writeFileSync(
        join(dir, ".sops.yaml"),
        [
            "creation_rules:",
            "    - path_regex: ^secrets/bob/",
            `      age: ${bob.recipient}`,
            "    - path_regex: ^secrets/",
            `      age: ${alice.recipient}`,
            secretsBlock,
        ].join("\n"),
    )
    const cli = (args: string[], env: Record<string, string> = {}) => runInProcess(args, { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file, ...env } })
    const encrypt = async (file: string, plain: string) => {
        mkdirSync(join(dir, file, ".."), { recursive: true })
        writeFileSync(join(dir, file), plain)
        const r = await cli(["encrypt", "-i", file])
        expect(r.code, r.stderr).toBe(0)
    }
    return { dir, keysDir, cli, encrypt }
}

describe("status: certificates stored as values", () => {
    it("reports the one expiring within the window and fails --check; a 7-day window passes; a file nobody here opens is not checked", { timeout: SLOW }, async () => {
        const repo = await makeRepo("secrets:\n    expiry:\n        certificate_window: 30d\n")
        await repo.encrypt("secrets/web/tls.yaml", yamlBlock("cert", certificate(repo.keysDir, "soon.example", 10)) + "name: web\n")
        await repo.encrypt("secrets/api/tls.yaml", yamlBlock("chain", certificate(repo.keysDir, "later.example", 100)))
        await repo.encrypt("secrets/bob/tls.yaml", yamlBlock("cert", certificate(repo.keysDir, "bob.example", 5)))

        const check = await repo.cli(["status", "--check"])
        expect(check.code).toBe(1)
        const lines = check.stdout.split("\n")
        expect(lines).toContain("certificates stored as values (window 30d):")
        expect(lines.find((l) => l.includes("soon.example"))).toMatch(/^secrets\/web\/tls\.yaml +\["cert"\] +CN=soon\.example +EXPIRING: expires \d{4}-\d\d-\d\d \(in (9|10) days\)$/)
        expect(lines.find((l) => l.includes("later.example"))).toMatch(/ expires \d{4}-\d\d-\d\d \(in (99|100) days\)$/)
        expect(lines.find((l) => l.startsWith("secrets/bob/tls.yaml") && l.includes("not checked"))).toMatch(/not checked: no identity$/)
        expect(check.stderr).toMatch(/secrets: warning: secrets\/web\/tls\.yaml \["cert"\]: certificate CN=soon\.example expires /)
        expect(check.stderr).not.toContain("later.example")
        expect(check.stderr).toMatch(/secrets: error: status check failed: 1 problem in 1 file\n/)
        // bob.example expires in 5 days, but nobody here can open its file: it cannot fail the check, and is said.
        expect(check.stdout).not.toContain("bob.example")

        const json = JSON.parse((await repo.cli(["status", "--json"])).stdout) as {
            ok: boolean
            certificates: { window: { days: number }; certificates: { file: string; keyPath: string; state: string; daysLeft: number }[]; notChecked: { file: string; reason: string }[] }
        }
        expect(json.ok).toBe(false)
        expect(json.certificates.window.days).toBe(30)
        expect(json.certificates.certificates.map((c) => [c.file, c.keyPath, c.state])).toEqual([
            ["secrets/api/tls.yaml", '["chain"]', "ok"],
            ["secrets/web/tls.yaml", '["cert"]', "expiring"],
        ])
        expect(json.certificates.notChecked).toEqual([{ file: "secrets/bob/tls.yaml", reason: "no identity" }])

        const week = await repo.cli(["status", "--check", "--cert-window", "7d"])
        expect(week.stderr).toBe("secrets: no rotation policy: set secrets.rotation.max_age (e.g. 90d) in .sops.yaml\n")
        expect(week.code).toBe(0)
        expect(week.stdout).toContain("(window 7d)")
        expect(week.stdout).not.toContain("EXPIRING")

        // The config's window applies when no flag is given; the flag wins over it.
        const config = readFileSync(join(repo.dir, ".sops.yaml"), "utf8")
        writeFileSync(join(repo.dir, ".sops.yaml"), config.replace("certificate_window: 30d", "certificate_window: 1w"))
        const configWeek = await repo.cli(["status", "--check"])
        expect(configWeek.code).toBe(0)
        expect(configWeek.stdout).toContain("(window 1w)")
        expect((await repo.cli(["status", "--check", "--cert-window", "30d"])).code).toBe(1)
        // A misspelt field is an error, not the default window.
        writeFileSync(join(repo.dir, ".sops.yaml"), config.replace("certificate_window: 30d", "certificate_windw: 1w"))
        const typo = await repo.cli(["status"])
        expect(typo.code).toBe(1)
        expect(typo.stderr).toBe('secrets: error: .sops.yaml: secrets.expiry has unknown field "certificate_windw"\nsecrets: hint: the field is certificate_window\n')
        writeFileSync(join(repo.dir, ".sops.yaml"), config)

        const bad = await repo.cli(["status", "--cert-window", "a month"])
        expect(bad.code).toBe(1)
        expect(bad.stderr).toBe("secrets: error: --cert-window is not a number of days (d) or weeks (w)\nsecrets: hint: e.g. 30d or 2w\n")
    })

    it("an expired certificate fails --check; without secrets.expiry, secrets.values or --cert-window status decrypts nothing", { timeout: SLOW }, async () => {
        const repo = await makeRepo("")
        await repo.encrypt("secrets/old/tls.yaml", yamlBlock("cert", certificate(repo.keysDir, "old.example", 1)))
        await repo.encrypt("secrets/old/broken.yaml", yamlBlock("cert", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
        const plain = await repo.cli(["status", "--check"])
        expect(plain.code).toBe(0)
        expect(plain.stdout).not.toContain("certificates")
        // A day from now (the clock pinned) the certificate has expired; the default window is 30d.
        const later = new Date(Date.now() + 2 * 86_400_000).toISOString()
        const expired = await repo.cli(["status", "--check", "--cert-window", "30d"], { SECRETS_NOW: later })
        expect(expired.code).toBe(1)
        expect(expired.stdout).toMatch(/CN=old\.example +EXPIRED: expired \d{4}-\d\d-\d\d\n/)
        // A block with the armour that does not parse is said, and fails the check too.
        expect(expired.stdout).toMatch(/^secrets\/old\/broken\.yaml +\["cert"\] +- +UNREADABLE: a certificate block that does not parse$/m)
        expect(expired.stderr).toMatch(/status check failed: 2 problems in 2 files\n/)
    })
})

describe("status: values under secrets.values", () => {
    it("lists expired, expiring and due values per file with why, in --json too, and --check fails on them (SECRETS_NOW pins the clock)", { timeout: SLOW }, async () => {
        const repo = await makeRepo(
            [
                "secrets:",
                "    values:",
                "        - path: '[\"db\"][\"password\"]'",
                "          rotate_every: 90d",
                "          category: database",
                "        - path: '[\"api\"][\"old\"]'",
                "          expires: 2030-04-01",
                "          category: api",
                "        - path: '[\"api\"][\"soon\"]'",
                "          expires: 2030-05-10",
                "        - path: '[\"api\"][\"later\"]'",
                "          expires: 2031-01-01",
                "",
            ].join("\n"),
        )
        // Encrypted (lastmodified) on 2030-01-01, outside git: the password is dated by lastmodified.
        mkdirSync(join(repo.dir, "secrets/app"), { recursive: true })
        writeFileSync(join(repo.dir, "secrets/app/app.yaml"), "db:\n    password: pw-123456789\napi:\n    old: a1\n    soon: b2\n    later: c3\n")
        expect((await repo.cli(["encrypt", "-i", "secrets/app/app.yaml"], { SECRETS_NOW: "2030-01-01T00:00:00Z" })).code).toBe(0)

        const check = await repo.cli(["status", "--check"], { SECRETS_NOW: "2030-05-01T00:00:00Z" })
        expect(check.code).toBe(1)
        const section = check.stdout.slice(check.stdout.indexOf("\nvalues under"))
        expect(section.split("\n").slice(1, 6)).toEqual([
            "values under secrets.values (4, window 30d):",
            expect.stringMatching(/^FILE +KEY +CATEGORY +STATE +WHY$/),
            expect.stringMatching(/^secrets\/app\/app\.yaml +\["db"\]\["password"\] +database +DUE +due: changed 120 days ago, rotate_every 90d \(dated by lastmodified: not in git\)$/),
            expect.stringMatching(/^secrets\/app\/app\.yaml +\["api"\]\["old"\] +api +EXPIRED +expired 2030-04-01$/),
            expect.stringMatching(/^secrets\/app\/app\.yaml +\["api"\]\["soon"\] +- +EXPIRING +expires 2030-05-10 \(in 9 days\)$/),
        ])
        expect(check.stdout).not.toMatch(/\["api"\]\["later"\] .*(DUE|EXPIR)/)
        expect(check.stderr).toMatch(/status check failed: 3 problems in 1 file\n/)

        const json = JSON.parse((await repo.cli(["status", "--json"], { SECRETS_NOW: "2030-05-01T00:00:00Z" })).stdout) as { ok: boolean; values: { keyPath: string; category: string | null; state: string; why: string }[] }
        expect(json.ok).toBe(false)
        expect(json.values.map((v) => [v.keyPath, v.category, v.state])).toEqual([
            ['["db"]["password"]', "database", "due"],
            ['["api"]["old"]', "api", "expired"],
            ['["api"]["soon"]', null, "expiring"],
            ['["api"]["later"]', null, "ok"],
        ])

        // On 2030-02-01 nothing is due or expired, and 2030-05-10 is outside a 30-day window.
        const early = await repo.cli(["status", "--check"], { SECRETS_NOW: "2030-02-01T00:00:00Z" })
        expect(early.code).toBe(0)
        expect(early.stdout).toContain("values under secrets.values (4, window 30d): none expired, expiring or due\n")
    })
})

describe.skipIf(!hasTmux())("status: certificates behind a passphrase, at a terminal", () => {
    it("a file only a passphrase-protected SSH key opens is not checked, and status asks nothing", { timeout: SLOW }, async () => {
        const keysDir = tempDir()
        const sshKey = join(keysDir, "id_ed25519")
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "a passphrase", "-C", "", "-f", sshKey], { stdio: "ignore" })
        const sshRecipient = readFileSync(`${sshKey}.pub`, "utf8").trim()
        const repo = await makeRepo("secrets:\n    expiry:\n        certificate_window: 30d\n")
        const config = readFileSync(join(repo.dir, ".sops.yaml"), "utf8")
        writeFileSync(join(repo.dir, ".sops.yaml"), config.replace(/^creation_rules:\n/, `creation_rules:\n    - path_regex: ^secrets/locked/\n      age: ${sshRecipient}\n`))
        await repo.encrypt("secrets/locked/tls.yaml", yamlBlock("cert", certificate(repo.keysDir, "locked.example", 10)))
        await repo.encrypt("secrets/open/tls.yaml", yamlBlock("cert", certificate(repo.keysDir, "open.example", 100)))

        // The built binary at a real terminal: a lookup that prompted would sit at
        // "passphrase for …" and never write rc.txt (exitOf gives up after 90 s).
        const home = tempDir()
        const env = `export HOME='${home}' XDG_CONFIG_HOME='${home}/.config' SECRETS_AUDIT_LOG='${join(home, "audit.jsonl")}' PATH='${process.env.PATH ?? "/usr/bin:/bin"}' SOPS_AGE_KEY_FILE='${join(repo.keysDir, "alice.txt")}' SOPS_AGE_SSH_PRIVATE_KEY_FILE='${sshKey}'`
        const tty = new Tty(home, `cd '${repo.dir}' && ${env} && '${process.execPath}' '${BIN}' status --check`)
        try {
            expect(await exitOf(home)).toBe("exit=0")
            const screen = tty.screen()
            expect(screen).not.toContain("passphrase for")
            expect(screen).toMatch(/^secrets\/locked\/tls\.yaml +- +- +not checked: no identity$/m)
            expect(screen).toMatch(/^secrets\/open\/tls\.yaml +\["cert"\] +CN=open\.example +expires /m)
        } finally {
            tty.kill()
        }
    })
})
