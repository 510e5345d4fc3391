/**
 * `secrets edit` through the built binary with scripted editors (sh scripts that
 * change the temp file with sed/printf and record what they were given), plus the
 * version comparison behind the `version` bump.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { describe, expect, it } from "vitest"
import { compareSemver, needsVersionBump, parseSemver } from "../../src/cli/sops-version.js"
import { SecretsError } from "../../src/errors.js"
import { runCli } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "p4ssw0rd-never-printed"
const NEW_SECRET = "n3w-s3cret-also-never-printed"
const NOW = "2030-01-02T03:04:05Z"
const INTEROP = join(import.meta.dirname, "../fixtures/interop")

interface Project {
    dir: string
    key: ReturnType<typeof ageKeygen>
    env: Record<string, string>
}

function project(): Project {
    const dir = tempDir()
    const key = ageKeygen(dir, "alice")
    return { dir, key, env: { SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: NOW } }
}

let scripts = 0

/**
 * An editor script: it appends the path it was given to editor-paths.txt, copies
 * what it was shown to editor-saw.txt and records the modes of the file and its
 * directory, then runs `body` (with the path in "$1").
 */
function editor(dir: string, body: string): string {
    const p = join(dir, `editor-${++scripts}.sh`)
    writeFileSync(
        p,
        [
            "#!/bin/sh",
            `printf '%s\\n' "$1" >> '${dir}/editor-paths.txt'`,
            `cp "$1" '${dir}/editor-saw.txt'`,
            `stat -c %a "$1" "$(dirname "$1")" > '${dir}/editor-modes.txt'`,
            body,
            "",
        ].join("\n"),
    )
    chmodSync(p, 0o755)
    return p
}

function editorPaths(dir: string): string[] {
    const f = join(dir, "editor-paths.txt")
    return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : []
}

async function encrypted(p: Project, name: string, plain: string): Promise<Buffer> {
    writeFileSync(join(p.dir, name), plain)
    // Setup, not the claim: encrypted in this process (the binary is what the tests run after).
    const r = await runInProcess(["encrypt", "--age", p.key.recipient, "-i", name], { cwd: p.dir, env: { SECRETS_NOW: "2029-12-31T00:00:00Z", SOPS_AGE_KEY_FILE: p.key.file } })
    expect([r.code, r.stderr]).toEqual([0, ""])
    return readFileSync(join(p.dir, name))
}

/** What the file holds now, read in this process: a check after the command under test, not the claim. */
async function decrypt(p: Project, name: string, env: Record<string, string> = p.env): Promise<string> {
    const r = await runInProcess(["decrypt", name], { cwd: p.dir, env })
    expect([r.code, r.stderr]).toEqual([0, ""])
    return r.stdout
}

/** Indices of the lines that differ between two texts with the same number of lines. */
function changedLines(a: string, b: string): number[] {
    const x = a.split("\n")
    const y = b.split("\n")
    expect(y.length).toBe(x.length)
    return x.flatMap((line, i) => (line === y[i] ? [] : [i]))
}

function expectNoSecrets(stderr: string): void {
    expect(stderr).not.toContain(SECRET)
    expect(stderr).not.toContain(NEW_SECRET)
    expect(stderr).not.toMatch(/\n\s+at /)
}

