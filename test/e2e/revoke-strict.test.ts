/**
 * Revocation that revokes (issue 10 §3), through the built binary with Debian
 * age-keygen keys: a key added to a file alone (a stowaway, e.g. a second key of
 * the person revoked) loses access on `keys revoke` and `rotate -i --strict`, is
 * warned about by plain `rotate -i`, and is named by the repo-wide re-key.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { runCli } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

type Key = ReturnType<typeof ageKeygen>

interface SopsBlock {
    age?: { recipient: string }[]
    key_groups?: { age: { recipient: string }[] }[]
    shamir_threshold?: number
}

function sopsOf(dir: string, file: string): SopsBlock {
    return (parse(readFileSync(join(dir, file), "utf8")) as { sops: SopsBlock }).sops
}

/** Run the binary in `dir` (HOME there too) with only the identities in `keyFile`, if given. */
function cliIn(dir: string) {
    return (args: string[], keyFile?: string) =>
        runCli(args, { cwd: dir, home: dir, env: keyFile === undefined ? {} : { SOPS_AGE_KEY_FILE: keyFile } })
}

/**
 * cliIn's runs in this process (runInProcess): for building the repository a test
 * starts from (init, add-user, encrypt, the stowaway's rotate --add-age), which is
 * not what the test claims; the commands it is about run through the binary.
 */
function setupIn(dir: string) {
    return (args: string[], keyFile?: string) =>
        runInProcess(args, { cwd: dir, home: dir, env: keyFile === undefined ? {} : { SOPS_AGE_KEY_FILE: keyFile } })
}

/** Decrypt with `key` alone (no default key file): the exit code and stdout. In this process: a check around the commands under test. */
async function decryptAs(dir: string, file: string, key: Key): Promise<{ code: number; stdout: string }> {
    const r = await runInProcess(["decrypt", file], { cwd: dir, home: join(dir, "nonexistent"), env: { SOPS_AGE_KEY_FILE: key.file } })
    return { code: r.code, stdout: r.stdout }
}

// Each test spawns the binary several times.
const SLOW = 120_000

describe("keys revoke with a stowaway key", () => {
    it("drops a second key bob added with rotate --add-age, and a key added to another file alone; names both; neither opens anything", async () => {
        const dir = tempDir()
        const cli = cliIn(dir)
        const setup = setupIn(dir)
        const keys = tempDir()
        const bob = ageKeygen(keys, "bob")
        const bob2 = ageKeygen(keys, "bob2")
        const ci = ageKeygen(keys, "ci")
        expect((await setup(["init", "--yes", "--user", "alice", "--recovery"])).code).toBe(0)
        expect((await setup(["keys", "add-user", "bob", "--age", bob.recipient, "--yes"])).code).toBe(0)
        writeFileSync(join(dir, "secrets/shared/x.yaml"), "db:\n    password: shared-VALUE\n")
        writeFileSync(join(dir, "secrets/users/alice/a.yaml"), "k: alice-VALUE\n")
        expect((await setup(["encrypt", "-i", "secrets/shared/x.yaml"])).code).toBe(0)
        expect((await setup(["encrypt", "-i", "secrets/users/alice/a.yaml"])).code).toBe(0)

        // The attack: bob, still trusted, adds a key of his own to a shared file.
        const add = await cli(["rotate", "-i", "--add-age", bob2.recipient, "secrets/shared/x.yaml"], bob.file)
        expect(add.code, add.stderr).toBe(0)
        expect(add.stderr).toContain(
            `secrets: warning: "secrets/shared/x.yaml": ${bob2.recipient} is not in its creation rule in ".sops.yaml": kept, as sops keeps it; rotate with --strict to drop it`,
        )
        // And a key added to another file alone, by anyone (here alice, for CI).
        expect((await cli(["rotate", "-i", "--add-age", ci.recipient, "secrets/users/alice/a.yaml"])).code).toBe(0)
        expect((await decryptAs(dir, "secrets/shared/x.yaml", bob2)).code).toBe(0)

        const operator = join(keys, "operator.txt")
        writeFileSync(operator, readFileSync(join(dir, ".config/sops/age/keys.txt"), "utf8") + readFileSync(join(dir, "recovery-key.txt"), "utf8"))
        const dry = await cli(["keys", "revoke", "bob", "--dry-run"], operator)
        expect(dry.code, dry.stderr).toBe(0)
        expect(dry.stdout).toBe(
            [
                "values user_bob could read:",
                "secrets/shared/x.yaml",
                `    ["db"]["password"]`,
                "values keys outside the creation rules could read:",
                "secrets/users/alice/a.yaml",
                `    ["k"]`,
                "",
            ].join("\n"),
        )
        expect(dry.stderr).toContain(`secrets: would also remove ${bob2.recipient} from "secrets/shared/x.yaml": not in its creation rule`)
        expect(dry.stderr).toContain(`secrets: would also remove ${ci.recipient} from "secrets/users/alice/a.yaml": not in its creation rule`)
        expect(dry.stderr).toContain("secrets: dry run: would rotate the data key of 2 files")

        const r = await cli(["keys", "revoke", "bob", "--yes"], operator)
        expect(r.stderr).not.toContain("error")
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain(`secrets: also removed ${bob2.recipient} from "secrets/shared/x.yaml": not in its creation rule`)
        expect(r.stderr).toContain(`secrets: also removed ${ci.recipient} from "secrets/users/alice/a.yaml": not in its creation rule`)
        expect(r.stdout + r.stderr).not.toContain("VALUE")

        for (const key of [bob, bob2]) expect((await decryptAs(dir, "secrets/shared/x.yaml", key)).code).toBe(128)
        expect((await decryptAs(dir, "secrets/users/alice/a.yaml", ci)).code).toBe(128)
        expect((await cli(["decrypt", "secrets/shared/x.yaml"])).stdout).toBe("db:\n    password: shared-VALUE\n")
        expect((await cli(["decrypt", "secrets/users/alice/a.yaml"])).stdout).toBe("k: alice-VALUE\n")
        // Exactly the rule's recipients now (alice and the recovery key).
        const recovery = /public key: (age1\S+)/.exec(readFileSync(join(dir, "recovery-key.txt"), "utf8"))?.[1]
        expect(recovery).toBeDefined()
        for (const f of ["secrets/shared/x.yaml", "secrets/users/alice/a.yaml"]) {
            const rs = sopsOf(dir, f).age?.map((a) => a.recipient) ?? []
            expect(rs, f).toHaveLength(2)
            expect(rs, f).toContain(recovery)
        }
    }, SLOW)
})

