/**
 * `secrets import` and `secrets export` through the built binary with real age
 * keys (Debian age-keygen): a new file made with its creation rule, round trips
 * across formats, unchanged values keeping their ciphertext, --dry-run and failures
 * writing nothing, no value on stderr, and exports written 0600.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 120_000 }
const SECRET = "s3cret-never-printed"

const DOTENV = [
    "# the app's settings",
    "export DB_PASSWORD='p@ss '\\''word'\\'' $HOME'",
    `API_TOKEN="${SECRET}" # inline comment`,
    'MULTI="line 1\\nline 2"',
    "PLAIN=  two words  ",
    "",
].join("\n")

const VALUES = { DB_PASSWORD: "p@ss 'word' $HOME", API_TOKEN: SECRET, MULTI: "line 1\nline 2", PLAIN: "two words" }

function clean(r: CliResult): void {
    expect(r.stderr).not.toContain(SECRET)
    expect(r.stderr).not.toMatch(/\n\s+at /)
}

/** A project with a key and a .sops.yaml whose creation rule encrypts every file for it. */
function project() {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - age: ${key.recipient}\n`)
    const env = { SOPS_AGE_KEY_FILE: key.file }
    const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) })
    return { dir, cli, read: (f: string) => readFileSync(join(dir, f), "utf8") }
}

/** The ENC[…] string of each top-level key of an encrypted YAML file. */
function ciphertexts(text: string): Record<string, string> {
    const doc = parseYaml(text) as Record<string, unknown>
    delete doc.sops
    return doc as Record<string, string>
}

describe("secrets import", () => {
    it("creates the file with its creation rule, and a second import of the same source writes nothing", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, ".env"), DOTENV)
        const first = await p.cli(["import", ".env", "--into", "app.yaml"])
        clean(first)
        expect(first.code).toBe(0)
        expect(first.stdout).toBe(
            'create "app.yaml": 4 added, 0 updated, 0 unchanged\n  added   ["DB_PASSWORD"]\n  added   ["API_TOKEN"]\n  added   ["MULTI"]\n  added   ["PLAIN"]\n',
        )
        expect(p.read("app.yaml")).not.toContain(SECRET)
        const dec = await p.cli(["decrypt", "--output-type", "json", "app.yaml"])
        expect(JSON.parse(dec.stdout)).toEqual(VALUES)

        const before = p.read("app.yaml")
        const again = await p.cli(["import", ".env", "--into", "app.yaml"])
        expect([again.code, again.stdout]).toEqual([0, '"app.yaml": 0 added, 0 updated, 4 unchanged\n'])
        expect(p.read("app.yaml")).toBe(before)
    })

    it("updating one value keeps every other value's ciphertext; --dry-run and --json report without writing", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, ".env"), DOTENV)
        expect((await p.cli(["import", ".env", "--into", "app.yaml"])).code).toBe(0)
        const before = p.read("app.yaml")
        writeFileSync(join(p.dir, ".env"), DOTENV.replace("PLAIN=  two words  ", "PLAIN=changed\nNEW=1"))

        const dry = await p.cli(["import", ".env", "--into", "app.yaml", "--dry-run", "--json", "--delete-missing"])
        expect(dry.code).toBe(0)
        expect(JSON.parse(dry.stdout)).toEqual({
            file: "app.yaml",
            created: false,
            written: false,
            dryRun: true,
            added: ['["NEW"]'],
            updated: ['["PLAIN"]'],
            unchanged: ['["DB_PASSWORD"]', '["API_TOKEN"]', '["MULTI"]'],
            deleted: [],
        })
        expect(p.read("app.yaml")).toBe(before)

        const real = await p.cli(["import", ".env", "--into", "app.yaml"])
        expect(real.code).toBe(0)
        const [a, b] = [ciphertexts(before), ciphertexts(p.read("app.yaml"))]
        for (const k of ["DB_PASSWORD", "API_TOKEN", "MULTI"]) expect(b[k]).toBe(a[k])
        expect(b.PLAIN).not.toBe(a.PLAIN)
        expect(b.NEW).toMatch(/^ENC\[AES256_GCM,/)
    })

    it("--delete-missing mirrors the source under --at, from stdin", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, "app.json"), JSON.stringify({ keep: "k", prod: { A: "1", B: "2" } }))
        expect((await p.cli(["encrypt", "-i", "app.json"])).code).toBe(0)
        const r = await p.cli(["import", "-", "--input-type", "json", "--into", "app.json", "--at", '["prod"]', "--delete-missing"], '{"A": "1", "C": "3"}')
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(r.stdout).toBe('"app.json": 1 added, 0 updated, 1 unchanged, 1 deleted\n  added   ["prod"]["C"]\n  deleted ["prod"]["B"]\n')
        const dec = await p.cli(["decrypt", "app.json"])
        expect(JSON.parse(dec.stdout)).toEqual({ keep: "k", prod: { A: "1", C: "3" } })
    })

    it("a malformed source names the line, not its text, exits 2 and writes nothing", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, ".env"), `A=1\nB='${SECRET}\n`)
        const r = await p.cli(["import", ".env", "--into", "app.yaml"])
        clean(r)
        expect(r.code).toBe(2)
        expect(r.stderr).toBe('secrets: error: ".env": line 2: a single quote is not closed\nsecrets: hint: close it with \' (inside single quotes nothing is escaped: write \'it\'\\\'\'s\' for it\'s)\n')
        expect(existsSync(join(p.dir, "app.yaml"))).toBe(false)
    })

    it("a nested source into a dotenv file fails with exit 4 and leaves the file as it was", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, "app.env"), "A=1\n")
        expect((await p.cli(["encrypt", "-i", "app.env"])).code).toBe(0)
        const before = p.read("app.env")
        writeFileSync(join(p.dir, "nested.yaml"), `db:\n  password: ${SECRET}\n`)
        const r = await p.cli(["import", "nested.yaml", "--into", "app.env"])
        clean(r)
        expect(r.code).toBe(4)
        expect(p.read("app.env")).toBe(before)
    })
})

