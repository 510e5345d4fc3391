/**
 * `secrets set` and `secrets unset` through the built binary: minimal diffs on real
 * sops 3.13 files, 20 concurrent writers, values kept off argv, every format, and
 * sops' exit codes with nothing written and no value on stderr.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const FIXTURES = join(import.meta.dirname, "../fixtures/interop")
const NOW = "2030-01-02T03:04:05Z"
const SECRET = "s3cret-value-never-printed"
// Each test spawns the binary many times; a loaded CI machine needs more than the default.
const SLOW = { timeout: 120_000 }

/** Every stderr of the file: no plaintext value, no stack trace. */
function clean(r: CliResult, ...values: string[]): void {
    for (const v of [SECRET, ...values]) expect(r.stderr).not.toContain(v)
    expect(r.stderr).not.toMatch(/\n\s+at /)
}

/** A temp dir with a key and an encrypted file made by `secrets encrypt`. */
async function encrypted(name: string, plain: string) {
    const dir = tempDir()
    const key = ageKeygen(dir, "key")
    writeFileSync(join(dir, name), plain)
    // Setup, not the claim: encrypted in this process (the binary is what the tests run after).
    const enc = await runInProcess(["encrypt", "--age", key.recipient, "-i", name], { cwd: dir })
    expect(enc.code).toBe(0)
    const env = { SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: NOW }
    const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) })
    return { dir, key, env, cli, path: join(dir, name) }
}

/** Lines that differ, as [index, old, new]; both files must have the same number of lines. */
function changedLines(before: string, after: string): [number, string, string][] {
    const a = before.split("\n")
    const b = after.split("\n")
    expect(b.length).toBe(a.length)
    return a.flatMap((line, i): [number, string, string][] => (line === b[i] ? [] : [[i, line, b[i] ?? ""]]))
}

