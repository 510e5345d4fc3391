/**
 * Profiles end to end (issue 13 point 3 and its "done when"): `init --profiles
 * dev,prod` lays out a repository in which the developer's key opens dev and
 * only CI (a host) opens prod; the developer runs `secrets run --profile dev`,
 * CI runs `secrets run --profile prod` (here through SECRETS_PROFILE) under
 * GitHub Actions, and neither output holds a value; `status`, `ls` and `export`
 * take the profile too. Real age keys, the built binary, real child programs.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen } from "../helpers/tmp.js"

const DEV_PASSWORD = "dev-pa55-for-laptops"
const PROD_PASSWORD = "prod-pa55-never-logged"
const CONCEALED = "<concealed by secrets>"

let repo = ""
let home = ""
let ci: { file: string; recipient: string }
let alice: (args: string[], env?: Record<string, string>) => Promise<CliResult>
let asCi: (args: string[], env?: Record<string, string>) => Promise<CliResult>

let top = ""
afterAll(() => rmSync(top, { recursive: true, force: true }))

// One repository for the whole file: each test reads it as a different person would.
beforeAll(async () => {
    top = mkdtempSync(join(tmpdir(), "secrets-test-"))
    repo = join(top, "repo")
    home = join(top, "home")
    ci = ageKeygen(top, "ci")
    alice = (args, env = {}) => runCli(args, { cwd: repo, home, env })
    // CI has its own key and no home key file.
    asCi = (args, env = {}) => runCli(args, { cwd: repo, home: join(top, "ci-home"), env: { SOPS_AGE_KEY_FILE: ci.file, ...env } })
    mkdirSync(repo)
    const init = await alice(["init", "--yes", "--user", "alice", "--host", `ci=${ci.recipient}`, "--profiles", "dev,prod"])
    expect(init.stderr).toContain("declared profile dev (readers: users); declared profile prod (readers: hosts)")
    expect(init.code).toBe(0)
    writeFileSync(join(top, "dev.env"), `DB_PASSWORD=${DEV_PASSWORD}\nAPI_URL=http://localhost:8080\n`)
    writeFileSync(join(top, "prod.env"), `DB_PASSWORD=${PROD_PASSWORD}\n`)
    const dev = await alice(["import", "../dev.env", "--into", "secrets/dev/app.env"])
    expect(dev.code).toBe(0)
    // alice writes prod's file but cannot read it back: encrypt says so.
    const prod = await alice(["import", "../prod.env", "--into", "secrets/prod/app.env"])
    expect(prod.code).toBe(0)
    expect(prod.stderr).toContain('you will not be able to decrypt "secrets/prod/app.env"')
}, 120_000)

describe("profiles", () => {
    it("init --profiles gives dev to every user and host, prod to the hosts (CI) only", () => {
        const config = readFileSync(join(repo, ".sops.yaml"), "utf8")
        expect(config).toContain("secrets:\n  profiles:\n    dev:\n      readers: users\n    prod:\n      readers: hosts\n")
        expect(config).toContain("  - path_regex: ^secrets/dev/\n    key_groups:\n      - age:\n          - *user_alice\n          - *host_ci\n")
        expect(config).toContain("  - path_regex: ^secrets/prod/\n    key_groups:\n      - age:\n          - *host_ci\n")
    })

    it("a developer runs the dev profile with values in the environment and none in the output", async () => {
        const r = await alice(["run", "--profile", "dev", "--", "sh", "-c", 'echo "db=$DB_PASSWORD"; test "$DB_PASSWORD" = "$1" && echo same', "sh", DEV_PASSWORD])
        expect(r.stderr).toBe("")
        // The argument the test passed holds the value too, and is what `test` compares with.
        expect(r.stdout).toBe(`db=${CONCEALED}\nsame\n`)
        expect(r.code).toBe(0)
    })

    it("the developer's key does not open prod: the run fails before the command starts, naming the file", async () => {
        const r = await alice(["run", "--profile", "prod", "--", "sh", "-c", "echo started"])
        expect(r.code).toBe(128)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain('secrets: error: "secrets/prod/app.env": could not recover the data key')
        expect(r.stderr).not.toContain(PROD_PASSWORD)
    })

    it("CI runs the prod profile (SECRETS_PROFILE) under GitHub Actions: the mask line first, the value nowhere else", async () => {
        writeFileSync(join(repo, "deploy.sh"), '#!/bin/sh\necho "deploying with $DB_PASSWORD" >&2\necho "done: ${#DB_PASSWORD} characters"\n', { mode: 0o755 })
        const r = await asCi(["run", "--", "./deploy.sh"], { SECRETS_PROFILE: "prod", GITHUB_ACTIONS: "true" })
        expect(r.code).toBe(0)
        // The runner consumes ::add-mask:: lines (they are not shown); everything after is the visible log.
        expect(r.stdout).toBe(`::add-mask::${PROD_PASSWORD}\ndone: ${PROD_PASSWORD.length} characters\n`)
        expect(r.stderr).toBe(`deploying with ${CONCEALED}\n`)
    })

    it("status says which keys open which profile; --json too", async () => {
        const table = await alice(["status"])
        expect(table.code).toBe(0)
        expect(table.stdout).toMatch(/\nPROFILE {2}FILES {2}OPENED BY\ndev {10}1 {2}user alice \(age1\S+\), host ci \(age1\S+\)\nprod {9}1 {2}host ci \(age1\S+\)\n$/)
        const json = JSON.parse((await alice(["status", "--json"])).stdout) as { profiles: { name: string; files: number; openedBy: string[] }[] }
        expect(json.profiles.map((p) => [p.name, p.files, p.openedBy.map((n) => n.split(" (")[0])])).toEqual([
            ["dev", 1, ["user alice", "host ci"]],
            ["prod", 1, ["host ci"]],
        ])
    })

    it("ls --profile lists that profile's keys with masked values; export --profile writes them for CI", async () => {
        const ls = await alice(["ls", "--profile", "dev", "--json"])
        expect(ls.code).toBe(0)
        const rows = (JSON.parse(ls.stdout) as { keys: { file: string; profile: string; path: string }[] }).keys
        expect(rows.map((k) => [k.file, k.profile, k.path])).toEqual([
            ["secrets/dev/app.env", "dev", '["DB_PASSWORD"]'],
            ["secrets/dev/app.env", "dev", '["API_URL"]'],
        ])
        expect(ls.stdout).not.toContain(DEV_PASSWORD)
        const exported = await asCi(["export", "--profile", "prod", "--format", "env"])
        expect(exported.stdout).toBe(`DB_PASSWORD='${PROD_PASSWORD}'\n`)
        expect(exported.code).toBe(0)
    })

    it("a FILE given to ls beats SECRETS_PROFILE from the environment; the --profile flag with a FILE is refused", async () => {
        const byFile = await alice(["ls", "secrets/dev/app.env", "--json"], { SECRETS_PROFILE: "prod" })
        expect(byFile.stderr).toBe("")
        expect((JSON.parse(byFile.stdout) as { keys: { file: string }[] }).keys.map((k) => k.file)).toEqual(["secrets/dev/app.env", "secrets/dev/app.env"])
        const both = await alice(["ls", "secrets/dev/app.env", "--profile", "prod"])
        expect(both.code).toBe(8)
        expect(both.stderr).toContain("give files or --profile, not both")
    })

    it("status still reports the other profiles when one lists a file that does not exist", async () => {
        const copy = join(top, "copy")
        const { cpSync } = await import("node:fs")
        cpSync(repo, copy, { recursive: true })
        writeFileSync(join(copy, ".sops.yaml"), `${readFileSync(join(copy, ".sops.yaml"), "utf8")}    broken:\n      files: [config/missing.env]\n`)
        const r = await runCli(["status"], { cwd: copy, home })
        expect(r.code).toBe(0)
        expect(r.stdout).toMatch(/\nprod +1 {2}host ci \(age1\S+\)\nbroken +0 {2}cannot list its files: profile "broken": "config\/missing.env" does not exist\n$/)
    })

    it("an unknown profile is one line naming the config and the profiles there are, before anything runs", async () => {
        const r = await alice(["run", "--profile", "staging", "--", "sh", "-c", "echo started"])
        expect(r.code).toBe(1)
        expect(r.stdout).toBe("")
        expect(r.stderr).toBe('secrets: error: .sops.yaml has no profile "staging"\nsecrets: hint: its profiles: dev, prod\n')
    })
})
