/**
 * `keys revoke` and `keys rotate` through the built binary on a fleet repo with
 * real age keys: every identity is tried on every file afterwards, data keys are
 * read with Debian age, and the rotation is interrupted and resumed.
 */
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"
import { FILES, dataKeyWithAge, decryptWith, decryptWithBinary, makeFleet, readers, recipientsOf, snapshot, type Fleet } from "../unit/fleet-rekey/fleet-fixture.js"

const ALL = Object.keys(FILES)

/** Where `keys rotate` keeps a rotation's state: the user's state directory, keyed by the repository's real path and the anchor. */
function rotationStatePath(home: string, repo: string, anchor: string): string {
    const hash = createHash("sha256").update(`${realpathSync(repo)}\0${anchor}`).digest("hex")
    return join(home, ".local", "state", "secrets", "rotations", `${hash}.json`)
}
const NOW = { SECRETS_NOW: "2031-06-01T00:00:00Z" }

/**
 * Every named identity except those in `skip` opens exactly the files the layout
 * gives it. In this process (decryptWith): 42 decrypts around the command under
 * test, which ran through the binary; each test keeps its headline decrypts
 * through the binary (decryptWithBinary).
 */
async function checkReaders(fleet: Fleet, skip: readonly string[] = []): Promise<void> {
    for (const name of ["web1", "web2", "web3", "alice", "bob", "recovery"]) {
        if (skip.includes(name)) continue
        for (const file of ALL) {
            const r = await decryptWith(fleet, file, fleet.keys[name]!.file)
            expect(r.code, `${name} on ${file}`).toBe(readers(file).includes(name) ? 0 : 128)
            if (r.code === 0) expect(r.stdout).toBe(FILES[file])
        }
    }
}

// The fleet is built and checked in this process, but each test still spawns the binary a dozen times.
const SLOW = 120_000