describe("set on real sops files: minimal diffs", () => {
    it("changes exactly three lines of a sops 3.13 file: the value, lastmodified and mac", SLOW, async () => {
        const dir = tempDir()
        const name = "04-test-secrets-mac-only.yaml"
        copyFileSync(join(FIXTURES, "isindir-sops-secrets-operator/HEAD", name), join(dir, name))
        copyFileSync(join(FIXTURES, "isindir-sops-secrets-operator/keys.txt"), join(dir, "keys.txt"))
        const env = { SOPS_AGE_KEY_FILE: join(dir, "keys.txt"), SECRETS_NOW: NOW }
        const before = readFileSync(join(dir, name), "utf8")
        const index = '["spec"]["secretTemplates"][0]["stringData"]["token"]'

        const r = await runCli(["set", name, index, JSON.stringify(SECRET)], { cwd: dir, env })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const after = readFileSync(join(dir, name), "utf8")
        const changes = changedLines(before, after)
        expect(changes.map(([i]) => before.split("\n")[i]!.trim().split(":")[0])).toEqual(["token", "lastmodified", "mac"])
        expect(changes[0]![2]).toMatch(/^ {12}token: ENC\[AES256_GCM,data:[A-Za-z0-9+/=]+,iv:[A-Za-z0-9+/=]{44},tag:[A-Za-z0-9+/=]{24},type:str\]$/)
        expect(changes[1]![2]).toBe(`    lastmodified: "${NOW}"`)
        expect(changes[2]![2]).toMatch(/^ {4}mac: ENC\[AES256_GCM,data:[A-Za-z0-9+/=]{172},iv:/)
        // The version field is sops' and stays; the file is not re-keyed.
        expect(after).toContain("    version: 3.13.1\n")
        expect(after).not.toContain(SECRET)

        const dec = await runCli(["decrypt", "--extract", index, name], { cwd: dir, env })
        expect([dec.code, dec.stdout]).toEqual([0, SECRET])
        const other = await runCli(["decrypt", "--extract", '["spec"]["secretTemplates"][0]["name"]', name], { cwd: dir, env })
        expect(other.stdout).toBe("test-mac-only-token")
    })

    it("keeps every other data line of a sops 3.7.1 file (sops-nix) and its PGP entries", SLOW, async () => {
        const dir = tempDir()
        copyFileSync(join(FIXTURES, "sops-nix/HEAD/secrets.yaml"), join(dir, "secrets.yaml"))
        copyFileSync(join(FIXTURES, "sops-nix/keys.txt"), join(dir, "keys.txt"))
        const env = { SOPS_AGE_KEY_FILE: join(dir, "keys.txt"), SECRETS_NOW: NOW }
        const before = readFileSync(join(dir, "secrets.yaml"), "utf8")

        const r = await runCli(["set", "secrets.yaml", '["nested"]["test"]["file"]', JSON.stringify(SECRET)], { cwd: dir, env })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const after = readFileSync(join(dir, "secrets.yaml"), "utf8")
        // The data part (before `sops:`) differs in the set value's line only. The
        // metadata is written in sops 3.13's order, so more of it moves there.
        const data = (s: string) => s.slice(0, s.indexOf("\nsops:\n"))
        const changes = changedLines(data(before), data(after))
        expect(changes.map(([, old]) => old.trim().split(":")[0])).toEqual(["file"])
        expect(after).toContain("    version: 3.7.1\n")
        expect(after).toContain("fp: 7FB89715AADA920D65D25E63F9BA9DEBD03F57C0")
        expect(after).toContain("fp: 2504791468B153B8A3963CC97BA53D1919C5DFD4")
        const pgpBlock = (s: string) => s.slice(s.indexOf("-----BEGIN PGP MESSAGE-----"), s.lastIndexOf("-----END PGP MESSAGE-----"))
        expect(pgpBlock(after)).toBe(pgpBlock(before))

        const dec = await runCli(["decrypt", "secrets.yaml"], { cwd: dir, env })
        expect(dec.code).toBe(0)
        expect(dec.stdout).toContain(`        file: ${SECRET}\n`)
        expect(dec.stdout).toMatch(/^test_key: test_value\n/)
    })
})

describe("concurrency", () => {
    it("20 concurrent sets of 20 keys on one file all land", SLOW, async () => {
        const f = await encrypted("c.yaml", "start: 1\n")
        const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => f.cli(["set", "c.yaml", `["k${i}"]`, JSON.stringify(`${SECRET}-${i}`)])),
        )
        for (const r of results) {
            expect([r.code, r.stderr]).toEqual([0, ""])
        }
        const dec = await f.cli(["decrypt", "--output-type", "json", "c.yaml"])
        expect(dec.code).toBe(0)
        const doc = JSON.parse(dec.stdout) as Record<string, unknown>
        expect(Object.keys(doc).sort()).toEqual(["start", ...Array.from({ length: 20 }, (_, i) => `k${i}`)].sort())
        for (let i = 0; i < 20; i++) expect(doc[`k${i}`]).toBe(`${SECRET}-${i}`)
        // No lock or temp file left behind.
        expect(readdirSync(f.dir).sort()).toEqual(["c.yaml", "key.txt"])
    })
})

describe("values off the command line", () => {
    it("--value-stdin reads the JSON value from stdin", SLOW, async () => {
        const f = await encrypted("a.yaml", "a: 1\n")
        const r = await f.cli(["set", "--value-stdin", "a.yaml", '["db"]["password"]'], `${JSON.stringify(SECRET)}\n`)
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(readFileSync(f.path, "utf8")).not.toContain(SECRET)
        expect((await f.cli(["decrypt", "a.yaml"])).stdout).toBe(`a: 1\ndb:\n    password: ${SECRET}\n`)
    })

    it("--value-file reads the JSON value from the file named by VALUE (as sops does)", SLOW, async () => {
        const f = await encrypted("a.json", '{"a": 1}')
        writeFileSync(join(f.dir, "value.json"), `{"user": "admin", "password": ${JSON.stringify(SECRET)}, "port": 5432}\n`)
        const r = await f.cli(["set", "--value-file", "a.json", '["db"]', "value.json"])
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect((await f.cli(["decrypt", "a.json"])).stdout).toBe(
            `{\n\t"a": 1,\n\t"db": {\n\t\t"user": "admin",\n\t\t"password": "${SECRET}",\n\t\t"port": 5432\n\t}\n}\n`,
        )
        // A value file holding raw text, not JSON: exit 7, and its content is not echoed.
        writeFileSync(join(f.dir, "raw.txt"), `${SECRET}\n`)
        const raw = await f.cli(["set", "--value-file", "a.json", '["x"]', "raw.txt"])
        expect(raw.code).toBe(7)
        clean(raw)
        const missing = await f.cli(["set", "--value-file", "a.json", '["x"]', "nope.json"])
        expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([2, `secrets: error: cannot read the value file "nope.json": it does not exist`])
    })

    it("--value-stdin with a VALUE argument, or both flags, is refused", SLOW, async () => {
        const f = await encrypted("a.yaml", "a: 1\n")
        const before = readFileSync(f.path)
        const extra = await f.cli(["set", "--value-stdin", "a.yaml", '["a"]', JSON.stringify(SECRET)], '"x"')
        expect(extra.code).toBe(100)
        const both = await f.cli(["set", "--value-stdin", "--value-file", "a.yaml", '["a"]'], '"x"')
        expect(both.code).toBe(8)
        expect(readFileSync(f.path)).toEqual(before)
        clean(extra)
        clean(both)
    })
})