describe("edit an existing file", () => {
    it("changes one value of a real sops 3.13.1 vector: only that line, lastmodified, mac and version change", async () => {
        const dir = tempDir()
        const vector = join(INTEROP, "isindir-sops-secrets-operator/HEAD/04-test-secrets-mac-only.yaml")
        const file = join(dir, "secret.yaml")
        copyFileSync(vector, file)
        const before = readFileSync(file, "utf8")
        const env = { SOPS_AGE_KEY_FILE: join(INTEROP, "isindir-sops-secrets-operator/key-file.txt"), SECRETS_NOW: NOW }
        const plain = (await runCli(["decrypt", "secret.yaml"], { cwd: dir, env })).stdout
        expect(plain).toContain("token: macOnlyEncryptedPlaintextValue1234567890\n")
        const ed = editor(dir, `sed -i 's/token: macOnlyEncryptedPlaintextValue1234567890/token: ${NEW_SECRET}/' "$1"`)
        const r = await runCli(["edit", "secret.yaml"], { cwd: dir, env: { ...env, EDITOR: ed } })
        expect([r.code, r.stderr, r.stdout]).toEqual([0, "", ""])

        const after = readFileSync(file, "utf8")
        const lines = after.split("\n")
        const changed = changedLines(before, after)
        expect(changed.map((i) => lines[i]?.trim().split(":")[0])).toEqual(["token", "lastmodified", "mac", "version"])
        expect(lines[changed[1] ?? -1]).toBe(`    lastmodified: "${NOW}"`)
        expect(lines[changed[3] ?? -1]).toBe("    version: 3.13.2")
        expect(after).not.toContain(NEW_SECRET)

        // The editor saw the plaintext in a 0600 file named like the target, in a 0700 dir on /dev/shm.
        const [tmp] = editorPaths(dir)
        expect(basename(tmp ?? "")).toBe("secret.yaml")
        expect(tmp?.startsWith("/dev/shm/secrets-")).toBe(true)
        expect(readFileSync(join(dir, "editor-modes.txt"), "utf8")).toBe("600\n700\n")
        expect(readFileSync(join(dir, "editor-saw.txt"), "utf8")).toBe(plain)
        expect(existsSync(tmp ?? "/")).toBe(false)

        const dec = await runCli(["decrypt", "--extract", '["spec"]["secretTemplates"][0]["stringData"]["token"]', "secret.yaml"], { cwd: dir, env })
        expect([dec.code, dec.stdout]).toEqual([0, NEW_SECRET])
    })

    it("keeps the ciphertext of every unchanged value and comment (IV stash), also in JSON", async () => {
        const p = project()
        const plain = `# top comment\na: ${SECRET}\nb:\n    c: 42\n    d:\n        - x\n        - z\ne: true\n`
        const before = (await encrypted(p, "f.yaml", plain)).toString()
        const ed = editor(p.dir, `sed -i 's/c: 42/c: 43/' "$1"`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const after = readFileSync(join(p.dir, "f.yaml"), "utf8")
        const lines = after.split("\n")
        expect(changedLines(before, after).map((i) => lines[i]?.trim().split(":")[0])).toEqual(["c", "lastmodified", "mac"])
        expect(await decrypt(p, "f.yaml")).toBe(plain.replace("c: 42", "c: 43"))

        const jsonBefore = (await encrypted(p, "g.json", `{"a": "${SECRET}", "n": 1, "list": ["x", "y"]}`)).toString()
        const ed2 = editor(p.dir, `sed -i 's/"y"/"z"/' "$1"`)
        const r2 = await runCli(["edit", "g.json"], { cwd: p.dir, env: { ...p.env, EDITOR: ed2 } })
        expect([r2.code, r2.stderr]).toEqual([0, ""])
        const jsonAfter = readFileSync(join(p.dir, "g.json"), "utf8")
        expect(changedLines(jsonBefore, jsonAfter)).toHaveLength(3)
        expect(await decrypt(p, "g.json")).toBe(`{\n\t"a": "${SECRET}",\n\t"n": 1,\n\t"list": [\n\t\t"x",\n\t\t"z"\n\t]\n}\n`)
    })

    it("nothing changed -> exit 200, the file's bytes and mtime untouched, the temp dir gone", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const file = join(p.dir, "f.yaml")
        const mtime = statSync(file).mtimeMs
        // Rewriting the same bytes is no change: sops compares hashes, not mtimes.
        const ed = editor(p.dir, `cat "$1" > "$1.new" && mv "$1.new" "$1"`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(200)
        expect(r.stderr).toBe(`secrets: error: "f.yaml" has not changed, nothing written\n`)
        expect(readFileSync(file)).toEqual(before)
        expect(statSync(file).mtimeMs).toBe(mtime)
        expect(readFileSync(join(p.dir, "editor-saw.txt"), "utf8")).toBe(`a: ${SECRET}\n`)
        const [tmp] = editorPaths(p.dir)
        expect(existsSync(tmp ?? "/")).toBe(false)
        expect(existsSync(`${file}.lock`)).toBe(false)
    })

    it("the editor exits 1 -> exit 201, file unchanged, temp dir gone", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `sed -i 's/a: .*/a: ${NEW_SECRET}/' "$1"\nexit 1`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(201)
        expect(r.stderr).toBe(`secrets: error: the editor ${JSON.stringify(ed)} exited with status 1\n`)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
        const [tmp] = editorPaths(p.dir)
        expect(tmp).toBeDefined()
        expect(existsSync(tmp ?? "/")).toBe(false)
        expect(existsSync(join(tmp ?? "/", ".."))).toBe(false)
    })

    it("a missing editor program -> 201 before anything is written", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: join(p.dir, "no-such-editor") } })
        expect(r.code).toBe(201)
        expect(r.stderr).toMatch(/^secrets: error: could not start the editor /)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
    })

    it("invalid YAML with stdin not a terminal -> exit 1 with the parse error, no value shown, file unchanged", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `printf 'a: [${NEW_SECRET}\\nb: "${SECRET}\\n' > "$1"`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^secrets: error: "f\.yaml": .*line \d+/)
        expect(r.stderr).not.toContain("press Enter")
        expectNoSecrets(r.stderr)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
        // Not looped: the editor ran once.
        expect(editorPaths(p.dir)).toHaveLength(1)
        expect(existsSync(editorPaths(p.dir)[0] ?? "/")).toBe(false)
    })

    it("a top-level sops key in the edited plaintext is refused (exit 1, file unchanged)", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `printf 'sops: ${NEW_SECRET}\\n' >> "$1"`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            `secrets: error: "f.yaml": the edited file has a top-level "sops" key, which is reserved for the metadata\n` +
                "secrets: hint: rename the key, or use -s / --show-master-keys to edit the metadata\n",
        )
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
    })

    it("no identity -> 128 and a MAC mismatch -> 51 before the editor runs; --ignore-mac edits it and writes a valid MAC", async () => {
        const p = project()
        await encrypted(p, "f.yaml", `a: ${SECRET}\nb: other\nnote_unencrypted: 1\n`)
        const ed = editor(p.dir, `sed -i 's/^b: .*/b: fixed/' "$1"`)
        const noKey = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { EDITOR: ed } })
        expect(noKey.code).toBe(128)
        expect(noKey.stderr).toContain(p.key.recipient)

        // A clear value changed behind the MAC's back: every value still decrypts, the MAC does not match.
        const f = join(p.dir, "f.yaml")
        writeFileSync(f, readFileSync(f, "utf8").replace("note_unencrypted: 1", "note_unencrypted: 2"))
        const tampered = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(tampered.code).toBe(51)
        expect(editorPaths(p.dir)).toEqual([])
        expectNoSecrets(noKey.stderr + tampered.stderr)

        const forced = await runCli(["edit", "--ignore-mac", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([forced.code, forced.stderr]).toEqual([0, ""])
        expect(await decrypt(p, "f.yaml")).toBe(`a: ${SECRET}\nb: fixed\nnote_unencrypted: 2\n`)
    })

    it("bumps an older version, keeps a newer one, and refuses an unparsable one with 202 before the editor runs", async () => {
        const p = project()
        const setVersion = (v: string) => {
            const f = join(p.dir, "f.yaml")
            writeFileSync(f, readFileSync(f, "utf8").replace(/version: .*/, `version: ${v}`))
        }
        const versionOf = () => /version: (.*)/.exec(readFileSync(join(p.dir, "f.yaml"), "utf8"))?.[1]
        await encrypted(p, "f.yaml", `a: ${SECRET}\ncount: 1\n`)
        let n = 1
        const run = async () => {
            const ed = editor(p.dir, `sed -i 's/^count: .*/count: ${++n}/' "$1"`)
            return runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        }
        // The version is not covered by the MAC, so changing it keeps the file valid.
        setVersion("3.7.1")
        expect((await run()).code).toBe(0)
        expect(versionOf()).toBe("3.13.2")
        setVersion(`"1.14"`) // python-sops; quoted, since metadata wants a string
        expect((await run()).code).toBe(0)
        expect(versionOf()).toBe("3.13.2")
        setVersion("3.99.0")
        expect((await run()).code).toBe(0)
        expect(versionOf()).toBe("3.99.0")

        setVersion("banana")
        const before = readFileSync(join(p.dir, "f.yaml"))
        const runs = editorPaths(p.dir).length
        const r = await run()
        expect(r.code).toBe(202)
        expect(r.stderr).toMatch(/^secrets: error: "f\.yaml": cannot compare the file's sops version "banana" with 3\.13\.2/)
        expect(editorPaths(p.dir)).toHaveLength(runs)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
    })
})

