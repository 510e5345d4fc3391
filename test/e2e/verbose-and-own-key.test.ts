/**
 * Issue 11 §6 and §8 through the binary, with keys made by Debian's age-keygen:
 * `--verbose` tells on stderr which config, rule, recipients (by their names in
 * .sops.yaml) and identity sources were used, and which one opened the file, with
 * timings, and never a value; `encrypt` warns when its caller could not decrypt
 * the result, and stays quiet when they can or when that cannot be known.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const VALUE = "s3cr3t-value-never-shown"

/** A repo whose rule names alice and host web1; the caller's default key file holds `mine`. */
function setup(mine: "alice" | "stranger") {
    const dir = tempDir()
    const alice = ageKeygen(dir, "alice")
    const web1 = ageKeygen(dir, "web1")
    const stranger = ageKeygen(dir, "stranger")
    writeFileSync(
        join(dir, ".sops.yaml"),
        `keys:\n  - &user_alice ${alice.recipient}\n  - &host_web1 ${web1.recipient}\ncreation_rules:\n  - path_regex: ^secrets/hosts/\n    age: *host_web1\n  - path_regex: ^secrets/\n    key_groups:\n      - age:\n          - *user_alice\n          - *host_web1\n`,
    )
    mkdirSync(join(dir, "secrets"))
    writeFileSync(join(dir, "secrets", "db.yaml"), `password: ${VALUE}\n`)
    const keyDir = join(dir, ".config", "sops", "age")
    mkdirSync(keyDir, { recursive: true })
    writeFileSync(join(keyDir, "keys.txt"), (mine === "alice" ? alice : stranger).text)
    return { dir, alice, web1, stranger }
}

describe("--verbose", () => {
    it("encrypt names the config, the rule and the recipients by name, with timings, and no value", async () => {
        const { dir, alice } = setup("alice")
        const r = await runCli(["--verbose", "encrypt", "-i", "secrets/db.yaml"], { cwd: dir })
        expect(r.code).toBe(0)
        const lines = r.stderr.split("\n").filter((l) => l.startsWith("secrets: verbose: "))
        // Every line carries the milliseconds since the process started.
        for (const l of lines) expect(l).toMatch(/^secrets: verbose: \[ *\d+ ms\] \S/)
        expect(r.stderr).toContain(`config: ${join(dir, ".sops.yaml")}`)
        expect(r.stderr).toContain(`rule: creation_rules[1] (path_regex "^secrets/") matches "secrets/db.yaml"`)
        expect(r.stderr).toMatch(new RegExp(`recipients: user alice \\(${alice.recipient.slice(0, 9)}…\\w{5}\\), host web1 \\(age1`))
        expect(r.stderr).toContain("done: exit status 0")
        expect(r.stderr + r.stdout).not.toContain(VALUE)
    })

    it("decrypt lists the identity sources tried and the one that opened the file, and no value on stderr", async () => {
        const { dir } = setup("alice")
        expect((await runCli(["encrypt", "-i", "secrets/db.yaml"], { cwd: dir })).code).toBe(0)
        const keyFile = join(dir, "alice.txt")
        const r = await runCli(["--verbose", "decrypt", "secrets/db.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: keyFile } })
        expect(r.code).toBe(0)
        expect(r.stdout).toContain(VALUE)
        expect(r.stderr).not.toContain(VALUE)
        expect(r.stderr).toContain("identities: SOPS_AGE_KEY (not set)")
        expect(r.stderr).toContain(`identities: SOPS_AGE_KEY_FILE=${keyFile} (1 key)`)
        expect(r.stderr).toMatch(new RegExp(`identities: opened with the key of user alice \\(age1\\w{5}…\\w{5}\\), from SOPS_AGE_KEY_FILE=${keyFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`))
        expect(r.stderr).toContain("values decrypted and the MAC verified")
    })

    it("is off without the flag, and after -- it belongs to the program exec-env runs", async () => {
        const { dir } = setup("alice")
        expect((await runCli(["encrypt", "-i", "secrets/db.yaml"], { cwd: dir })).stderr).not.toContain("verbose")
        const r = await runCli(["decrypt", "--verbose", "secrets/db.yaml"], { cwd: dir })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain("secrets: hint: --verbose goes before the command")
    })
})

describe("encrypt and the caller's own key", () => {
    it("warns, naming the recipients, when none of the caller's identities can open the result; the file is still written", async () => {
        const { dir } = setup("stranger")
        const r = await runCli(["encrypt", "-i", "secrets/db.yaml"], { cwd: dir })
        expect(r.code).toBe(0)
        expect(r.stderr).toMatch(/secrets: warning: you will not be able to decrypt "secrets\/db\.yaml": none of your identities is among its recipients; it is encrypted to user alice \(age1\w{5}…\w{5}\), host web1 \(age1/)
        expect(r.stderr).toContain("secrets: hint: add your own recipient")
        expect(readFileSync(join(dir, "secrets", "db.yaml"), "utf8")).toContain("sops:")
        expect(r.stderr).not.toContain(VALUE)
    })

    it("says the caller has no identity at all when none is found", async () => {
        const { dir } = setup("stranger")
        const r = await runCli(["encrypt", "secrets/db.yaml"], { cwd: dir, home: join(dir, "empty-home") })
        expect(r.code).toBe(0)
        expect(r.stderr).toContain('you will not be able to decrypt "secrets/db.yaml": you have no age identity')
    })

    it("is quiet when the caller holds a recipient's key, and when a key command or 1Password could hold one", async () => {
        const { dir, alice } = setup("alice")
        const ok = await runCli(["encrypt", "secrets/db.yaml"], { cwd: dir })
        expect(ok.code).toBe(0)
        expect(ok.stderr).toBe("")
        const s = setup("stranger")
        for (const env of [{ SOPS_AGE_KEY_CMD: "cat alice.txt" }, { SECRETS_AGE_KEY_OP: "op://Vault/age/key" }] as Record<string, string>[]) {
            const r = await runCli(["encrypt", "secrets/db.yaml"], { cwd: s.dir, env })
            expect(r.code).toBe(0)
            expect(r.stderr).not.toContain("will not be able to decrypt")
        }
        void alice
    })

    it("counts key groups: a key for one group is not enough when two are needed", async () => {
        const { dir, alice, web1 } = setup("alice")
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - key_groups:\n      - age: [${alice.recipient}]\n      - age: [${web1.recipient}]\n`)
        const one = await runCli(["encrypt", "secrets/db.yaml"], { cwd: dir })
        expect(one.code).toBe(0)
        expect(one.stderr).toContain("your identities do not open enough of its key groups")
        writeFileSync(join(dir, ".config", "sops", "age", "keys.txt"), alice.text + web1.text)
        const both = await runCli(["encrypt", "secrets/db.yaml"], { cwd: dir })
        expect(both.code).toBe(0)
        expect(both.stderr).not.toContain("will not be able to decrypt")
    })
})
