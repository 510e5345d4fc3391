/**
 * A fleet repo for the re-keying, revoke and rotate tests: three hosts, two users
 * and a recovery key made by Debian age-keygen, `.sops.yaml` written by hand in the
 * layout of issue 4 (one rule per directory, hosts, users, shared), and one or two
 * encrypted files per directory made by `secrets encrypt`.
 *
 * The fixture's files are encrypted, and the "who opens what" checks decrypt, with
 * the program run in this process (runInProcess): they surround the command under
 * test, which the e2e tests run through the built binary, and a spawned binary
 * per check cost these files dozens of node start-ups each. decryptWithBinary
 * is there for the e2e claims themselves.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { expect } from "vitest"
import { parse } from "yaml"
import { runCli } from "../../helpers/cli.js"
import { runInProcess } from "../../helpers/in-process.js"
import { ageKeygen, run, tempDir } from "../../helpers/tmp.js"

export type Key = ReturnType<typeof ageKeygen>
export const HOSTS = ["web1", "web2", "web3"] as const
export const USERS = ["alice", "bob"] as const

/** One secret per file; the value text is unique so a test can grep for it anywhere. */
export const FILES: Record<string, string> = {
    "secrets/shared/app.yaml": "api:\n    token: shared-token-VALUE-1\nregion: eu\n",
    "secrets/shared/db.yaml": "db:\n    password: shared-db-VALUE-2\n",
    "secrets/hosts/web1/tls.yaml": "tls:\n    key: web1-tls-VALUE-3\n",
    "secrets/hosts/web2/tls.yaml": "tls:\n    key: web2-tls-VALUE-4\n",
    "secrets/hosts/web3/tls.yaml": "tls:\n    key: web3-tls-VALUE-5\n",
    "secrets/users/alice/token.yaml": "github:\n    token: alice-VALUE-6\n",
    "secrets/users/bob/token.yaml": "github:\n    token: bob-VALUE-7\nlist:\n    - bob-VALUE-8\n",
}

export interface Fleet {
    repo: string
    /** Where the key files live (outside the repo). */
    keysDir: string
    keys: Record<string, Key>
    /** A key file holding alice's and the recovery identity: the operator. */
    operator: string
    /** An empty home: no default key file, no ~/.ssh. */
    emptyHome: string
}

export function configText(keys: Record<string, Key>, hosts: readonly string[] = HOSTS): string {
    const lines = ["# fleet keys: hosts, users, recovery", "keys:"]
    for (const h of hosts) lines.push(`    - &host_${h} ${keys[h]?.recipient}`)
    for (const u of USERS) lines.push(`    - &user_${u} ${keys[u]?.recipient} # ${u}@example.org`)
    lines.push(`    - &recovery ${keys.recovery?.recipient}`, "creation_rules:")
    for (const h of hosts) {
        lines.push(`    - path_regex: ^secrets/hosts/${h}/`, "      key_groups:", `          - age: [${[...USERS.map((u) => `*user_${u}`), `*host_${h}`, "*recovery"].join(", ")}]`)
    }
    for (const u of USERS) lines.push(`    - path_regex: ^secrets/users/${u}/`, "      key_groups:", `          - age: [*user_${u}, *recovery]`)
    lines.push("    # every host and user", "    - path_regex: ^secrets/shared/", "      key_groups:")
    lines.push(`          - age: [${[...USERS.map((u) => `*user_${u}`), ...hosts.map((h) => `*host_${h}`), "*recovery"].join(", ")}]`)
    lines.push("secrets:", "    rotation:", "        max_age: 90d", "")
    return lines.join("\n")
}

export async function makeFleet(): Promise<Fleet> {
    const repo = tempDir()
    const keysDir = tempDir()
    const emptyHome = tempDir()
    const keys: Record<string, Key> = {}
    for (const n of [...HOSTS, ...USERS, "recovery", "web4"]) keys[n] = ageKeygen(keysDir, n)
    const operator = join(keysDir, "operator.txt")
    writeFileSync(operator, `${keys.alice?.text}${keys.recovery?.text}`, { mode: 0o600 })
    writeFileSync(join(repo, ".sops.yaml"), configText(keys))
    for (const [file, plain] of Object.entries(FILES)) {
        mkdirSync(join(repo, file, ".."), { recursive: true })
        writeFileSync(join(repo, file), plain)
        const r = await runInProcess(["encrypt", "-i", file], { cwd: repo, home: emptyHome, env: { SECRETS_NOW: "2030-01-01T00:00:00Z", SOPS_AGE_KEY_FILE: operator } })
        // The operator holds the recovery key, so encrypt has no "you will not be able to decrypt" warning.
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
    }
    writeFileSync(join(repo, "README.md"), "not a secret\n")
    return { repo, keysDir, keys, operator, emptyHome }
}

/** Decrypt `file` with only the identities in `keyFile` (`secrets decrypt` in this process): the exit code and stdout. */
export async function decryptWith(fleet: Fleet, file: string, keyFile: string): Promise<{ code: number; stdout: string }> {
    const r = await runInProcess(["decrypt", file], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: keyFile } })
    return { code: r.code, stdout: r.stdout }
}

/** decryptWith through the built binary: for what an e2e test claims of the program as shipped. */
export async function decryptWithBinary(fleet: Fleet, file: string, keyFile: string): Promise<{ code: number; stdout: string }> {
    const r = await runCli(["decrypt", file], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: keyFile } })
    return { code: r.code, stdout: r.stdout }
}

/** The files of the repo (not .git) with their bytes and mtimes. */
export function snapshot(repo: string): Map<string, { text: string; mtimeMs: number }> {
    const out = new Map<string, { text: string; mtimeMs: number }>()
    const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
            const p = join(dir, e.name)
            if (e.isDirectory()) {
                if (e.name !== ".git") walk(p)
            } else out.set(relative(repo, p), { text: readFileSync(p, "utf8"), mtimeMs: statSync(p).mtimeMs })
        }
    }
    walk(repo)
    return out
}

interface SopsMeta {
    age: { recipient: string; enc: string }[]
    mac: string
    lastmodified: string
}

export function sopsOf(path: string): SopsMeta {
    return (parse(readFileSync(path, "utf8")) as { sops: SopsMeta }).sops
}

/** The recipients of a file in file order. */
export function recipientsOf(path: string): string[] {
    return sopsOf(path).age.map((a) => a.recipient)
}

/** The data key as Debian's age sees it, from `key`'s block of the file. */
export function dataKeyWithAge(fleet: Fleet, file: string, key: Key): string {
    const block = sopsOf(join(fleet.repo, file)).age.find((a) => a.recipient === key.recipient)
    if (block === undefined) throw new Error("recipient not in file")
    const tmp = join(fleet.keysDir, "block.age")
    writeFileSync(tmp, block.enc)
    return run("age", ["-d", "-i", key.file, tmp]).toString("hex")
}

/** Who may read which file, by the layout. */
export function readers(file: string): string[] {
    if (file.startsWith("secrets/shared/")) return [...USERS, ...HOSTS, "recovery"]
    const host = /^secrets\/hosts\/([^/]+)\//.exec(file)?.[1]
    if (host !== undefined) return [...USERS, host, "recovery"]
    const user = /^secrets\/users\/([^/]+)\//.exec(file)?.[1]
    return user !== undefined ? [user, "recovery"] : []
}