describe("edit -s / --show-master-keys", () => {
    it("shows the sops block, keeps it and re-seals the edited values", async () => {
        const p = project()
        const before = (await encrypted(p, "f.yaml", `a: ${SECRET}\nb: 1\n`)).toString()
        const ed = editor(p.dir, `sed -i 's/^b: 1$/b: 2/' "$1"`)
        const r = await runCli(["edit", "-s", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const saw = readFileSync(join(p.dir, "editor-saw.txt"), "utf8")
        // Decrypted values and the metadata exactly as in the file.
        expect(saw).toBe(`a: ${SECRET}\nb: 1\n` + before.slice(before.indexOf("sops:\n")))
        const after = readFileSync(join(p.dir, "f.yaml"), "utf8")
        const lines = after.split("\n")
        expect(changedLines(before, after).map((i) => lines[i]?.trim().split(":")[0])).toEqual(["b", "lastmodified", "mac"])
        expect(await decrypt(p, "f.yaml")).toBe(`a: ${SECRET}\nb: 2\n`)
    })

    it("metadata without master keys is refused (stdin not a terminal: exit 1, file unchanged)", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `printf 'a: ${NEW_SECRET}\\nsops:\\n    lastmodified: "2020-01-01T00:00:00Z"\\n    mac: ""\\n    unencrypted_suffix: _unencrypted\\n    version: 3.13.2\\n' > "$1"`)
        const r = await runCli(["edit", "-s", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^secrets: error: "f\.yaml": .*(no master keys|no keys)/)
        expectNoSecrets(r.stderr)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
    })

    it("without the sops block, -s is a metadata error, not a silent plaintext save", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `printf 'a: ${NEW_SECRET}\\n' > "$1"`)
        const r = await runCli(["edit", "-s", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^secrets: error: "f\.yaml": /)
        expectNoSecrets(r.stderr)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
    })
})

