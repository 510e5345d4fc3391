/**
 * The repository is its own example fleet (issue 11 point 11): its `.sops.yaml` and
 * `secrets/` are encrypted to the PUBLIC DEMO KEYS in examples/keys/. These tests
 * run what CI would run on any fleet, on the repository itself:
 *
 * - `secrets status --check` at the repository's root passes. It decrypts nothing
 *   (it reads recipients and dates kept in clear), so it runs with no identity at
 *   all and a fresh HOME (no interrupted key rotation of the developer's). The
 *   interop vectors under test/fixtures/ sit behind their own `.sops.yaml`, and are
 *   not the fleet's files;
 * - each demo key opens exactly the files the layout gives it, through the built
 *   binary, and, for the files it opens, through Debian's `age -d` and an
 *   independent reading of the format (no code from src/), so the files are real
 *   sops files and not something only we can read.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { independentlyOpen } from "../engine/independent-check.js"
import { runCli } from "../helpers/cli.js"
import { runProcess } from "../helpers/process.js"
import { tempDir } from "../helpers/tmp.js"

const ROOT = join(import.meta.dirname, "../..")
const KEYS = join(ROOT, "examples/keys")

/** Every file under secrets/ (.gitkeep aside), relative to the root, sorted. */
function fleetFiles(): string[] {
    const out: string[] = []
    const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
            const p = join(dir, name)
            if (statSync(p).isDirectory()) walk(p)
            else if (name !== ".gitkeep") out.push(relative(ROOT, p))
        }
    }
    walk(join(ROOT, "secrets"))
    return out.sort()
}

/** Which demo key opens which file: the layout of docs/commands/init.md. */
const OPENS: Record<string, string[]> = {
    alice: ["secrets/dev/app.yaml", "secrets/hosts/web1/agent.yaml", "secrets/shared/app.yaml", "secrets/users/alice/tokens.yaml"],
    bob: ["secrets/dev/app.yaml", "secrets/hosts/web1/agent.yaml", "secrets/shared/app.yaml", "secrets/users/bob/tokens.yaml"],
    // The hosts-only profile: no user's key opens prod.
    web1: ["secrets/dev/app.yaml", "secrets/hosts/web1/agent.yaml", "secrets/prod/app.yaml", "secrets/shared/app.yaml"],
}