describe("paths, values and formats", () => {
    it("creates missing path components, replaces, appends to lists, sets objects and typed scalars", SLOW, async () => {
        const f = await encrypted("a.yaml", "list:\n    - one\nkeep: same\n")
        const steps: [string, string][] = [
            ['["new"]["deep"]["er"]', JSON.stringify(SECRET)],
            ['["list"][1]', '"two"'],
            ['["list"][0]', '"uno"'],
            ['["obj"]', '{"z": 1, "a": [true, null], "f": 1.5}'],
            ['["num"]', "5"],
            ['["x"]', "5.0"],
            ['["b"]', "false"],
            // A negative number is a value, not an unknown option.
            ['["neg"]', "-5"],
        ]
        for (const [index, value] of steps) {
            const r = await f.cli(["set", "a.yaml", index, value])
            expect([index, r.code, r.stderr]).toEqual([index, 0, ""])
        }
        expect((await f.cli(["decrypt", "a.yaml"])).stdout).toBe(
            [
                "list:",
                "    - uno",
                "    - two",
                "keep: same",
                "new:",
                "    deep:",
                `        er: ${SECRET}`,
                "obj:",
                "    z: 1",
                "    a:",
                "        - true",
                "        - null",
                "    f: 1.5",
                "num: 5",
                "x: 5",
                "b: false",
                "neg: -5",
                "",
            ].join("\n"),
        )
        const text = readFileSync(f.path, "utf8")
        // A bare integer is an int (sops would write a float), 5.0 a float.
        expect(text).toMatch(/^num: ENC\[.*type:int\]$/m)
        expect(text).toMatch(/^x: ENC\[.*type:float\]$/m)
        expect(text).toMatch(/^b: ENC\[.*type:bool\]$/m)
        // An index more than one past the end of a list appends, as sops' set() (position >= len).
        const past = await f.cli(["set", "a.yaml", '["list"][5]', '"v"'])
        expect(past.code).toBe(0)
        expect((await f.cli(["decrypt", "--extract", '["list"]', "a.yaml"])).stdout).toBe("- uno\n- two\n- v\n")
        // Setting below a scalar is a set-format error.
        const below = await f.cli(["set", "a.yaml", '["keep"]["inner"]', '"v"'])
        expect([below.code, below.stderr.split("\n")[0]]).toEqual([7, 'secrets: error: ["keep"] is not a mapping'])
    })

    it("works on dotenv, JSON and INI files; a nested value in dotenv exits 4", SLOW, async () => {
        const env = await encrypted("a.env", "A=1\nB=2\n")
        expect((await env.cli(["set", "a.env", '["C"]', JSON.stringify(SECRET)])).code).toBe(0)
        expect((await env.cli(["set", "a.env", '["A"]', '"one"'])).code).toBe(0)
        expect((await env.cli(["decrypt", "a.env"])).stdout).toBe(`A=one\nB=2\nC=${SECRET}\n`)
        const before = readFileSync(env.path)
        const nested = await env.cli(["set", "a.env", '["D"]', `{"x": ${JSON.stringify(SECRET)}}`])
        expect(nested.code).toBe(4)
        clean(nested)
        expect(readFileSync(env.path)).toEqual(before)
        const reserved = await env.cli(["set", "a.env", '["sops_mac"]', '"x"'])
        expect(reserved.code).toBe(7)

        const json = await encrypted("a.json", '{"a": {"b": 1}}')
        expect((await json.cli(["set", "a.json", '["a"]["c"]', JSON.stringify(SECRET)])).code).toBe(0)
        expect((await json.cli(["unset", "a.json", '["a"]["b"]'])).code).toBe(0)
        expect((await json.cli(["decrypt", "a.json"])).stdout).toBe(`{\n\t"a": {\n\t\t"c": "${SECRET}"\n\t}\n}\n`)

        const ini = await encrypted("a.ini", "[db]\nuser = admin\n")
        expect((await ini.cli(["set", "a.ini", '["db"]["password"]', JSON.stringify(SECRET)])).code).toBe(0)
        expect((await ini.cli(["set", "a.ini", '["cache"]["host"]', '"localhost"'])).code).toBe(0)
        expect((await ini.cli(["decrypt", "a.ini"])).stdout).toBe(
            `[db]\nuser     = admin\npassword = ${SECRET}\n\n[cache]\nhost = localhost\n`,
        )
    })

    it("changes the first document of a multi-document YAML file only", SLOW, async () => {
        const f = await encrypted("m.yaml", `a: 1\n---\nb: ${SECRET}\n`)
        const before = readFileSync(f.path, "utf8")
        const r = await f.cli(["set", "m.yaml", '["a"]', "2"])
        expect([r.code, r.stderr]).toEqual([0, ""])
        const after = readFileSync(f.path, "utf8")
        const secondDoc = (s: string) => s.split("\n---\n")[1]!.split("\n")[0]
        expect(secondDoc(after)).toBe(secondDoc(before))
        expect((await f.cli(["decrypt", "m.yaml"])).stdout).toBe(`a: 2\n---\nb: ${SECRET}\n`)
    })

    it("refuses the reserved top-level sops key", SLOW, async () => {
        const f = await encrypted("a.yaml", "a: 1\n")
        const r = await f.cli(["set", "a.yaml", '["sops"]', '"x"'])
        expect([r.code, r.stderr.split("\n")[0]]).toEqual([7, `secrets: error: the top-level key "sops" is reserved for the file's sops metadata`])
    })

    it("--idempotent does not rewrite a file that already has the value", SLOW, async () => {
        const f = await encrypted("a.yaml", `a: ${SECRET}\nnum: 5\n`)
        const before = readFileSync(f.path)
        const mtime = statSync(f.path).mtimeMs
        await new Promise((r) => setTimeout(r, 20))
        for (const [index, value] of [['["a"]', JSON.stringify(SECRET)], ['["num"]', "5"]] as const) {
            const r = await f.cli(["set", "--idempotent", "a.yaml", index, value])
            expect([r.code, r.stderr]).toEqual([0, `secrets: "a.yaml" already has this value at ${index}: not written\n`])
        }
        expect(statSync(f.path).mtimeMs).toBe(mtime)
        expect(readFileSync(f.path)).toEqual(before)
        // 5.0 is a float, not the int 5: that is a change.
        const typed = await f.cli(["set", "--idempotent", "a.yaml", '["num"]', "5.0"])
        expect([typed.code, typed.stderr]).toEqual([0, ""])
        expect(readFileSync(f.path, "utf8")).toMatch(/^num: ENC\[.*type:float\]$/m)
        // Without --idempotent, the same value is written again (new lastmodified, same ciphertext).
        const again = await f.cli(["set", "a.yaml", '["a"]', JSON.stringify(SECRET)])
        expect(again.code).toBe(0)
        expect(statSync(f.path).mtimeMs).not.toBe(mtime)
    })
})