describe("rotate -i and --strict", () => {
    it("plain rotate keeps a key the rule does not name, with a warning; --strict drops it and applies the rule's key groups and threshold", async () => {
        const dir = tempDir()
        const cli = cliIn(dir)
        const setup = setupIn(dir)
        const alice = ageKeygen(dir, "alice")
        const recovery = ageKeygen(dir, "recovery")
        const extra = ageKeygen(dir, "extra")
        const both = join(dir, "both.txt")
        writeFileSync(both, alice.text + recovery.text)
        writeFileSync(
            join(dir, ".sops.yaml"),
            [
                "creation_rules:",
                "  - path_regex: ^split/",
                "    shamir_threshold: 2",
                "    key_groups:",
                `      - age: [${alice.recipient}]`,
                `      - age: [${recovery.recipient}]`,
                "  - path_regex: ^plain/",
                `    age: ${alice.recipient}`,
                "",
            ].join("\n"),
        )
        writeFileSync(join(dir, "x.yaml"), "token: split-VALUE\n")
        // --age replaces the rule's keys: one group, alice and a key the rule does not name.
        mkdirSync(join(dir, "split"))
        expect((await setup(["encrypt", "--age", `${alice.recipient},${extra.recipient}`, "--output", "split/x.yaml", "x.yaml"])).code).toBe(0)

        const plain = await cli(["rotate", "-i", "split/x.yaml"], alice.file)
        expect(plain.code, plain.stderr).toBe(0)
        expect(plain.stderr).toBe(`secrets: warning: "split/x.yaml": ${extra.recipient} is not in its creation rule in ".sops.yaml": kept, as sops keeps it; rotate with --strict to drop it\n`)
        expect((await decryptAs(dir, "split/x.yaml", extra)).code).toBe(0)

        const conflict = await cli(["rotate", "-i", "--strict", "--add-age", extra.recipient, "split/x.yaml"], alice.file)
        expect(conflict.code, conflict.stderr).toBe(8)
        expect(conflict.stderr).toContain("secrets: error: --strict takes the recipients from the creation rule")

        const strict = await cli(["rotate", "-i", "--strict", "split/x.yaml"], alice.file)
        expect(strict.code, strict.stderr).toBe(0)
        expect(strict.stderr).toContain(`secrets: "split/x.yaml": removed ${extra.recipient} from key group 0: not in its creation rule`)
        expect(strict.stderr).toContain(`secrets: "split/x.yaml": added ${recovery.recipient} to key group 1`)
        const block = sopsOf(dir, "split/x.yaml")
        expect(block.shamir_threshold).toBe(2)
        expect(block.key_groups?.map((g) => g.age.map((a) => a.recipient))).toEqual([[alice.recipient], [recovery.recipient]])
        // Two groups, threshold 2: one key alone opens nothing, both together do.
        for (const key of [extra, alice, recovery]) expect((await decryptAs(dir, "split/x.yaml", key)).code).toBe(128)
        const together = await runCli(["decrypt", "split/x.yaml"], { cwd: dir, home: join(dir, "nonexistent"), env: { SOPS_AGE_KEY_FILE: both } })
        expect(together.stdout).toBe("token: split-VALUE\n")

        // A file no rule matches: --strict has nothing to apply.
        expect((await setup(["encrypt", "--age", alice.recipient, "--output", "other.yaml", "x.yaml"])).code).toBe(0)
        const before = readFileSync(join(dir, "other.yaml"), "utf8")
        const none = await cli(["rotate", "-i", "--strict", "other.yaml"], alice.file)
        expect(none.code, none.stderr).toBe(1)
        expect(none.stderr).toContain(`secrets: error: "other.yaml": no creation rule in ".sops.yaml" matches it`)
        expect(readFileSync(join(dir, "other.yaml"), "utf8")).toBe(before)
    }, SLOW)
})

