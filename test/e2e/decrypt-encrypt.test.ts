/**
 * The built binary, run as a user would in a temp dir: encrypt with a creation
 * rule, decrypt, and the error paths with sops' exit codes.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { runProcess } from "../helpers/process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "p4ssw0rd-never-printed"

function project() {
    const dir = tempDir()
    const alice = ageKeygen(dir, "alice")
    const bob = ageKeygen(dir, "bob")
    writeFileSync(
        join(dir, ".sops.yaml"),
        `creation_rules:\n  - path_regex: ^secrets/bob/\n    age: ${bob.recipient}\n  - path_regex: ^secrets/\n    age: ${alice.recipient},${bob.recipient}\n`,
    )
    return { dir, alice, bob }
}

describe("encrypt and decrypt", () => {
    it("encrypts with the first matching rule and decrypts with either key", async () => {
        const { dir, alice, bob } = project()
        const plain = `db:\n    password: ${SECRET}\n    port: 5432\n`
        const { mkdirSync } = await import("node:fs")
        mkdirSync(join(dir, "secrets"))
        writeFileSync(join(dir, "secrets/app.yaml"), plain)
        // Rules see the input file's path relative to the config's directory, as in sops.
        const enc = await runCli(["encrypt", "-i", "secrets/app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(enc.stderr).toBe("")
        expect(enc.code).toBe(0)
        const text = readFileSync(join(dir, "secrets/app.yaml"), "utf8")
        expect(text).not.toContain(SECRET)
        expect(text).toContain(alice.recipient)
        expect(text).toContain(bob.recipient)

        for (const key of [alice, bob]) {
            const dec = await runCli(["decrypt", "secrets/app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
            expect(dec.code).toBe(0)
            expect(dec.stdout).toBe(plain)
        }
    })

    it("encrypts in place keeping the file mode, and decrypt -i restores the plaintext", async () => {
        const { dir, alice } = project()
        const { mkdirSync } = await import("node:fs")
        mkdirSync(join(dir, "secrets"))
        const f = join(dir, "secrets/a.json")
        writeFileSync(f, `{"token": "${SECRET}"}`)
        chmodSync(f, 0o640)
        expect((await runCli(["encrypt", "-i", "secrets/a.json"], { cwd: dir })).code).toBe(0)
        expect(statSync(f).mode & 0o777).toBe(0o640)
        expect(readFileSync(f, "utf8")).toMatch(/^\{\n\t"token": "ENC\[AES256_GCM,/)
        const dec = await runCli(["decrypt", "-i", "secrets/a.json"], { cwd: dir, env: { SOPS_AGE_KEY: alice.text } })
        expect(dec.code).toBe(0)
        expect(readFileSync(f, "utf8")).toBe(`{\n\t"token": "${SECRET}"\n}\n`)
    })

    it("converts formats and extracts single values", async () => {
        const { dir, alice } = project()
        writeFileSync(join(dir, "x.yaml"), `a: 1\nb:\n    c: ${SECRET}\n`)
        expect((await runCli(["encrypt", "--age", alice.recipient, "-i", "x.yaml"], { cwd: dir })).code).toBe(0)
        const env = { SOPS_AGE_KEY_FILE: alice.file }
        expect((await runCli(["decrypt", "--output-type", "json", "x.yaml"], { cwd: dir, env })).stdout).toBe(`{\n\t"a": 1,\n\t"b": {\n\t\t"c": "${SECRET}"\n\t}\n}\n`)
        expect((await runCli(["decrypt", "--extract", '["b"]["c"]', "x.yaml"], { cwd: dir, env })).stdout).toBe(SECRET)
        expect((await runCli(["view", "--extract", '["a"]', "x.yaml"], { cwd: dir, env })).stdout).toBe("1\n")
    })
})

describe("errors, with sops' exit codes and nothing written", () => {
    it("missing file -> 100, no identity -> 128 listing where it looked, bad --extract -> 91, already encrypted -> 203", async () => {
        const { dir, alice } = project()
        writeFileSync(join(dir, "x.yaml"), `k: ${SECRET}\n`)
        await runCli(["encrypt", "--age", alice.recipient, "-i", "x.yaml"], { cwd: dir })
        const before = readFileSync(join(dir, "x.yaml"))

        const missing = await runCli(["decrypt", "nope.yaml"], { cwd: dir })
        expect([missing.code, missing.stderr]).toEqual([100, `secrets: error: "nope.yaml" does not exist\n`])

        const noKey = await runCli(["decrypt", "x.yaml"], { cwd: dir })
        expect(noKey.code).toBe(128)
        expect(noKey.stderr).toContain(alice.recipient)
        expect(noKey.stderr).toContain("SOPS_AGE_KEY_FILE (not set)")

        const badPath = await runCli(["decrypt", "--extract", "k", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(badPath.code).toBe(91)

        const again = await runCli(["encrypt", "--age", alice.recipient, "-i", "x.yaml"], { cwd: dir })
        expect(again.code).toBe(203)
        expect(readFileSync(join(dir, "x.yaml"))).toEqual(before)

        for (const r of [missing, noKey, badPath, again]) {
            expect(r.stderr).not.toContain(SECRET)
            expect(r.stderr).toMatch(/^secrets: error: /)
            expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
        }
    })

    it("a tampered value -> 25 (sops' ErrorDecryptingTree) and nothing printed on stdout", async () => {
        const { dir, alice } = project()
        writeFileSync(join(dir, "x.yaml"), `a: ${SECRET}\nb: other\n`)
        await runCli(["encrypt", "--age", alice.recipient, "-i", "x.yaml"], { cwd: dir })
        const lines = readFileSync(join(dir, "x.yaml"), "utf8").split("\n")
        lines[1] = "b:" + lines[0]!.slice(2)
        writeFileSync(join(dir, "x.yaml"), lines.join("\n"))
        const r = await runCli(["decrypt", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(r.code).toBe(25)
        expect(r.stdout).toBe("")
        expect(r.stderr).not.toContain(SECRET)
    })

    it("a file no creation rule matches is refused with the rules listed", async () => {
        const { dir } = project()
        writeFileSync(join(dir, "elsewhere.yaml"), "a: 1\n")
        const r = await runCli(["encrypt", "elsewhere.yaml"], { cwd: dir })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/no creation rule in .*\.sops\.yaml matches "elsewhere\.yaml"/)
        expect(r.stderr).toMatch(/secrets: hint: .*\^secrets\//)
    })

    it("-i with --output -> 8; stdin encrypt without --filename-override -> 8; --output is not created on failure", async () => {
        const { dir, alice } = project()
        writeFileSync(join(dir, "p.yaml"), "a: 1\n")
        expect((await runCli(["encrypt", "--age", alice.recipient, "-i", "--output", "o.yaml", "p.yaml"], { cwd: dir })).code).toBe(8)
        expect((await runCli(["encrypt", "--age", alice.recipient], { cwd: dir, input: "a: 1\n" })).code).toBe(8)
        const r = await runCli(["decrypt", "--output", "out.yaml", "p.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(r.code).not.toBe(0)
        expect(existsSync(join(dir, "out.yaml"))).toBe(false)
    })

    it("a plaintext parse error -> 2 naming the file and position, not the text", async () => {
        const { dir, alice } = project()
        writeFileSync(join(dir, "bad.json"), `{"a": "${SECRET}",`)
        const r = await runCli(["encrypt", "--age", alice.recipient, "bad.json"], { cwd: dir })
        expect(r.code).toBe(2)
        expect(r.stderr).toMatch(/^secrets: error: "bad.json": /)
        expect(r.stderr).not.toContain(SECRET)
    })

    it("a typo in a command gets a suggestion", async () => {
        const r = await runCli(["decrpyt"], { cwd: tempDir() })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            'secrets: error: unknown command "decrpyt"\nsecrets: hint: did you mean decrypt?\nsecrets: hint: to create a new file, give it an extension: secrets NAME.yaml\n',
        )
    })
})

describe("a reader that stops early (`secrets decrypt f | head`)", () => {
    it("ends with 141 as sops does when SIGPIPE kills it, and no stack trace", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir, "me")
        // ~220 KB of output into a real pipe (64 KiB) read by `head -c 12`, which exits
        // after its first read (at most a few KiB): the program is still writing when
        // the pipe closes. (Read from Node instead, the output went through a socket
        // pair whose buffers hold hundreds of KiB, and it took 50,000 lines, five times
        // the encryption work, to outrun them.)
        const lines = Array.from({ length: 12_000 }, (_, i) => `k${i}: value-${i}`).join("\n")
        writeFileSync(join(dir, "big.yaml"), `${lines}\n`)
        expect((await runCli(["encrypt", "-i", "--age", key.recipient, "big.yaml"], { cwd: dir })).code).toBe(0)
        const pipeline = `'${process.execPath}' '${BIN}' decrypt big.yaml 2>stderr.txt | head -c 12 >first.txt; echo "\${PIPESTATUS[0]}"`
        const r = await runProcess("bash", ["-c", pipeline], { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, SOPS_AGE_KEY_FILE: key.file } })
        const code = Number(r.stdout.trim())
        expect(readFileSync(join(dir, "first.txt"), "utf8")).toBe("k0: value-0\n")
        expect(readFileSync(join(dir, "stderr.txt"), "utf8")).toBe("")
        expect(code).toBe(141)
    })
})