describe("unset", () => {
    it("removes one value, keeping every other line's ciphertext", SLOW, async () => {
        const f = await encrypted("a.yaml", `a: 1\nb:\n    c: ${SECRET}\n    d: x\ne: [1, 2, 3]\n`)
        const before = readFileSync(f.path, "utf8")
        const r = await f.cli(["unset", "a.yaml", '["b"]["c"]'])
        expect([r.code, r.stderr]).toEqual([0, ""])
        const after = readFileSync(f.path, "utf8")
        const dropped = before.split("\n").filter((l) => !after.split("\n").includes(l))
        expect(dropped.map((l) => l.trim().split(":")[0])).toEqual(["c", "lastmodified", "mac"])
        expect((await f.cli(["unset", "a.yaml", '["e"][1]'])).code).toBe(0)
        expect((await f.cli(["decrypt", "a.yaml"])).stdout).toBe("a: 1\nb:\n    d: x\ne:\n    - 1\n    - 3\n")
    })

    it("a missing key exits 1 naming the path; --idempotent succeeds without writing", SLOW, async () => {
        const f = await encrypted("a.yaml", `a: ${SECRET}\n`)
        const before = readFileSync(f.path)
        const mtime = statSync(f.path).mtimeMs
        const missing = await f.cli(["unset", "a.yaml", '["nope"]["deeper"]'])
        expect(missing.code).toBe(1)
        expect(missing.stderr.split("\n")[0]).toBe('secrets: error: "a.yaml" has nothing at ["nope"]["deeper"]')
        clean(missing)
        const idem = await f.cli(["unset", "--idempotent", "a.yaml", '["nope"]'])
        expect([idem.code, idem.stderr]).toEqual([0, 'secrets: "a.yaml" has nothing at ["nope"]: not written\n'])
        expect(statSync(f.path).mtimeMs).toBe(mtime)
        expect(readFileSync(f.path)).toEqual(before)
        expect(existsSync(`${f.path}.lock`)).toBe(false)
    })
})