describe("the repo-wide re-key", () => {
    it("drops a key the rule does not name and says the data key stayed the same", async () => {
        const dir = tempDir()
        const cli = cliIn(dir)
        const setup = setupIn(dir)
        const extra = ageKeygen(tempDir(), "extra")
        const web1 = ageKeygen(tempDir(), "web1")
        expect((await setup(["init", "--yes", "--user", "alice"])).code).toBe(0)
        writeFileSync(join(dir, "secrets/shared/s.yaml"), "s: 1\n")
        expect((await setup(["encrypt", "-i", "secrets/shared/s.yaml"])).code).toBe(0)
        expect((await setup(["rotate", "-i", "--add-age", extra.recipient, "secrets/shared/s.yaml"])).code).toBe(0)

        const r = await cli(["keys", "add-host", "web1", "--age", web1.recipient, "--yes"])
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain(
            `secrets: removed ${extra.recipient} from "secrets/shared/s.yaml": not in its creation rule; the data key stays the same: ` +
                "if that key may have been copied, give the file a new one with `secrets rotate -i --strict FILE`",
        )
        expect(sopsOf(dir, "secrets/shared/s.yaml").age?.map((a) => a.recipient)).not.toContain(extra.recipient)
    }, SLOW)
})

describe("keys rotate with a stowaway key", () => {
    it(
        "re-wraps each file to its creation rule: a key added to the file alone is dropped and named (issue 10 §3)",
        async () => {
            const dir = tempDir()
            const cli = cliIn(dir)
            const setup = setupIn(dir)
            const keys = tempDir()
            const extra = ageKeygen(keys, "extra")
            expect((await setup(["init", "--yes", "--user", "alice"])).code).toBe(0)
            writeFileSync(join(dir, "secrets/shared/x.yaml"), "db:\n    password: shared-VALUE\n")
            expect((await setup(["encrypt", "-i", "secrets/shared/x.yaml"])).code).toBe(0)
            expect((await setup(["rotate", "-i", "--add-age", extra.recipient, "secrets/shared/x.yaml"])).code).toBe(0)
            expect((await decryptAs(dir, "secrets/shared/x.yaml", extra)).code).toBe(0)

            const r = await cli(["keys", "rotate", "alice", "--yes"])
            expect(r.code, r.stderr).toBe(0)
            expect(r.stderr).toContain(`also removed ${extra.recipient} from "secrets/shared/x.yaml": not in its creation rule`)
            const recipients = (sopsOf(dir, "secrets/shared/x.yaml").age ?? []).map((a) => a.recipient)
            expect(recipients).not.toContain(extra.recipient)
            expect(recipients).toHaveLength(1)
            expect((await decryptAs(dir, "secrets/shared/x.yaml", extra)).code).toBe(128)
            // The rotated identity (the default key file's new key) still opens it.
            const dec = await cli(["decrypt", "secrets/shared/x.yaml"])
            expect(dec.code, dec.stderr).toBe(0)
            expect(dec.stdout).toContain("shared-VALUE")
        },
        SLOW,
    )
})