describe("the repository's demo fleet", () => {
    it("holds the files the demo keys are described with, each a sops file", () => {
        expect(fleetFiles()).toEqual([
            "secrets/dev/app.yaml",
            "secrets/hosts/web1/agent.yaml",
            "secrets/prod/app.yaml",
            "secrets/shared/app.yaml",
            "secrets/users/alice/tokens.yaml",
            "secrets/users/bob/tokens.yaml",
        ])
        for (const f of fleetFiles()) expect(readFileSync(join(ROOT, f), "utf8"), f).toMatch(/^sops:\n[\s\S]*\n {4}mac: ENC\[AES256_GCM,/m)
        // The keys say what they are, in the file itself and beside it.
        for (const name of Object.keys(OPENS)) {
            expect(readFileSync(join(KEYS, `${name}.txt`), "utf8").split("\n")[0]).toMatch(/^# PUBLIC DEMO KEY: .*never use it for real secrets/)
        }
        expect(readFileSync(join(KEYS, "README.md"), "utf8")).toMatch(/^# PUBLIC DEMO KEYS: never use them for real secrets/)
    })

    it("passes `secrets status --check` at the repository's root, with no identity and the vectors left out", async () => {
        const home = tempDir()
        const r = await runCli(["status", "--check"], { cwd: ROOT, home })
        expect(r.code, r.stderr).toBe(0)
        const json = await runCli(["status", "--json"], { cwd: ROOT, home })
        const report = JSON.parse(json.stdout) as { ok: boolean; policy: unknown; files: { path: string; encrypted: boolean; inStep: boolean; problems: string[] }[] }
        expect(report.ok).toBe(true)
        // No max_age on purpose (see .sops.yaml): a policy would make the check fail with time alone.
        expect(report.policy).toBeNull()
        expect(report.files.map((f) => [f.path, f.encrypted, f.inStep, f.problems])).toEqual(fleetFiles().map((f) => [f, true, true, []]))
    })

    it("fails `status --check` on a copy of the repository's fleet with a plaintext file under secrets/", async () => {
        // The passing check above means something: the same fleet with one slip fails.
        const dir = tempDir()
        writeFileSync(join(dir, ".sops.yaml"), readFileSync(join(ROOT, ".sops.yaml")))
        for (const f of fleetFiles()) {
            mkdirSync(join(dir, f, ".."), { recursive: true })
            writeFileSync(join(dir, f), readFileSync(join(ROOT, f)))
        }
        expect((await runCli(["status", "--check"], { cwd: dir })).code).toBe(0)
        writeFileSync(join(dir, "secrets/shared/forgot.yaml"), "password: demo-plaintext\n")
        const r = await runCli(["status", "--check"], { cwd: dir })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain("secrets/shared/forgot.yaml")
    })

    for (const [name, opens] of Object.entries(OPENS)) {
        it(`examples/keys/${name}.txt opens exactly ${opens.length} files, through secrets and through age -d`, async () => {
            const home = tempDir()
            const keyFile = join(KEYS, `${name}.txt`)
            const opened: string[] = []
            for (const file of fleetFiles()) {
                const r = await runCli(["decrypt", file], { cwd: ROOT, home, env: { SOPS_AGE_KEY_FILE: keyFile } })
                if (r.code === 0) {
                    opened.push(file)
                    expect(r.stdout, file).toMatch(/demo-/)
                } else {
                    // 128: no identity opens the file (sops's number), and nothing of it is shown.
                    expect(r.code, `${file}\n${r.stderr}`).toBe(128)
                    expect(r.stdout).toBe("")
                }
                // The same answer from Debian's age on the file's own stanzas, and an
                // independent reading of the values and the MAC with the data key it gives.
                const text = readFileSync(join(ROOT, file), "utf8")
                const stanzas = (parse(text) as { sops: { age: { enc: string }[] } }).sops.age
                const keys: Buffer[] = []
                for (const s of stanzas) {
                    const a = await runProcess("age", ["-d", "-i", keyFile], { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, input: s.enc })
                    if (a.status === 0) keys.push(a.stdoutBytes)
                }
                expect(keys.length, `${file}: stanzas age -d opens with ${name}`).toBe(r.code === 0 ? 1 : 0)
                if (keys[0] !== undefined) {
                    const independent = await independentlyOpen(text, new Uint8Array(keys[0]))
                    expect(independent.macMatches, file).toBe(true)
                    expect(Object.values(independent.values).some((v) => v.includes("demo-")), file).toBe(true)
                }
            }
            expect(opened).toEqual(opens)
        })
    }

    it("deploys web1's manifest from .sops.yaml with web1's demo key: owners, modes and a rendered template (issue 12)", async () => {
        const root = tempDir()
        const home = tempDir()
        const args = ["deploy", "--host", "web1", "--root", root, "--identity", join(KEYS, "web1.txt"), "--no-restart", "--json"]
        const r = await runCli(args, { cwd: ROOT, home })
        expect(r.code).toBe(0)
        const live = join(root, "run", "secrets")
        expect(readdirSync(live).sort()).toEqual([".manifest.json", "agent.json", "app.conf", "db-password"])
        const db = statSync(join(live, "db-password"))
        expect([db.uid, db.gid, db.mode & 0o7777]).toEqual([uidOf("daemon"), gidOf("daemon"), 0o440])
        expect(statSync(join(live, "app.conf")).mode & 0o7777).toBe(0o400)
        // The template's placeholders hold the same values the host key decrypts.
        const app = await runCli(["decrypt", "--extract", '["database"]["password"]', "secrets/shared/app.yaml"], { cwd: ROOT, home, env: { SOPS_AGE_KEY_FILE: join(KEYS, "web1.txt") } })
        expect(readFileSync(join(live, "db-password"), "utf8")).toBe(app.stdout)
        expect(readFileSync(join(live, "app.conf"), "utf8")).toContain(`password = ${app.stdout}\n`)
        expect(JSON.parse(readFileSync(join(live, "agent.json"), "utf8"))).toHaveProperty("agent.token")
        // No value on stdout or stderr: the report names entries only.
        expect(r.stdout + r.stderr).not.toContain(app.stdout)
    })
})

function idFrom(file: string, name: string): number {
    const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${name}:`))
    if (line === undefined) throw new Error(`${name} is not in ${file}`)
    return Number(line.split(":")[2])
}
const uidOf = (name: string) => idFrom("/etc/passwd", name)
const gidOf = (name: string) => idFrom("/etc/group", name)