describe("errors: sops' exit codes, nothing written, no value on stderr", () => {
    it("bad index 91, invalid JSON 7, array 7, wrong arg count 100, missing file 100, no key 128, tampered 51", SLOW, async () => {
        const f = await encrypted("a.yaml", `a: ${SECRET}\nport_unencrypted: 1\n`)
        const before = readFileSync(f.path)
        const cases: [string[], number, string][] = [
            [["set", "a.yaml", "a.b", '"x"'], 91, "secrets: error: invalid tree path: "],
            [["set", "a.yaml", '["a"]', SECRET], 7, `secrets: error: invalid value: expected JSON, e.g. '"text"'`],
            [["set", "a.yaml", '["a"]', `'${SECRET}'`], 7, `secrets: error: invalid value: expected JSON, e.g. '"text"'`],
            [["set", "a.yaml", '["a"]', `[${JSON.stringify(SECRET)}]`], 7, "secrets: error: invalid value: a JSON array cannot be set as a whole"],
            [["set", "a.yaml", '["a"]'], 100, "secrets: error: set takes exactly 3 arguments, FILE, INDEX and VALUE (got 2)"],
            [["set", "a.yaml", '["a"]', '"x"', "extra"], 100, "secrets: error: set takes exactly 3 arguments, FILE, INDEX and VALUE (got 4)"],
            [["unset", "a.yaml"], 100, "secrets: error: unset takes exactly 2 arguments, FILE and INDEX (got 1)"],
            [["set", "missing.yaml", '["a"]', JSON.stringify(SECRET)], 100, 'secrets: error: "missing.yaml" does not exist'],
            [["unset", "missing.yaml", '["a"]'], 100, 'secrets: error: "missing.yaml" does not exist'],
        ]
        for (const [args, code, first] of cases) {
            const r = await f.cli(args)
            expect([args.join(" "), r.code]).toEqual([args.join(" "), code])
            expect(r.stderr.startsWith(first)).toBe(true)
            clean(r)
        }
        expect(existsSync(join(f.dir, "missing.yaml"))).toBe(false)
        expect(existsSync(join(f.dir, "missing.yaml.lock"))).toBe(false)

        // No identity: 128, listing the recipient.
        const noKey = await runCli(["set", "a.yaml", '["a"]', '"x"'], { cwd: f.dir })
        expect(noKey.code).toBe(128)
        expect(noKey.stderr).toContain(f.key.recipient)
        clean(noKey)
        const noKeyUnset = await runCli(["unset", "a.yaml", '["a"]'], { cwd: f.dir })
        expect(noKeyUnset.code).toBe(128)
        expect(readFileSync(f.path)).toEqual(before)

        // A clear value changed without the key: 51 unless --ignore-mac.
        writeFileSync(f.path, readFileSync(f.path, "utf8").replace("port_unencrypted: 1\n", "port_unencrypted: 2\n"))
        const tampered = readFileSync(f.path)
        const mac = await f.cli(["set", "a.yaml", '["c"]', '"x"'])
        expect(mac.code).toBe(51)
        clean(mac)
        expect(readFileSync(f.path)).toEqual(tampered)
        const ignored = await f.cli(["set", "--ignore-mac", "a.yaml", '["c"]', '"x"'])
        expect([ignored.code, ignored.stderr]).toEqual([0, ""])
        expect((await f.cli(["decrypt", "a.yaml"])).stdout).toBe(`a: ${SECRET}\nport_unencrypted: 2\nc: x\n`)
    })
})
