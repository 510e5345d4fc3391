/**
 * Issue 12: "The Nix function evaluated with nix-instantiate gives the manifest that
 * secrets deploy accepts", end to end: nix/manifest.nix (sops-nix-style options,
 * placeholders from nix/lib.nix) -> manifest JSON -> the built binary's
 * `deploy --manifest` into a --root tree, with real files, owners and modes; and the
 * two steps the NixOS module runs: the needed-for-users entries before users exist
 * (`--needed-for-users`, which resolves and touches nothing else), then everything.
 */
import { spawnSync } from "node:child_process"
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const NIX_DIR = resolve(import.meta.dirname, "../../nix")
const missing = spawnSync("nix-instantiate", ["--version"]).status === 0 ? undefined : "nix-instantiate is not installed (Debian package nix-bin)"
if (missing !== undefined && process.env.CI) throw new Error(`CI is set but ${missing}`)

/** A repository with one encrypted file, a host key, and a --root tree whose /etc/passwd knows `daemon` only. */
async function setup() {
    const dir = tempDir()
    const key = ageKeygen(dir, "host")
    const file = join(dir, "web1.yaml")
    writeFileSync(file, "db:\n    password: hunter2\nusers:\n    root: $6$hash\n")
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", file], { cwd: dir })
    expect(enc.code, enc.stderr).toBe(0)
    const root = join(dir, "root")
    mkdirSync(join(root, "etc"), { recursive: true })
    mkdirSync(join(root, "run"))
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\ndaemon:x:1:1::/:/usr/sbin/nologin\n")
    writeFileSync(join(root, "etc/group"), "root:x:0:\ndaemon:x:1:\n")
    return { dir, key, file, root }
}

/** nix/manifest.nix on these options (Nix source), written where the module would put it. */
function manifestFromNix(dir: string, options: string): string {
    const r = spawnSync("nix-instantiate", ["--readonly-mode", "--eval", "--strict", "--json", "-E", `let lib = import ${NIX_DIR}/lib.nix; in import ${NIX_DIR}/manifest.nix ${options}`], {
        encoding: "utf8",
    })
    expect(r.status, r.stderr).toBe(0)
    const out = join(dir, "manifest.json")
    writeFileSync(out, r.stdout)
    return out
}

const deploy = (s: { dir: string; key: { file: string }; root: string }, manifest: string, ...extra: string[]) =>
    runCli(["deploy", "--manifest", manifest, "--host", "web1", "--root", s.root, "--identity", s.key.file, "--no-restart", ...extra], { cwd: s.dir })

describe.skipIf(missing !== undefined)(`a manifest from nix/manifest.nix, deployed${missing !== undefined ? ` (skipped: ${missing})` : ""}`, () => {
    it("installs secrets and a template with sops-nix's owners, modes and placeholders", async () => {
        const s = await setup()
        const manifest = manifestFromNix(
            s.dir,
            `{
                host = "web1";
                secrets.db-password = { sopsFile = "${s.file}"; key = "db/password"; owner = "daemon"; group = "daemon"; mode = "0440"; };
                secrets.root-hash = { sopsFile = "${s.file}"; key = "users/root"; neededForUsers = true; };
                templates."app.env".content = "DB_PASSWORD=\${lib.placeholderFor "app.env" "${s.dir}" "${s.file}" "db/password"}\\n";
            }`,
        )
        const r = await deploy(s, manifest)
        expect(r.code, r.stderr).toBe(0)
        const secrets = join(s.root, "run/secrets")
        expect(lstatSync(secrets).isSymbolicLink()).toBe(true)
        const db = statSync(join(secrets, "db-password"))
        expect([db.uid, db.gid, db.mode & 0o7777]).toEqual([1, 1, 0o440])
        expect(readFileSync(join(secrets, "db-password"), "utf8")).toBe("hunter2")
        expect(readFileSync(join(secrets, "rendered/app.env"), "utf8")).toBe("DB_PASSWORD=hunter2\n")
        const forUsers = join(s.root, "run/secrets-for-users/root-hash")
        expect(readFileSync(forUsers, "utf8")).toBe("$6$hash")
        expect([statSync(forUsers).uid, statSync(forUsers).mode & 0o7777]).toEqual([0, 0o400])
    })

    it("--needed-for-users deploys only those entries, before the other entries' users exist, and leaves /run/secrets alone", async () => {
        const s = await setup()
        const manifest = manifestFromNix(
            s.dir,
            `{
                host = "web1";
                secrets.app-password = { sopsFile = "${s.file}"; key = "db/password"; owner = "appuser"; };
                secrets.root-hash = { sopsFile = "${s.file}"; key = "users/root"; neededForUsers = true; };
            }`,
        )
        // The activation before users: appuser does not exist yet.
        const early = await deploy(s, manifest, "--needed-for-users")
        expect(early.code, early.stderr).toBe(0)
        expect(readFileSync(join(s.root, "run/secrets-for-users/root-hash"), "utf8")).toBe("$6$hash")
        expect(existsSync(join(s.root, "run/secrets"))).toBe(false)

        // The users step creates appuser; the second step deploys everything.
        writeFileSync(join(s.root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\ndaemon:x:1:1::/:/usr/sbin/nologin\nappuser:x:1234:1234::/:/usr/sbin/nologin\n")
        const forUsersBefore = readlinkSync(join(s.root, "run/secrets-for-users"))
        const full = await deploy(s, manifest)
        expect(full.code, full.stderr).toBe(0)
        expect(statSync(join(s.root, "run/secrets/app-password")).uid).toBe(1234)
        // Unchanged for-users entries: no new generation there.
        expect(readlinkSync(join(s.root, "run/secrets-for-users"))).toBe(forUsersBefore)

        // The next activation's first step does not touch /run/secrets.
        const secretsBefore = readlinkSync(join(s.root, "run/secrets"))
        const again = await deploy(s, manifest, "--needed-for-users")
        expect(again.code, again.stderr).toBe(0)
        expect(readlinkSync(join(s.root, "run/secrets"))).toBe(secretsBefore)
        expect(readFileSync(join(s.root, "run/secrets/app-password"), "utf8")).toBe("hunter2")

        // A rollback moves /run/secrets only: asking for it with --needed-for-users is a mistake.
        const both = await deploy(s, manifest, "--needed-for-users", "--rollback")
        expect(both.code).toBe(8)
        expect(both.stderr).toContain("--rollback and --needed-for-users cannot be used together")
        expect(readlinkSync(join(s.root, "run/secrets"))).toBe(secretsBefore)
    })
})
