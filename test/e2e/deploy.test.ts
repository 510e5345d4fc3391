/**
 * `secrets deploy` end to end through the built binary (issue 12), into a --root
 * tree in a temp dir: the host key made by ssh-keygen at
 * <root>/etc/ssh/ssh_host_ed25519_key, the repository's files encrypted to its
 * X25519 twin (and to an admin key that edits them), real users (daemon,
 * nobody) and real modes read back with stat, and a recording `systemctl`
 * stand-in first on PATH (systemd cannot run in CI).
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { fsTypeOf, parseMountinfo } from "../../src/delivery/run-mount.js"
import { sshEd25519ToAgeRecipient } from "../../src/keys/ssh-to-age.js"
import { runCli, type CliResult } from "../helpers/cli.js"
import { item, makeOpStandin, seedStore, vault } from "../helpers/op-standin.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const PASSWORD_1 = "db-pass-one-never-printed"
const PASSWORD_2 = "db-pass-two-never-printed"
const TOKEN_1 = "api-token-one-never-printed"
const TOKEN_2 = "api-token-two-never-printed"
const isRoot = process.getuid?.() === 0

const MANIFEST = `
creation_rules:
  - path_regex: ^secrets/
    age: HOST,ADMIN
secrets:
  deploy:
    web1:
      - name: db-password
        file: secrets/app.yaml
        key: '["db"]["password"]'
        owner: daemon
        group: daemon
        mode: "0440"
        restart_units: [app.service]
      - name: app.env
        file: secrets/app.env
        owner: nobody
        path: /etc/app/app.env
        reload_units: [nginx.service]
      - name: conf/app.ini
        content: "[db]\\npassword={{ secrets/app.yaml#[\\"db\\"][\\"password\\"] }}\\n"
        restart_units: [app.service]
`

interface Fleet {
    readonly dir: string
    readonly repo: string
    readonly root: string
    readonly log: string
    readonly adminKey: string
    cli(args: string[], env?: Record<string, string>): Promise<CliResult>
    /** Set a value as the admin does (with the admin key, never the host key). */
    set(file: string, path: string, value: string): Promise<void>
    /** The argv lines the systemctl stand-in recorded since the last call. */
    units(): string[]
}

async function fleet(): Promise<Fleet> {
    const dir = tempDir()
    const repo = join(dir, "repo")
    const root = join(dir, "root")
    const bin = join(dir, "bin")
    const log = join(dir, "systemctl.log")
    for (const d of [join(repo, "secrets"), join(root, "etc/ssh"), bin]) mkdirSync(d, { recursive: true })
    const hostKey = join(root, "etc/ssh/ssh_host_ed25519_key")
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@web1", "-f", hostKey])
    const hostRecipient = sshEd25519ToAgeRecipient(readFileSync(`${hostKey}.pub`, "utf8"))
    const admin = ageKeygen(dir, "admin")
    // Records its argv (one JSON line per call); fails for the unit named in FAIL_UNIT.
    writeFileSync(
        join(bin, "systemctl"),
        `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nfor a in "$@"; do if [ "$a" = "$FAIL_UNIT" ]; then echo "Job for $a failed because the control process exited with error code." >&2; exit 1; fi; done\nexit 0\n`,
    )
    chmodSync(join(bin, "systemctl"), 0o755)
    writeFileSync(join(repo, ".sops.yaml"), MANIFEST.replace("HOST", hostRecipient).replace("ADMIN", admin.recipient))
    writeFileSync(join(repo, "secrets/app.yaml"), `db:\n  password: ${PASSWORD_1}\n  user: app\n`)
    writeFileSync(join(repo, "secrets/app.env"), `API_TOKEN=${TOKEN_1}\n`)
    const path = `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`
    const home = join(dir, "home")
    mkdirSync(home)
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: repo, home, env: { PATH: path, ...env } })
    for (const f of ["secrets/app.yaml", "secrets/app.env"]) {
        const r = await cli(["encrypt", "-i", f], { SOPS_AGE_KEY_FILE: admin.file })
        expect(r.stderr).toBe("")
    }
    let seen = 0
    return {
        dir,
        repo,
        root,
        log,
        adminKey: admin.file,
        cli,
        async set(file, keyPath, value) {
            const r = await cli(["set", file, keyPath, JSON.stringify(value)], { SOPS_AGE_KEY_FILE: admin.file })
            expect(r.stderr).toBe("")
            expect(r.code).toBe(0)
        },
        units() {
            const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l !== "") : []
            const fresh = lines.slice(seen)
            seen = lines.length
            return fresh
        },
    }
}