describe("edit a new file", () => {
    const TEMPLATES: Record<string, string> = {
        "new.yaml":
            "hello: Welcome to SOPS! Edit this file as you please!\nexample_key: example_value\n# Example comment\nexample_array:\n    - example_value1\n    - example_value2\nexample_number: 1234.56789\nexample_booleans:\n    - true\n    - false\n",
        "new.json":
            '{\n\t"hello": "Welcome to SOPS! Edit this file as you please!",\n\t"example_key": "example_value",\n\t"example_array": [\n\t\t"example_value1",\n\t\t"example_value2"\n\t],\n\t"example_number": 1234.56789,\n\t"example_booleans": [\n\t\ttrue,\n\t\tfalse\n\t]\n}\n',
        "new.env": "# This is an example file.\nhello=Welcome to SOPS! Edit this file as you please!\nexample_key=example_value\nexample_multiline=foo\\nbar\\nbaz\n",
        "new.bin": "Welcome to SOPS! Edit this file as you please!",
    }

    it("starts from sops' example document per format; saving it unchanged creates nothing (200)", async () => {
        const p = project()
        const ed = editor(p.dir, "true")
        for (const [name, template] of Object.entries(TEMPLATES)) {
            const r = await runCli(["edit", "--age", p.key.recipient, name], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
            expect([name, r.code, r.stderr]).toEqual([name, 200, `secrets: error: ${JSON.stringify(name)} has not changed, nothing written\n`])
            expect(readFileSync(join(p.dir, "editor-saw.txt"), "utf8")).toBe(template)
            expect(existsSync(join(p.dir, name))).toBe(false)
        }
        // INI: one section; the comment goes through the store once, as in sops' editExample.
        const r = await runCli(["edit", "--age", p.key.recipient, "new.ini"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).toBe(200)
        const ini = readFileSync(join(p.dir, "editor-saw.txt"), "utf8")
        expect(ini).toContain("[Welcome!]\n")
        expect(ini).toContain("This is an example file.")
        expect(ini).toMatch(/\nhello\s*= Welcome to SOPS! Edit this file as you please!\n/)
    })

    it("with --age: the edited example is encrypted with a new data key, default suffix rule and our version", async () => {
        const p = project()
        const ed = editor(p.dir, `sed -i 's/example_value$/${NEW_SECRET}/' "$1"`)
        const r = await runCli(["edit", "--age", p.key.recipient, "new.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const text = readFileSync(join(p.dir, "new.yaml"), "utf8")
        expect(text).not.toContain(NEW_SECRET)
        expect(text).toContain(`recipient: ${p.key.recipient}`)
        expect(text).toContain("    unencrypted_suffix: _unencrypted\n")
        expect(text).toContain("    version: 3.13.2\n")
        expect(text).toContain(`    lastmodified: "${NOW}"\n`)
        expect(statSync(join(p.dir, "new.yaml")).mode & 0o777).toBe(0o600)
        expect(await decrypt(p, "new.yaml")).toBe(TEMPLATES["new.yaml"]?.replace("example_key: example_value", `example_key: ${NEW_SECRET}`))
    })

    it("takes the recipients of the matching creation rule; with none at all it fails before the editor", async () => {
        const p = project()
        const bob = ageKeygen(p.dir, "bob")
        writeFileSync(join(p.dir, ".sops.yaml"), `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${bob.recipient}\n    encrypted_regex: ^secret\n`)
        const ed = editor(p.dir, `printf 'secret: ${NEW_SECRET}\\nplain: visible\\n' > "$1"`)
        const r = await runCli(["edit", "n.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const text = readFileSync(join(p.dir, "n.yaml"), "utf8")
        expect(text).toContain(`recipient: ${bob.recipient}`)
        expect(text).not.toContain(p.key.recipient)
        expect(text).toContain("plain: visible\n")
        expect(text).toContain("    encrypted_regex: ^secret\n")
        expect(await decrypt(p, "n.yaml", { SOPS_AGE_KEY_FILE: bob.file })).toBe(`secret: ${NEW_SECRET}\nplain: visible\n`)

        const runs = editorPaths(p.dir).length
        const none = await runCli(["edit", "n.json"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(none.code).toBe(1)
        expect(none.stderr).toMatch(/^secrets: error: .*n\.json/)
        expect(editorPaths(p.dir)).toHaveLength(runs)
        expect(existsSync(join(p.dir, "n.json"))).toBe(false)
    })

    it("-s on a new file shows the fresh metadata, and the result opens", async () => {
        const p = project()
        const ed = editor(p.dir, `sed -i 's/^hello: .*/hello: ${NEW_SECRET}/' "$1"`)
        const r = await runCli(["edit", "-s", "--age", p.key.recipient, "new.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        const saw = readFileSync(join(p.dir, "editor-saw.txt"), "utf8")
        expect(saw.startsWith(TEMPLATES["new.yaml"] + "sops:\n    age:\n        - enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(saw).toContain(`          recipient: ${p.key.recipient}\n`)
        expect((await decrypt(p, "new.yaml")).split("\n")[0]).toBe(`hello: ${NEW_SECRET}`)
    })
})

describe("signals while the editor runs", () => {
    it("SIGINT (Ctrl-C reaches the whole process group) is ignored: the editor carries on and the edit lands", async () => {
        const p = project()
        await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `kill -INT $PPID\nsleep 0.3\nsed -i 's/^a: .*/a: ${NEW_SECRET}/' "$1"`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(await decrypt(p, "f.yaml")).toBe(`a: ${NEW_SECRET}\n`)
    })

    it("SIGTERM ends the edit: the temp dir is removed and the file is untouched", async () => {
        const p = project()
        const before = await encrypted(p, "f.yaml", `a: ${SECRET}\n`)
        const ed = editor(p.dir, `sed -i 's/^a: .*/a: ${NEW_SECRET}/' "$1"\nkill -TERM $PPID\nsleep 2`)
        const r = await runCli(["edit", "f.yaml"], { cwd: p.dir, env: { ...p.env, EDITOR: ed } })
        expect(r.code).not.toBe(0)
        expect(readFileSync(join(p.dir, "f.yaml"))).toEqual(before)
        const [tmp] = editorPaths(p.dir)
        expect(tmp).toBeDefined()
        expect(existsSync(join(tmp ?? "/", ".."))).toBe(false)
    })
})

describe("version comparison (blang/semver, as sops' AIsNewerThanB)", () => {
    it("orders versions by semver precedence", () => {
        const order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1", "3.13.2", "10.0.0"]
        for (let i = 0; i < order.length; i++) {
            for (let j = 0; j < order.length; j++) {
                const a = parseSemver(order[i] ?? "")
                const b = parseSemver(order[j] ?? "")
                if (a === undefined || b === undefined) throw new Error(`did not parse ${order[i]} or ${order[j]}`)
                expect([order[i], order[j], Math.sign(compareSemver(a, b))]).toEqual([order[i], order[j], Math.sign(i - j)])
            }
        }
        expect(compareSemver(parseSemver("1.0.0+build.1")!, parseSemver("1.0.0+other")!)).toBe(0)
    })

    it("parses strictly: no missing parts, no leading zeros, no spaces", () => {
        for (const bad of ["", "3.13", "3", "03.1.0", "3.01.0", "3.1.0-01", "3.1.0-", "3.1.0 ", "v", "3.1.0-a..b", "banana"]) {
            expect([bad, parseSemver(bad)]).toEqual([bad, undefined])
        }
        expect(parseSemver("3.13.2-rc.1+sha.abc")).toEqual({ major: 3n, minor: 13n, patch: 2n, pre: ["rc", 1n] })
    })

    it("needsVersionBump: older -> true, same or newer -> false, python-sops 1.x -> true, a leading v is trimmed, garbage -> 202", () => {
        expect(needsVersionBump("3.7.1")).toBe(true)
        expect(needsVersionBump("3.13.2-rc.1")).toBe(true)
        expect(needsVersionBump("3.13.2")).toBe(false)
        expect(needsVersionBump("3.14.0")).toBe(false)
        expect(needsVersionBump("1.18")).toBe(true)
        expect(needsVersionBump("v3.7.0")).toBe(true)
        for (const bad of ["", "3.13", "banana"]) {
            try {
                needsVersionBump(bad)
                expect.unreachable()
            } catch (e) {
                expect(e).toBeInstanceOf(SecretsError)
                expect((e as SecretsError).code).toBe(202)
            }
        }
    })
})