describe("secrets export", () => {
    it("env output sourced by bash gives the values back, and re-importing it changes nothing", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, ".env"), DOTENV)
        expect((await p.cli(["import", ".env", "--into", "app.yaml"])).code).toBe(0)
        const exp = await p.cli(["export", "app.yaml", "--format", "env", "-o", "out.env"])
        expect([exp.code, exp.stdout, exp.stderr]).toEqual([0, "", ""])
        expect(statSync(join(p.dir, "out.env")).mode & 0o777).toBe(0o600)
        const script = `. ./out.env; for n in ${Object.keys(VALUES).join(" ")}; do printf '%s\\0' "\${!n}"; done`
        const got = execFileSync("bash", ["--norc", "-c", script], { cwd: p.dir, env: {} }).toString().split("\0").slice(0, 4)
        expect(got).toEqual(Object.values(VALUES))

        const before = p.read("app.yaml")
        const back = await p.cli(["import", "out.env", "--into", "app.yaml"])
        expect([back.code, back.stdout]).toEqual([0, '"app.yaml": 0 added, 0 updated, 4 unchanged\n'])
        expect(p.read("app.yaml")).toBe(before)
    })

    it("json and yaml round trip through import unchanged", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, "app.yaml"), `db:\n  user: admin\n  password: ${SECRET}\nport: 5432\n`)
        expect((await p.cli(["encrypt", "-i", "app.yaml"])).code).toBe(0)
        const before = p.read("app.yaml")
        for (const format of ["json", "yaml"]) {
            const exp = await p.cli(["export", "app.yaml", "--format", format, "-o", `out.${format}`])
            expect(exp.code).toBe(0)
            const back = await p.cli(["import", `out.${format}`, "--into", "app.yaml"])
            expect([back.code, back.stdout]).toEqual([0, '"app.yaml": 0 added, 0 updated, 3 unchanged\n'])
        }
        expect(p.read("app.yaml")).toBe(before)
    })

    it("docker refuses a multi-line value naming its key, writes nothing; k8s-secret makes a Secret named after the file", SLOW, async () => {
        const p = project()
        writeFileSync(join(p.dir, "App_Prod.yaml"), `TOKEN: ${SECRET}\nCERT: |\n  line 1\n  line 2\n`)
        expect((await p.cli(["encrypt", "-i", "App_Prod.yaml"])).code).toBe(0)
        const docker = await p.cli(["export", "App_Prod.yaml", "--format", "docker", "-o", "app.env"])
        clean(docker)
        expect(docker.code).toBe(1)
        expect(docker.stderr).toContain('secrets: error: "App_Prod.yaml": the value of "CERT" has a line break, which a docker env-file cannot hold\n')
        expect(existsSync(join(p.dir, "app.env"))).toBe(false)

        const k8s = await p.cli(["export", "App_Prod.yaml", "--format", "k8s-secret", "--namespace", "prod"])
        expect([k8s.code, k8s.stderr]).toEqual([0, ""])
        expect(parseYaml(k8s.stdout)).toEqual({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "app-prod", namespace: "prod" },
            type: "Opaque",
            stringData: { TOKEN: SECRET, CERT: "line 1\nline 2\n" },
        })
    })
})
