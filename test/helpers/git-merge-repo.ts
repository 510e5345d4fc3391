/**
 * A temp git repository with the `secrets` merge driver configured as
 * `secrets git setup` will (the built binary, by absolute path), an age key per
 * person, and `app.yaml` encrypted and committed on `main`: the fixture of the
 * merge driver and `git resolve` tests (issue 15 point 3).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { expect } from "vitest"
import { BIN, runCli, type CliResult } from "./cli.js"
import { ageKeygen, tempDir } from "./tmp.js"

export interface MergeRepo {
    readonly root: string
    readonly repo: string
    readonly home: string
    readonly alice: ReturnType<typeof ageKeygen>
    readonly web1: ReturnType<typeof ageKeygen>
    /** git with alice's key in the environment (the driver inherits it); throws on failure. */
    git(args: string[]): string
    /** git that may fail: status, stdout and stderr. */
    gitTry(args: string[]): { status: number; stdout: string; stderr: string }
    /** secrets as alice, in the repository; asserts exit 0 unless `allowFail`. */
    cli(args: string[], opts?: { env?: Record<string, string>; allowFail?: boolean }): Promise<CliResult>
    /** The decrypted file as JSON-ish text through `secrets decrypt` (MAC verified). */
    decrypt(file?: string, key?: string): Promise<string>
    read(file?: string): string
    /** The sops .sops.yaml with these recipients (names from keys:). */
    writeConfig(recipients: string): void
}

export async function mergeRepo(): Promise<MergeRepo> {
    const root = tempDir()
    const repo = join(root, "repo")
    const home = join(root, "home")
    mkdirSync(repo)
    mkdirSync(home)
    const alice = ageKeygen(root, "alice")
    const web1 = ageKeygen(root, "web1")
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1", SOPS_AGE_KEY_FILE: alice.file }
    const git = (args: string[]) => execFileSync("git", args, { cwd: repo, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    const gitTry = (args: string[]) => {
        const r = spawnSync("git", args, { cwd: repo, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
    }
    const cli = async (args: string[], opts: { env?: Record<string, string>; allowFail?: boolean } = {}) => {
        const r = await runCli(args, { cwd: repo, home, env: { SOPS_AGE_KEY_FILE: alice.file, ...opts.env } })
        if (opts.allowFail !== true) expect(r.code, r.stderr).toBe(0)
        return r
    }
    const writeConfig = (recipients: string) =>
        writeFileSync(
            join(repo, ".sops.yaml"),
            `keys:\n  - &user_alice ${alice.recipient}\n  - &host_web1 ${web1.recipient}\ncreation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [${recipients}]\n`,
        )
    git(["-c", "init.defaultBranch=main", "init", "-q"])
    git(["config", "user.email", "t@example.com"])
    git(["config", "user.name", "t"])
    git(["config", "merge.secrets.name", "secrets: merge encrypted files by key path"])
    git(["config", "merge.secrets.driver", `"${process.execPath}" "${BIN}" git merge-driver %O %A %B %P`])
    git(["config", "merge.secrets.recursive", "binary"])
    writeFileSync(join(repo, ".gitattributes"), "app.yaml merge=secrets\n")
    writeConfig("*user_alice")
    writeFileSync(join(repo, "app.yaml"), "db:\n  password: base-password\n  host: db.internal\napi:\n  token: base-token\nmode: base-mode\n")
    const r = await cli(["encrypt", "-i", "app.yaml"])
    expect(r.code).toBe(0)
    git(["add", "."])
    git(["commit", "-qm", "base"])
    return {
        root,
        repo,
        home,
        alice,
        web1,
        git,
        gitTry,
        cli,
        decrypt: async (file = "app.yaml", key = alice.file) => (await cli(["decrypt", "--output-type", "json", file], { env: { SOPS_AGE_KEY_FILE: key } })).stdout,
        read: (file = "app.yaml") => readFileSync(join(repo, file), "utf8"),
        writeConfig,
    }
}

/** The ENC string of each value line (`  password: ENC[…]`), keyed by the line's key. */
export function encStrings(text: string): Map<string, string> {
    const out = new Map<string, string>()
    for (const m of text.matchAll(/^\s*([A-Za-z_]+): (ENC\[[^\]]+\])$/gm)) out.set(m[1]!, m[2]!)
    return out
}
