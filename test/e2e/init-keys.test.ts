/**
 * `secrets init` and `secrets keys list/add-host/add-user/remove` through the built
 * binary in temp git repos, HOME and XDG_CONFIG_HOME inside the temp dir: the
 * config and layout init writes (twice), who can read which file afterwards
 * (identities tried for real), SSH host keys from ssh-keygen cross-checked with
 * Debian age, and the refusals that leave every file as it was.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"
import { parseConfig } from "../../src/config/load.js"
import { matchRule, planForRule } from "../../src/config/match.js"
import { sshEd25519PrivateToAgeIdentity } from "../../src/keys/ssh-to-age.js"

const SECRET = "hunter2-never-printed"

interface Repo {
    dir: string
    home: string
    cli(args: string[], env?: Record<string, string>, home?: string): ReturnType<typeof runCli>
    read(p: string): string
    keyFile: string
}

function repo(): Repo {
    const root = tempDir()
    const dir = join(root, "repo")
    const home = join(root, "home")
    mkdirSync(dir)
    mkdirSync(home)
    run("git", ["init", "-q", dir])
    return {
        dir,
        home,
        cli: (args, env = {}, h = home) => runCli(args, { cwd: dir, home: h, env: { SECRETS_NOW: "2026-01-02T03:04:05Z", ...env } }),
        read: (p) => readFileSync(join(dir, p), "utf8"),
        keyFile: join(home, ".config", "sops", "age", "keys.txt"),
    }
}

function recipientsFor(r: Repo, file: string): string[] {
    const config = parseConfig(r.read(".sops.yaml"), ".sops.yaml")
    return planForRule(matchRule(config, r.dir, join(r.dir, file))).groups.flat()
}

function fileRecipients(r: Repo, file: string): string[] {
    const sops = (parse(r.read(file)) as { sops: { age?: { recipient: string }[] } }).sops
    return (sops.age ?? []).map((a) => a.recipient)
}

function encBlock(r: Repo, file: string, recipient: string): string {
    const sops = (parse(r.read(file)) as { sops: { age?: { recipient: string; enc: string }[] } }).sops
    const block = sops.age?.find((a) => a.recipient === recipient)
    if (block === undefined) throw new Error("recipient not in file")
    const out = join(r.dir, "..", "block.age")
    writeFileSync(out, block.enc)
    return out
}

const mode = (p: string) => statSync(p).mode & 0o777

async function newSecret(r: Repo, file: string): Promise<void> {
    mkdirSync(join(r.dir, file, ".."), { recursive: true })
    writeFileSync(join(r.dir, file), `password: ${SECRET}\n`)
    const enc = await r.cli(["encrypt", "-i", file])
    expect(enc.stderr).toBe("")
    expect(enc.code).toBe(0)
}

describe("secrets init", () => {
    it("creates the config, the layout and a 0600 key, and a second run changes nothing", async () => {
        const r = repo()
        const first = await r.cli(["init", "--yes", "--user", "alice", "--host", "web1", "--recovery"])
        expect(first.code).toBe(0)
        expect(first.stdout).toContain("secrets keys add-host web1")
        expect(first.stderr).toContain(`generated your age key in ${JSON.stringify(r.keyFile)} (mode 0600)`)
        expect(first.stderr).toContain('RECOVERY KEY WRITTEN TO "recovery-key.txt"')
        expect(mode(r.keyFile)).toBe(0o600)
        expect(mode(join(r.dir, "recovery-key.txt"))).toBe(0o600)
        for (const d of ["secrets/shared", "secrets/hosts/web1", "secrets/users/alice"]) expect(existsSync(join(r.dir, d, ".gitkeep"))).toBe(true)
        const gitignore = r.read(".gitignore")
        expect(gitignore.startsWith("/recovery-key.txt\n")).toBe(true)

        const alice = run("age-keygen", ["-y", r.keyFile]).toString().trim()
        const recovery = run("age-keygen", ["-y", join(r.dir, "recovery-key.txt")]).toString().trim()
        expect(r.read(".sops.yaml")).toBe(
            `keys:\n  - &user_alice ${alice}\n  - &recovery ${recovery}\ncreation_rules:\n` +
                "  - path_regex: ^secrets/hosts/web1/\n    key_groups:\n      - age:\n          - *user_alice\n          - *recovery\n" +
                "  - path_regex: ^secrets/users/alice/\n    key_groups:\n      - age:\n          - *user_alice\n          - *recovery\n" +
                "  - path_regex: ^secrets/shared/\n    key_groups:\n      - age:\n          - *user_alice\n          - *recovery\n",
        )
        expect(recipientsFor(r, "secrets/users/alice/a.yaml")).toEqual([alice, recovery])
        expect(recipientsFor(r, "secrets/shared/a.yaml")).toEqual([alice, recovery])

        const before = { config: r.read(".sops.yaml"), key: readFileSync(r.keyFile, "utf8"), rec: r.read("recovery-key.txt") }
        const second = await r.cli(["init", "--yes", "--user", "alice", "--host", "web1", "--recovery"])
        expect(second.code).toBe(0)
        expect(second.stderr).toContain("(not overwritten)")
        expect(second.stderr).toContain("already initialised: the config has a recovery key")
        expect(second.stderr).toContain('".sops.yaml" already initialised: nothing to change')
        expect(second.stderr).not.toContain("RECOVERY KEY WRITTEN")
        expect({ config: r.read(".sops.yaml"), key: readFileSync(r.keyFile, "utf8"), rec: r.read("recovery-key.txt") }).toEqual(before)
        expect(r.read(".gitignore")).toBe(gitignore)
        expect(mode(r.keyFile)).toBe(0o600)

        // The generated key opens files of its rules, and so does the recovery key alone.
        await newSecret(r, "secrets/shared/app.yaml")
        const mine = await r.cli(["decrypt", "secrets/shared/app.yaml"])
        expect(mine.stdout).toBe(`password: ${SECRET}\n`)
        const elsewhere = join(r.dir, "..", "elsewhere")
        mkdirSync(elsewhere)
        const byRecovery = await r.cli(["decrypt", "secrets/shared/app.yaml"], { SOPS_AGE_KEY_FILE: join(r.dir, "recovery-key.txt") }, elsewhere)
        expect(byRecovery.stdout).toBe(`password: ${SECRET}\n`)
        const nobody = await r.cli(["decrypt", "secrets/shared/app.yaml"], {}, elsewhere)
        expect(nobody.code).toBe(128)
    })

    it("reuses an existing key, takes hosts with recipients, and extends an existing config", async () => {
        const r = repo()
        mkdirSync(join(r.keyFile, ".."), { recursive: true })
        run("age-keygen", ["-o", r.keyFile])
        const keyBefore = readFileSync(r.keyFile, "utf8")
        const alice = run("age-keygen", ["-y", r.keyFile]).toString().trim()
        const web = ageKeygen(join(r.dir, ".."), "web1")
        writeFileSync(join(r.dir, ".sops.yaml"), `# ops config\ncreation_rules:\n  # legacy files\n  - path_regex: ^legacy/\n    age: ${web.recipient}\n`)
        const out = await r.cli(["init", "--yes", "--user", "alice", "--host", `web1=${web.recipient}`])
        expect(out.code).toBe(0)
        expect(readFileSync(r.keyFile, "utf8")).toBe(keyBefore)
        const text = r.read(".sops.yaml")
        expect(text.startsWith("# ops config\nkeys:\n")).toBe(true)
        expect(text).toContain("  # legacy files\n  - path_regex: ^legacy/\n")
        expect(recipientsFor(r, "secrets/hosts/web1/x.yaml")).toEqual([alice, web.recipient])
        expect(recipientsFor(r, "secrets/shared/x.yaml")).toEqual([alice, web.recipient])
        expect(recipientsFor(r, "secrets/users/alice/x.yaml")).toEqual([alice])
        expect(recipientsFor(r, "legacy/x.yaml")).toEqual([web.recipient])
    })

    it("refuses a bad name or recipient and writes nothing", async () => {
        const r = repo()
        for (const args of [["--user", "Alice"], ["--user", "alice", "--host", "web1=age1nope"], ["--user", "alice", "--host", "we/b"]]) {
            const out = await r.cli(["init", "--yes", ...args])
            expect(out.code).toBe(1)
            expect(out.stderr).toMatch(/^secrets: error: (invalid (user|host) name|unrecognized recipient|malformed age recipient)/)
        }
        expect(existsSync(join(r.dir, ".sops.yaml"))).toBe(false)
        expect(existsSync(join(r.dir, "secrets"))).toBe(false)
        expect(existsSync(r.keyFile)).toBe(false)
    })
})

describe("secrets keys add-host / add-user / remove", () => {
    it("re-keys exactly the files the new key belongs to, and remove takes it away again", async () => {
        const r = repo()
        expect((await r.cli(["init", "--yes", "--user", "alice", "--recovery"])).code).toBe(0)
        const web = ageKeygen(join(r.dir, ".."), "web1")
        expect((await r.cli(["keys", "add-host", "web1", "--age", web.recipient, "-y"])).code).toBe(0)
        await newSecret(r, "secrets/shared/a.yaml")
        await newSecret(r, "secrets/hosts/web1/b.yaml")
        await newSecret(r, "secrets/users/alice/c.yaml")
        const before = { a: r.read("secrets/shared/a.yaml"), b: r.read("secrets/hosts/web1/b.yaml"), c: r.read("secrets/users/alice/c.yaml") }

        const db = ageKeygen(join(r.dir, ".."), "db1")
        const add = await r.cli(["keys", "add-host", "db1", "--age", db.recipient, "--yes"])
        expect(add.code).toBe(0)
        // The new host's directory is made, as init makes the first ones.
        expect(statSync(join(r.dir, "secrets/hosts/db1")).isDirectory()).toBe(true)
        expect(add.stdout).toContain(`secrets/shared/a.yaml  0      ${db.recipient}`)
        expect(add.stdout).not.toContain("b.yaml")
        expect(r.read("secrets/hosts/web1/b.yaml")).toBe(before.b)
        expect(r.read("secrets/users/alice/c.yaml")).toBe(before.c)
        expect(r.read("secrets/shared/a.yaml")).not.toBe(before.a)
        expect(fileRecipients(r, "secrets/shared/a.yaml")).toContain(db.recipient)

        // Tried for real: db1's key alone (no default key in its home) opens the shared file only.
        const dbHome = join(r.dir, "..", "dbhome")
        mkdirSync(dbHome)
        const asDb = (file: string) => r.cli(["decrypt", file], { SOPS_AGE_KEY_FILE: db.file }, dbHome)
        expect((await asDb("secrets/shared/a.yaml")).stdout).toBe(`password: ${SECRET}\n`)
        expect((await asDb("secrets/hosts/web1/b.yaml")).code).toBe(128)
        expect((await asDb("secrets/users/alice/c.yaml")).code).toBe(128)

        // A new user joins every host's files and the shared ones, not alice's.
        const bob = ageKeygen(join(r.dir, ".."), "bob")
        const addUser = await r.cli(["keys", "add-user", "bob", "--age", bob.recipient, "-y"])
        expect(addUser.code).toBe(0)
        expect(r.read("secrets/users/alice/c.yaml")).toBe(before.c)
        expect(fileRecipients(r, "secrets/hosts/web1/b.yaml")).toContain(bob.recipient)
        expect(fileRecipients(r, "secrets/shared/a.yaml")).toContain(bob.recipient)

        const rm = await r.cli(["keys", "remove", "db1", "-y"])
        expect(rm.code).toBe(0)
        expect(rm.stdout).toBe(`FILE                   GROUP  ADDED  REMOVED\nsecrets/shared/a.yaml  0             ${db.recipient}\n`)
        expect(r.read(".sops.yaml")).not.toContain("db1")
        expect(fileRecipients(r, "secrets/shared/a.yaml")).not.toContain(db.recipient)
        expect((await asDb("secrets/shared/a.yaml")).code).toBe(128)

        const list = JSON.parse((await r.cli(["keys", "list", "--json"])).stdout) as { anchor: string; type: string; rules: string[]; files: string[] }[]
        expect(list.map((k) => [k.anchor, k.type])).toEqual([
            ["user_alice", "x25519"],
            ["user_bob", "x25519"],
            ["host_web1", "x25519"],
            ["recovery", "x25519"],
        ])
        expect(list.find((k) => k.anchor === "host_web1")?.rules).toEqual(["^secrets/hosts/web1/", "^secrets/shared/"])
        expect(list.find((k) => k.anchor === "host_web1")?.files).toEqual(["secrets/hosts/web1/b.yaml", "secrets/shared/a.yaml"])
        expect(list.find((k) => k.anchor === "user_bob")?.files).toEqual(["secrets/hosts/web1/b.yaml", "secrets/shared/a.yaml"])
        expect(list.find((k) => k.anchor === "user_alice")?.files).toEqual(["secrets/hosts/web1/b.yaml", "secrets/shared/a.yaml", "secrets/users/alice/c.yaml"])
    })

    it("takes ssh-keygen host keys as ssh recipients and converted with --to-age, both opened by Debian age", async () => {
        const r = repo()
        expect((await r.cli(["init", "--yes", "--user", "alice"])).code).toBe(0)
        const keys = join(r.dir, "..")
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@web1", "-f", join(keys, "web1")])
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@db1", "-f", join(keys, "db1")])
        const webPub = readFileSync(join(keys, "web1.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ")

        expect((await r.cli(["keys", "add-host", "web1", "--ssh-host-key", join(keys, "web1.pub"), "-y"])).code).toBe(0)
        expect((await r.cli(["keys", "add-host", "db1", "--ssh-host-key", join(keys, "db1.pub"), "--to-age", "-y"])).code).toBe(0)
        const converted = sshEd25519PrivateToAgeIdentity(readFileSync(join(keys, "db1"), "utf8"))
        writeFileSync(join(keys, "db1-age.txt"), converted + "\n")
        const dbAge = run("age-keygen", ["-y", join(keys, "db1-age.txt")]).toString().trim()
        expect(r.read(".sops.yaml")).toContain(`  - &host_web1 ${webPub}\n  - &host_db1 ${dbAge}\n`)

        const listed = JSON.parse((await r.cli(["keys", "list", "--json"])).stdout) as { anchor: string; type: string; fingerprint: string }[]
        const sshFp = run("ssh-keygen", ["-l", "-E", "sha256", "-f", join(keys, "web1.pub")]).toString().split(" ")[1] ?? ""
        expect(listed.find((k) => k.anchor === "host_web1")).toMatchObject({ type: "ssh-ed25519", fingerprint: sshFp.slice(0, 23) })
        expect(listed.find((k) => k.anchor === "host_db1")).toMatchObject({ type: "x25519", fingerprint: dbAge.slice(0, 16) })

        await newSecret(r, "secrets/hosts/web1/env.yaml")
        await newSecret(r, "secrets/hosts/db1/env.yaml")
        await newSecret(r, "secrets/shared/app.yaml")
        // Debian age opens the data key we wrapped: with the ssh host key itself for the
        // ssh recipient, with the converted identity for the age1 one, and both agree.
        const viaSsh = run("age", ["-d", "-i", join(keys, "web1"), encBlock(r, "secrets/shared/app.yaml", webPub)]).toString("hex")
        const viaConverted = run("age", ["-d", "-i", join(keys, "db1-age.txt"), encBlock(r, "secrets/shared/app.yaml", dbAge)]).toString("hex")
        expect(viaSsh).toMatch(/^[0-9a-f]{64}$/)
        expect(viaConverted).toBe(viaSsh)
        expect(run("age", ["-d", "-i", join(keys, "web1"), encBlock(r, "secrets/hosts/web1/env.yaml", webPub)]).length).toBe(32)
        expect(fileRecipients(r, "secrets/hosts/db1/env.yaml")).not.toContain(webPub)
        // And Debian age encrypting to the .pub is opened by our side with the host key.
        const hostHome = join(keys, "hosthome")
        mkdirSync(hostHome)
        const asHost = await r.cli(["decrypt", "secrets/hosts/web1/env.yaml"], { SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(keys, "web1") }, hostHome)
        expect(asHost.stdout).toBe(`password: ${SECRET}\n`)
        const asDb = await r.cli(["decrypt", "secrets/hosts/db1/env.yaml"], { SOPS_AGE_KEY_FILE: join(keys, "db1-age.txt") }, hostHome)
        expect(asDb.stdout).toBe(`password: ${SECRET}\n`)
    })

    it("keeps the comments of an existing config through add-host and remove", async () => {
        const r = repo()
        expect((await r.cli(["init", "--yes", "--user", "alice"])).code).toBe(0)
        const commented = r
            .read(".sops.yaml")
            .replace("keys:\n", "# Fleet keys: ask #ops before editing\nkeys:\n")
            .replace("creation_rules:\n", "creation_rules:\n  # one rule per directory\n")
        writeFileSync(join(r.dir, ".sops.yaml"), commented)
        const web = ageKeygen(join(r.dir, ".."), "web1")
        expect((await r.cli(["keys", "add-host", "web1", "--age", web.recipient])).code).toBe(0)
        const added = r.read(".sops.yaml")
        expect(added.startsWith("# Fleet keys: ask #ops before editing\nkeys:\n")).toBe(true)
        expect(added).toContain("creation_rules:\n  # one rule per directory\n  - path_regex: ^secrets/hosts/web1/\n")
        expect((await r.cli(["keys", "remove", "host_web1"])).code).toBe(0)
        expect(r.read(".sops.yaml")).toBe(commented)
    })

    it("refuses duplicates, unknown names, malformed keys and unconfirmed re-keys with nothing changed", async () => {
        const r = repo()
        expect((await r.cli(["init", "--yes", "--user", "alice"])).code).toBe(0)
        const web = ageKeygen(join(r.dir, ".."), "web1")
        expect((await r.cli(["keys", "add-host", "web1", "--age", web.recipient])).code).toBe(0)
        await newSecret(r, "secrets/shared/a.yaml")
        const other = ageKeygen(join(r.dir, ".."), "other")
        const alice = run("age-keygen", ["-y", r.keyFile]).toString().trim()
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(r.dir, "..", "hk")])
        const config = r.read(".sops.yaml")
        const file = r.read("secrets/shared/a.yaml")

        const cases: [string[], RegExp][] = [
            [["keys", "add-host", "web1", "--age", other.recipient, "-y"], /already has a key named host_web1 with another recipient/],
            [["keys", "add-user", "bob", "--age", alice, "-y"], /this recipient is already named user_alice/],
            [["keys", "add-user", "bob", "--age", "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "-y"], /malformed age recipient/],
            [["keys", "add-host", "db_1!", "--age", other.recipient, "-y"], /invalid host name "db_1!"/],
            [["keys", "add-host", "db1", "-y"], /add-host needs the host's key/],
            [["keys", "add-host", "db1", "--ssh-host-key", join(r.dir, "..", "hk"), "-y"], /is a private key/],
            [["keys", "remove", "nobody", "-y"], /no key named "nobody"/],
            [["keys", "add-host", "db1", "--age", other.recipient], /1 file would need re-keying: nothing changed without confirmation/],
        ]
        for (const [args, message] of cases) {
            const out = await r.cli(args)
            expect(out.code, args.join(" ")).not.toBe(0)
            expect(out.stderr).toMatch(message)
            expect(out.stderr).not.toContain("OPENSSH PRIVATE KEY")
            expect(r.read(".sops.yaml")).toBe(config)
            expect(r.read("secrets/shared/a.yaml")).toBe(file)
        }

        // --no-rekey edits the config only and says how to apply it.
        const noRekey = await r.cli(["keys", "add-host", "db1", "--age", other.recipient, "--no-rekey"])
        expect(noRekey.code).toBe(0)
        expect(noRekey.stderr).toContain("not re-keyed (--no-rekey): run `secrets updatekeys -y secrets/shared/a.yaml` to apply")
        expect(r.read("secrets/shared/a.yaml")).toBe(file)
        expect(r.read(".sops.yaml")).toContain(`&host_db1 ${other.recipient}`)
        // Running it again (same key) is not an error: it goes on to the re-key.
        const again = await r.cli(["keys", "add-host", "db1", "--age", other.recipient, "-y"])
        expect(again.code).toBe(0)
        expect(again.stderr).toContain("already has host_db1 with this recipient")
        expect(fileRecipients(r, "secrets/shared/a.yaml")).toContain(other.recipient)
    })
})

describe("secrets init at a terminal", () => {
    it("asks for the user, hosts, recovery and post-quantum key, and writes what was answered", async () => {
        const r = repo()
        writeFileSync(
            join(r.dir, "..", "run.sh"),
            [
                "#!/bin/sh",
                `cd '${r.dir}'`,
                `env -i HOME='${r.home}' USER=Carol.D PATH='${process.env.PATH ?? "/usr/bin:/bin"}' TERM="$TERM" '${process.execPath}' '${BIN}' init`,
                `echo $? > '${r.dir}/../rc.txt'`,
                "",
            ].join("\n"),
        )
        const socket = `secrets-init-${process.pid}-${Math.random().toString(36).slice(2)}`
        const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" })
        const waitFor = async (what: string) => {
            const deadline = Date.now() + 90_000 // a hang guard with the screen, not a speed check
            for (;;) {
                const screen = tmux("capture-pane", "-p", "-t", "init")
                if (screen.includes(what)) return screen
                if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${screen}`)
                await new Promise((res) => setTimeout(res, 100))
            }
        }
        try {
            tmux("new-session", "-d", "-s", "init", "-x", "160", "-y", "40", `sh '${join(r.dir, "..", "run.sh")}'; sleep 60`)
            expect(await waitFor("your user name")).toContain("(carol-d)")
            tmux("send-keys", "-t", "init", "Enter")
            await waitFor("hosts, comma-separated")
            tmux("send-keys", "-t", "init", "-l", "web1,db1")
            tmux("send-keys", "-t", "init", "Enter")
            await waitFor("generate an offline recovery key?")
            tmux("send-keys", "-t", "init", "y")
            tmux("send-keys", "-t", "init", "Enter")
            await waitFor("post-quantum")
            tmux("send-keys", "-t", "init", "Enter")
            await waitFor("next steps:")
            const rc = join(r.dir, "..", "rc.txt")
            for (let i = 0; i < 100 && (!existsSync(rc) || readFileSync(rc, "utf8").trim() === ""); i++) await new Promise((res) => setTimeout(res, 100))
            expect(readFileSync(join(r.dir, "..", "rc.txt"), "utf8").trim()).toBe("0")
        } finally {
            try {
                tmux("kill-server")
            } catch {
                // Already gone.
            }
        }
        const carol = run("age-keygen", ["-y", r.keyFile]).toString().trim()
        const recovery = run("age-keygen", ["-y", join(r.dir, "recovery-key.txt")]).toString().trim()
        expect(recipientsFor(r, "secrets/users/carol-d/a.yaml")).toEqual([carol, recovery])
        expect(existsSync(join(r.dir, "secrets/hosts/web1/.gitkeep"))).toBe(true)
        expect(existsSync(join(r.dir, "secrets/hosts/db1/.gitkeep"))).toBe(true)
        expect(mode(r.keyFile)).toBe(0o600)
    })
})