describe("keys revoke", () => {
    it("revoking bob rotates the data key of every file he could open; his identity opens none; key paths listed, no values", async () => {
        const fleet = await makeFleet()
        await checkReaders(fleet)
        const bobFiles = ALL.filter((f) => readers(f).includes("bob"))
        const othersFiles = ALL.filter((f) => !readers(f).includes("bob"))
        const keysBefore = new Map(ALL.map((f) => [f, dataKeyWithAge(fleet, f, fleet.keys.recovery!)]))
        const before = snapshot(fleet.repo)

        const dry = await runCli(["keys", "revoke", "bob", "--dry-run"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator } })
        expect(dry.stderr).toContain("dry run: would rotate the data key of 6 files")
        expect(dry.code).toBe(0)
        expect(snapshot(fleet.repo)).toEqual(before)

        const r = await runCli(["keys", "revoke", "bob", "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator, ...NOW } })
        expect(r.stderr).not.toContain("error")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(dry.stdout)
        expect(r.stdout).toBe(
            [
                "values user_bob could read:",
                "secrets/hosts/web1/tls.yaml",
                `    ["tls"]["key"]`,
                "secrets/hosts/web2/tls.yaml",
                `    ["tls"]["key"]`,
                "secrets/hosts/web3/tls.yaml",
                `    ["tls"]["key"]`,
                "secrets/shared/app.yaml",
                `    ["api"]["token"]`,
                `    ["region"]`,
                "secrets/shared/db.yaml",
                `    ["db"]["password"]`,
                "secrets/users/bob/token.yaml",
                `    ["github"]["token"]`,
                `    ["list"][0]`,
                "",
            ].join("\n"),
        )
        expect(r.stderr).toContain("change those secrets at their source")
        expect(r.stdout + r.stderr).not.toMatch(/VALUE/)

        // Bob's identity opens no current file (the shipped binary says so).
        for (const file of ALL) expect((await decryptWithBinary(fleet, file, fleet.keys.bob!.file)).code, file).toBe(128)
        // New data keys where bob was, the same elsewhere (Debian age on the recovery block).
        for (const f of bobFiles) expect(dataKeyWithAge(fleet, f, fleet.keys.recovery!), f).not.toBe(keysBefore.get(f))
        for (const f of othersFiles) {
            expect(dataKeyWithAge(fleet, f, fleet.keys.recovery!)).toBe(keysBefore.get(f))
            expect(readFileSync(join(fleet.repo, f), "utf8")).toBe(before.get(f)?.text)
        }
        for (const f of ALL) expect(recipientsOf(join(fleet.repo, f))).not.toContain(fleet.keys.bob!.recipient)
        await checkReaders(fleet, ["bob"])

        // .sops.yaml: bob's key and every alias to it are gone; comments stay.
        const config = readFileSync(join(fleet.repo, ".sops.yaml"), "utf8")
        // Exactly bob's lines, aliases and directory rule are gone: indentation, flow style and comments stay.
        const expected = before
            .get(".sops.yaml")!
            .text.replace("    - path_regex: ^secrets/users/bob/\n      key_groups:\n          - age: [*user_bob, *recovery]\n", "")
            .split("\n")
            .filter((l) => !l.includes("&user_bob"))
            .join("\n")
            .replaceAll("*user_bob, ", "")
        expect(config).toBe(expected)
        expect(config).not.toContain("user_bob")
        expect(config).not.toContain(fleet.keys.bob!.recipient)
        expect(config).toContain("# fleet keys: hosts, users, recovery")
        expect(config).toContain("# alice@example.org")
        expect(config).toContain("max_age: 90d")
        // A second revoke: the name is unknown now.
        const again = await runCli(["keys", "revoke", "bob", "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator } })
        expect(again.code).toBe(1)
        expect(again.stderr).toContain(`secrets: error: no key named "bob" in ".sops.yaml"`)
    }, SLOW)

    it("refuses without --yes and without a terminal, and an unknown name, writing nothing", async () => {
        const fleet = await makeFleet()
        const before = snapshot(fleet.repo)
        const r = await runCli(["keys", "revoke", "bob"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator } })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain("secrets: error: not changing files without confirmation")
        const u = await runCli(["keys", "revoke", "carol", "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator } })
        expect(u.code).toBe(1)
        expect(u.stderr).toContain("secrets: hint: the named keys are host_web1, host_web2, host_web3, user_alice, user_bob, recovery")
        expect(snapshot(fleet.repo)).toEqual(before)
    }, SLOW)

    it("a file that also has a pgp key is reported as not rotatable; the other files are rotated; exit 1", async () => {
        const fleet = await makeFleet()
        const pgpFile = "secrets/users/bob/token.yaml"
        const abs = join(fleet.repo, pgpFile)
        const pgp = [
            "    pgp:",
            `        - created_at: "2023-11-12T16:41:00Z"`,
            "          enc: |",
            "            -----BEGIN PGP MESSAGE-----",
            "",
            "            hQEMA/m6nevQP1fAAQf/XVOr/ZOZo/b5lDJ7EIeRgwejwtJLGToF6xXM0jcZvlsB",
            "            =abcd",
            "            -----END PGP MESSAGE-----",
            "          fp: 2504791468B153B8A3963CC97BA53D1919C5DFD4",
            "",
        ].join("\n")
        writeFileSync(abs, readFileSync(abs, "utf8").replace(/^ {4}version:/m, `${pgp}    version:`))
        const pgpBefore = readFileSync(abs, "utf8")

        const r = await runCli(["keys", "revoke", "bob", "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator, ...NOW } })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`secrets: warning: "${pgpFile}": not rotatable: it also has pgp/kms keys`)
        expect(r.stderr).toContain(`secrets: error: 1 file still opens with the revoked key's data key: "${pgpFile}"`)
        expect(r.stdout).toContain(`${pgpFile}\n    ["github"]["token"]\n    ["list"][0]\n`)
        expect(readFileSync(abs, "utf8")).toBe(pgpBefore)
        for (const file of ALL.filter((f) => f !== pgpFile)) expect((await decryptWith(fleet, file, fleet.keys.bob!.file)).code, file).toBe(128)
        expect(readFileSync(join(fleet.repo, ".sops.yaml"), "utf8")).not.toContain("user_bob")
    }, SLOW)
})

describe("keys revoke of a file the operator cannot open", () => {
    it("finishes the others, names that file once as the user sees it, and exits 1", async () => {
        const dir = tempDir()
        const cli = (args: string[]) => runCli(args, { cwd: dir, home: dir })
        expect((await cli(["init", "--yes", "--user", "alice", "--recovery"])).code).toBe(0)
        const bob = ageKeygen(dir, "bob")
        expect((await cli(["keys", "add-user", "bob", "--age", bob.recipient, "--yes"])).code).toBe(0)
        writeFileSync(join(dir, "secrets/users/bob/b.yaml"), "x: 1\n")
        writeFileSync(join(dir, "secrets/shared/s.yaml"), "y: 2\n")
        expect((await cli(["encrypt", "-i", "secrets/users/bob/b.yaml"])).code).toBe(0)
        expect((await cli(["encrypt", "-i", "secrets/shared/s.yaml"])).code).toBe(0)

        // alice's key cannot open bob's own file (bob and the recovery key can).
        const r = await cli(["keys", "revoke", "bob", "--yes"])
        expect(r.code).toBe(1)
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("secrets: error: "))
        expect(errors).toEqual([
            `secrets: error: "secrets/users/bob/b.yaml": could not recover the data key: the key group could not be opened`,
            `secrets: error: 1 file still opens with the revoked key's data key: "secrets/users/bob/b.yaml"`,
        ])
        expect(recipientsOf(join(dir, "secrets/shared/s.yaml"))).not.toContain(bob.recipient)
    })
})

describe("keys rotate", () => {
    it("rotating the local user's key resumes after an interruption; the old key opens nothing, the new one what it should", async () => {
        const fleet = await makeFleet()
        // alice works from her default key file.
        const home = tempDir()
        const keyFile = join(home, ".config", "sops", "age", "keys.txt")
        mkdirSync(join(keyFile, ".."), { recursive: true })
        copyFileSync(fleet.keys.alice!.file, keyFile)
        const env = { ...NOW }
        const aliceFiles = ALL.filter((f) => readers(f).includes("alice"))
        const untouched = ALL.filter((f) => !readers(f).includes("alice"))
        const before = snapshot(fleet.repo)

        const first = await runCli(["keys", "rotate", "alice", "--yes"], { cwd: fleet.repo, home, env: { ...env, SECRETS_TEST_INTERRUPT_AFTER: "1" } })
        expect(first.code).toBe(1)
        expect(first.stderr).toContain("secrets: error: interrupted after 1 file")
        // The state is kept in alice's state directory, not in the repository.
        const statePath = rotationStatePath(home, fleet.repo, "user_alice")
        expect(statSync(statePath).mode & 0o777).toBe(0o600)
        const state = JSON.parse(readFileSync(statePath, "utf8")) as { files: string[]; done: string[]; newRecipient: string }
        expect(readFileSync(statePath, "utf8")).not.toContain("AGE-SECRET-KEY")
        expect([...state.files].sort()).toEqual([...aliceFiles].sort())
        expect(state.done).toHaveLength(1)
        // Both identities are in the key file while the rotation runs.
        const mid = readFileSync(keyFile, "utf8")
        expect(mid.match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(2)
        expect(mid).toContain(`# public key: ${state.newRecipient}`)
        expect(readFileSync(join(fleet.repo, ".sops.yaml"), "utf8")).toContain(`&user_alice ${state.newRecipient}`)

        const second = await runCli(["keys", "rotate", "alice", "--yes"], { cwd: fleet.repo, home, env })
        expect(second.stderr).toContain(`resuming the rotation of user_alice to ${state.newRecipient} (1 of ${aliceFiles.length} files done)`)
        expect(second.code).toBe(0)
        expect(existsSync(statePath)).toBe(false)
        expect(existsSync(join(fleet.repo, ".secrets"))).toBe(false)

        // The old identity is retired, not deleted: it still opens old revisions.
        const after = readFileSync(keyFile, "utf8")
        expect(after.match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(2)
        const [active = "", retired = ""] = after.split("\n# retired: ")
        expect(retired).toMatch(/^user_alice on 2031-06-01 by secrets keys rotate/)
        expect(retired).toContain(fleet.keys.alice!.text.trim().split("\n").at(-1))
        expect(active).not.toContain(fleet.keys.alice!.text.trim().split("\n").at(-1))
        expect(statSync(keyFile).mode & 0o777).toBe(0o600)
        const newOnly = join(home, "new-only.txt")
        writeFileSync(newOnly, active, { mode: 0o600 })

        for (const file of ALL) {
            expect((await decryptWith(fleet, file, fleet.keys.alice!.file)).code, `old key on ${file}`).toBe(128)
            const withNew = await decryptWithBinary(fleet, file, newOnly)
            expect(withNew.code, `new key on ${file}`).toBe(aliceFiles.includes(file) ? 0 : 128)
            if (withNew.code === 0) expect(withNew.stdout).toBe(FILES[file])
        }
        for (const f of untouched) expect(readFileSync(join(fleet.repo, f), "utf8")).toBe(before.get(f)?.text)
        await checkReaders(fleet, ["alice"])
        const config = readFileSync(join(fleet.repo, ".sops.yaml"), "utf8")
        expect(config).not.toContain(fleet.keys.alice!.recipient)
        expect(config).toContain("# alice@example.org")
        expect(second.stdout + second.stderr + first.stderr).not.toMatch(/VALUE|AGE-SECRET-KEY/)
    }, SLOW)

    it("a host key with --age; --abort drops the state; a key not held locally needs --age or --output", async () => {
        const fleet = await makeFleet()
        const env = { SOPS_AGE_KEY_FILE: fleet.operator, ...NOW }
        const before = snapshot(fleet.repo)
        const noKey = await runCli(["keys", "rotate", "web2"], { cwd: fleet.repo, home: fleet.emptyHome, env })
        expect(noKey.code).toBe(1)
        expect(noKey.stderr).toContain("secrets: error: the private key of host_web2 is not in the local key file")
        expect(snapshot(fleet.repo)).toEqual(before)

        const web4 = fleet.keys.web4!
        const cut = await runCli(["keys", "rotate", "web2", "--age", web4.recipient, "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env: { ...env, SECRETS_TEST_INTERRUPT_AFTER: "0" } })
        expect(cut.code).toBe(1)
        const statePath = rotationStatePath(fleet.emptyHome, fleet.repo, "host_web2")
        expect(existsSync(statePath)).toBe(true)
        const abort = await runCli(["keys", "rotate", "web2", "--abort"], { cwd: fleet.repo, home: fleet.emptyHome, env })
        expect(abort.code).toBe(0)
        expect(existsSync(statePath)).toBe(false)

        // .sops.yaml already names web4 for web2: a fresh rotation from web4 to a new key.
        writeFileSync(join(fleet.repo, ".sops.yaml"), before.get(".sops.yaml")!.text)
        const r = await runCli(["keys", "rotate", "web2", "--age", web4.recipient, "--yes"], { cwd: fleet.repo, home: fleet.emptyHome, env })
        expect(r.code).toBe(0)
        for (const file of ALL) {
            const expected = readers(file).includes("web2") ? 0 : 128
            expect((await decryptWith(fleet, file, web4.file)).code, file).toBe(expected)
            expect((await decryptWith(fleet, file, fleet.keys.web2!.file)).code, file).toBe(128)
        }
        expect(readFileSync(join(fleet.repo, "secrets/hosts/web1/tls.yaml"), "utf8")).toBe(before.get("secrets/hosts/web1/tls.yaml")?.text)
    }, SLOW)
})