const deployArgs = (f: Fleet, ...more: string[]) => ["deploy", "--host", "web1", "--root", f.root, ...more]

function uidOf(user: string): number {
    return Number(run("id", ["-u", user]).toString().trim())
}

function gidOf(group: string): number {
    return Number(run("getent", ["group", group]).toString().split(":")[2])
}

/** Every file of a generation directory with its bytes' hash, mode and owner: to show it did not change. */
function snapshot(dir: string): Record<string, string> {
    const out: Record<string, string> = {}
    const walk = (d: string, rel: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = join(d, e.name)
            const st = lstatSync(p)
            if (e.isDirectory()) walk(p, `${rel}${e.name}/`)
            else out[`${rel}${e.name}`] = `${createHash("sha256").update(readFileSync(p)).digest("hex")} ${st.mode.toString(8)} ${st.uid}:${st.gid}`
        }
    }
    walk(dir, "")
    return out
}

function expectNoValues(r: CliResult): void {
    for (const v of [PASSWORD_1, PASSWORD_2, TOKEN_1, TOKEN_2]) {
        expect(r.stdout).not.toContain(v)
        expect(r.stderr).not.toContain(v)
    }
}

describe.skipIf(!isRoot)("secrets deploy", () => {
    it("installs with owners and modes, restarts only changed units once, keeps generations, rolls back, prunes", { timeout: 180_000 }, async () => {
        const f = await fleet()
        const secrets = join(f.root, "run/secrets")

        // First install: owners and modes as the manifest says; no restart (the services start after us).
        let r = await f.cli(deployArgs(f))
        expect(r.code, r.stderr).toBe(0)
        expectNoValues(r)
        expect(r.stdout).toContain("/run/secrets: generation 1 is active (none before)")
        // The warning when the target is on a disk (a temp dir usually is; then the test says so).
        const fsType = fsTypeOf(parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8")), realpathSync(f.root))
        const warning = `secrets: warning: ${JSON.stringify(join(f.root, "run"))} is on ${fsType}, not tmpfs or ramfs: the deployed plaintext is written to a disk, where it outlives a reboot\n`
        if (fsType === "tmpfs" || fsType === "ramfs") expect(r.stderr).not.toContain("not tmpfs or ramfs")
        else expect(r.stderr).toContain(warning)
        expect(readlinkSync(secrets)).toBe("secrets.d/1")
        expect(readFileSync(join(secrets, "db-password"), "utf8")).toBe(PASSWORD_1)
        const db = statSync(join(secrets, "db-password"))
        expect([db.uid, db.gid, db.mode & 0o7777]).toEqual([uidOf("daemon"), gidOf("daemon"), 0o440])
        const env = statSync(join(secrets, "app.env"))
        expect([env.uid, env.gid, env.mode & 0o7777]).toEqual([uidOf("nobody"), 0, 0o400])
        expect(readFileSync(join(secrets, "app.env"), "utf8")).toBe(`API_TOKEN=${TOKEN_1}\n`)
        expect(readFileSync(join(secrets, "conf/app.ini"), "utf8")).toBe(`[db]\npassword=${PASSWORD_1}\n`)
        expect(statSync(join(f.root, "run/secrets.d/1")).mode & 0o7777).toBe(0o751)
        // The path link outside /run/secrets points through the stable link.
        expect(readlinkSync(join(f.root, "etc/app/app.env"))).toBe(join(f.root, "run/secrets/app.env"))
        expect(readFileSync(join(f.root, "etc/app/app.env"), "utf8")).toBe(`API_TOKEN=${TOKEN_1}\n`)
        expect(f.units()).toEqual([])

        // Nothing changed: no new generation, no restart.
        r = await f.cli(deployArgs(f))
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain("generation 1 is up to date")
        expect(existsSync(join(f.root, "run/secrets.d/2"))).toBe(false)
        expect(f.units()).toEqual([])

        // The value changes in the repository: --dry-run names what changes, writes nothing.
        await f.set("secrets/app.yaml", '["db"]["password"]', PASSWORD_2)
        r = await f.cli(deployArgs(f, "--dry-run"))
        expect(r.code, r.stderr).toBe(0)
        expectNoValues(r)
        expect(r.stdout).toContain("  changed     db-password\n")
        expect(r.stdout).toContain("  unchanged   app.env\n")
        expect(r.stdout).toContain("would restart: app.service\n")
        expect(existsSync(join(f.root, "run/secrets.d/2"))).toBe(false)
        expect(f.units()).toEqual([])
        r = await f.cli(deployArgs(f, "--check"))
        expect(r.code).toBe(1)
        expect(r.stdout).toContain("db-password: changed in the repository, not deployed")

        // Deploy: generation 2; app.service (named by two changed entries) restarted once, nginx not at all.
        r = await f.cli(deployArgs(f))
        expect(r.code, r.stderr).toBe(0)
        expectNoValues(r)
        expect(readlinkSync(secrets)).toBe("secrets.d/2")
        expect(readFileSync(join(secrets, "db-password"), "utf8")).toBe(PASSWORD_2)
        expect(f.units()).toEqual(["try-restart app.service"])

        // Only the env file changes: only nginx, by its reload_units.
        const put = await f.cli(["set", "secrets/app.env", '["API_TOKEN"]', JSON.stringify(TOKEN_2)], { SOPS_AGE_KEY_FILE: f.adminKey })
        expect(put.code, put.stderr).toBe(0)
        r = await f.cli(deployArgs(f, "--json"))
        expect(r.code, r.stderr).toBe(0)
        expectNoValues(r)
        const doc = JSON.parse(r.stdout) as { stores: { store: string; previous: number; active: number; items: { name: string; change: string }[] }[]; restart: string[]; reload: string[] }
        expect(doc.stores[0]).toMatchObject({ store: "secrets", previous: 2, active: 3 })
        expect(doc.stores[0]?.items).toContainEqual({ name: "app.env", change: "changed" })
        expect([doc.restart, doc.reload]).toEqual([[], ["nginx.service"]])
        expect(f.units()).toEqual(["try-reload-or-restart nginx.service"])
        r = await f.cli(deployArgs(f, "--check"))
        expect(r.code, r.stdout).toBe(0)

        // Someone edits the deployed file: --check sees it, and a deploy repairs it.
        chmodSync(join(secrets, "db-password"), 0o444)
        r = await f.cli(deployArgs(f, "--check"))
        expect(r.code).toBe(1)
        expect(r.stdout).toContain("db-password: mode 0444, deployed as 0440")

        // Rollback: generation 2 again, no decryption (no identity at all), and the unit of what differs.
        r = await f.cli(deployArgs(f, "--rollback", "--identity", join(f.dir, "missing-key")))
        expect(r.code, r.stderr).toBe(0)
        expect(readlinkSync(secrets)).toBe("secrets.d/2")
        expect(readFileSync(join(f.root, "etc/app/app.env"), "utf8")).toBe(`API_TOKEN=${TOKEN_1}\n`)
        expect(f.units()).toEqual(["try-reload-or-restart nginx.service"])

        // Pruning: deploy again (generation 4 from the repository) with --keep 2 keeps 3 and 4.
        r = await f.cli(deployArgs(f, "--keep", "2"))
        expect(r.code, r.stderr).toBe(0)
        expect(readlinkSync(secrets)).toBe("secrets.d/4")
        expect(readdirSync(join(f.root, "run/secrets.d")).sort()).toEqual(["3", "4"])
        expect(r.stdout).toContain("pruned generations 1, 2")
    })

    it("a failing entry changes nothing and names the entry; a failing restart fails after the switch", { timeout: 180_000 }, async () => {
        const f = await fleet()
        expect((await f.cli(deployArgs(f))).code).toBe(0)
        const before = snapshot(join(f.root, "run/secrets.d/1"))
        const config = readFileSync(join(f.repo, ".sops.yaml"), "utf8")

        // An owner that does not exist.
        writeFileSync(join(f.repo, ".sops.yaml"), `${config}      - name: extra\n        file: secrets/app.env\n        owner: no-such-user-here\n`)
        await f.set("secrets/app.yaml", '["db"]["password"]', PASSWORD_2)
        let r = await f.cli(deployArgs(f))
        expect(r.code).toBe(1)
        expect(r.stderr).toContain('secrets: error: .sops.yaml: secrets.deploy.web1[3] ("extra").owner: no user "no-such-user-here"')

        // A file the host cannot open (encrypted to the admin only).
        writeFileSync(join(f.repo, "other.yaml"), `k: ${PASSWORD_2}\n`)
        expect((await f.cli(["encrypt", "-i", "--age", run("age-keygen", ["-y", f.adminKey]).toString().trim(), "other.yaml"], { SOPS_AGE_KEY_FILE: f.adminKey })).code).toBe(0)
        writeFileSync(join(f.repo, ".sops.yaml"), `${config}      - name: other\n        file: other.yaml\n`)
        r = await f.cli(deployArgs(f))
        expect(r.code).toBe(128)
        expectNoValues(r)
        expect(r.stderr).toContain('secrets: error: .sops.yaml: secrets.deploy.web1[3] ("other"): "other.yaml": ')
        expect(r.stderr).toContain(`host key ${join(f.root, "etc/ssh/ssh_host_ed25519_key")}`)

        // Neither touched the active generation, nor left a half-built one.
        expect(readlinkSync(join(f.root, "run/secrets"))).toBe("secrets.d/1")
        expect(snapshot(join(f.root, "run/secrets.d/1"))).toEqual(before)
        expect(readdirSync(join(f.root, "run/secrets.d"))).toEqual(["1"])
        expect(f.units()).toEqual([])

        // A restart that fails: the new generation stays active, the exit is non-zero, the unit is named.
        writeFileSync(join(f.repo, ".sops.yaml"), config)
        r = await f.cli(deployArgs(f), { FAIL_UNIT: "app.service" })
        expect(r.code).toBe(1)
        expect(readlinkSync(join(f.root, "run/secrets"))).toBe("secrets.d/2")
        expect(r.stderr).toContain("secrets: error: systemctl try-restart app.service failed: Job for app.service failed")
        expect(f.units()).toEqual(["try-restart app.service"])

        // Pruning that fails (a file of generation 1 made immutable) fails after the
        // switch: the new generation is active, its units restarted, the exit non-zero.
        const pinned = join(f.root, "run/secrets.d/1/app.env")
        if (spawnSync("chattr", ["+i", pinned]).status !== 0) return // no CAP_LINUX_IMMUTABLE here
        try {
            const put = await f.cli(["set", "secrets/app.env", '["API_TOKEN"]', JSON.stringify(TOKEN_2)], { SOPS_AGE_KEY_FILE: f.adminKey })
            expect(put.code, put.stderr).toBe(0)
            r = await f.cli(deployArgs(f, "--keep", "2"))
            expect(r.code, r.stderr).toBe(1)
            expect(readlinkSync(join(f.root, "run/secrets"))).toBe("secrets.d/3")
            expect(r.stderr).toContain(`secrets: error: could not remove ${JSON.stringify(join(f.root, "run/secrets.d/1"))}: `)
            expect(f.units()).toEqual(["try-reload-or-restart nginx.service"])
        } finally {
            spawnSync("chattr", ["-i", pinned])
        }
    })

    it("renders a template file with a file placeholder and an op:// placeholder (stand-in op)", { timeout: 120_000 }, async () => {
        const f = await fleet()
        const smtp = "smtp-pass-from-1password-never-printed"
        const op = await makeOpStandin(f.dir, seedStore({ vaults: [vault("Prod", [item({ title: "smtp", fields: [{ label: "password", value: smtp }] })])] }))
        mkdirSync(join(f.repo, "templates"))
        writeFileSync(join(f.repo, "templates/mail.conf.tmpl"), 'user = {{ secrets/app.yaml#["db"]["user"] }}\npassword = {{op://Prod/smtp/password}}\nliteral = {{ "{{" }}\n')
        const config = readFileSync(join(f.repo, ".sops.yaml"), "utf8")
        writeFileSync(join(f.repo, ".sops.yaml"), `${config}      - name: mail.conf\n        template: templates/mail.conf.tmpl\n        owner: daemon\n        mode: "0400"\n`)
        const r = await f.cli(deployArgs(f), op.env)
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout + r.stderr).not.toContain(smtp)
        const path = join(f.root, "run/secrets/mail.conf")
        expect(readFileSync(path, "utf8")).toBe(`user = app\npassword = ${smtp}\nliteral = {{\n`)
        expect(statSync(path).uid).toBe(uidOf("daemon"))
        // The op reference was read once, and its value was not in op's argv.
        const reads = (await op.readLog()).filter((c) => c.argv.includes("read"))
        expect(reads.length).toBe(1)
        expect(reads[0]?.argv.join(" ")).not.toContain(smtp)
    })
})
