/**
 * Hostile input through the built binary (issue 10, points 10 to 12): a "billion
 * laughs" YAML file given to decrypt, encrypt, filestatus and status and as
 * .sops.yaml, a megabyte of nesting given to encrypt and decrypt, files nested at
 * the limit, and patterns that make a backtracking engine take forever.
 *
 * Each run is a child process with a 256 MB heap and is killed after KILL_AFTER:
 * expanding the bomb would need gigabytes and a backtracking regex years, so a
 * regression shows as a crash or a kill (no exit code), never as a slow pass. No
 * assertion is about time.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { MAX_NESTING_DEPTH } from "../../../src/core/input-limits.js"
import { BIN } from "../../helpers/cli.js"
import { runProcess, type ProcessResult } from "../../helpers/process.js"
import { ageKeygen, run, tempDir } from "../../helpers/tmp.js"

const KILL_AFTER = 90_000
const SLOW = 120_000

interface Cli {
    code: number | null
    stdout: string
    stderr: string
}

/** The binary in `cwd` with a small heap, killed if it runs too long. */
async function secrets(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Cli> {
    const r: ProcessResult = await runProcess(process.execPath, ["--max-old-space-size=256", BIN, ...args], {
        cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, XDG_CONFIG_HOME: join(cwd, ".config"), ...env },
        timeout: KILL_AFTER,
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Eleven anchors of forty aliases each: 40^10 leaves from about 2 KB. */
function laughs(indent = ""): string {
    const lines = [`${indent}l0: &l0 [${Array(40).fill('"lol"').join(",")}]`]
    for (let i = 1; i <= 10; i++) lines.push(`${indent}l${i}: &l${i} [${Array(40).fill(`*l${i - 1}`).join(",")}]`)
    return lines.join("\n") + "\n"
}

const BOMB_ERROR = "excessive aliasing in YAML: its aliases expand to far more than the file itself holds"
const BOMB_HINT = 'secrets: hint: an alias repeats its anchor\'s whole value, so anchors built from aliases of other anchors multiply (a "billion laughs" file)\n'

describe("a billion laughs file", () => {
    test(
        "decrypt, encrypt and filestatus stop with one clear error, in bounded memory",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            writeFileSync(join(dir, "laughs.yaml"), laughs())
            expect(readFileSync(join(dir, "laughs.yaml")).length).toBeGreaterThan(1900)
            const env = { SOPS_AGE_KEY_FILE: key.file }
            const [decrypt, encrypt, filestatus] = await Promise.all([
                secrets(dir, ["decrypt", "laughs.yaml"], env),
                secrets(dir, ["encrypt", "--age", key.recipient, "laughs.yaml"], env),
                secrets(dir, ["filestatus", "laughs.yaml"], env),
            ])
            for (const r of [decrypt, filestatus]) {
                expect(r).toEqual({ code: 1, stdout: "", stderr: `secrets: error: "laughs.yaml": ${BOMB_ERROR}\n${BOMB_HINT}` })
            }
            // encrypt reports a file it cannot read with sops's exit code 2, as for any parse error.
            expect(encrypt).toEqual({ code: 2, stdout: "", stderr: `secrets: error: "laughs.yaml": ${BOMB_ERROR}\n${BOMB_HINT}` })
        },
        SLOW,
    )

    test(
        "as .sops.yaml it stops encrypt with the config's name",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            writeFileSync(join(dir, ".sops.yaml"), `bomb:\n${laughs("  ")}creation_rules:\n  - age: ${key.recipient}\n`)
            writeFileSync(join(dir, "app.yaml"), "password: x\n")
            const r = await secrets(dir, ["encrypt", "app.yaml"])
            expect(r.code).toBe(1)
            expect(r.stderr).toBe(`secrets: error: ${join(dir, ".sops.yaml")}: ${BOMB_ERROR}\n${BOMB_HINT}`)
        },
        SLOW,
    )

    test(
        "status in a repository holding one names that file instead of listing it as plaintext",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(tempDir(), "k")
            run("git", ["init", "-q"], { cwd: dir })
            writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${key.recipient}\n`)
            mkdirSync(join(dir, "secrets"))
            writeFileSync(join(dir, "secrets/laughs.yaml"), laughs())
            const r = await secrets(dir, ["status"], { SOPS_AGE_KEY_FILE: key.file })
            expect(r.code).toBe(1)
            expect(r.stderr).toBe(`secrets: error: "${join(dir, "secrets/laughs.yaml")}": ${BOMB_ERROR}\n${BOMB_HINT}`)
        },
        SLOW,
    )
})

describe("nesting", () => {
    test(
        "a megabyte of brackets in YAML and JSON: encrypt and decrypt give the clear error, no internal error",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            writeFileSync(join(dir, "deep.yaml"), `a: ${"[".repeat(500_000)}${"]".repeat(500_000)}\n`)
            writeFileSync(join(dir, "deep.json"), `{"a": ${"[".repeat(500_000)}${"]".repeat(500_000)}}\n`)
            const env = { SOPS_AGE_KEY_FILE: key.file }
            const runs = await Promise.all(
                ["deep.yaml", "deep.json"].flatMap((f) => [
                    secrets(dir, ["encrypt", "--age", key.recipient, f], env).then((r) => ({ f, cmd: "encrypt", r })),
                    secrets(dir, ["decrypt", f], env).then((r) => ({ f, cmd: "decrypt", r })),
                ]),
            )
            for (const { f, cmd, r } of runs) {
                const where = f.endsWith(".json") ? "JSON nested too deeply at line 1, column 506" : "YAML nested too deeply at line 1"
                expect({ f, cmd, ...r }).toEqual({
                    f,
                    cmd,
                    code: cmd === "encrypt" ? 2 : 1,
                    stdout: "",
                    stderr: `secrets: error: "${f}": ${where} (more than 500 levels of mappings and lists)\n`,
                })
            }
        },
        SLOW,
    )

    test(
        `files nested ${MAX_NESTING_DEPTH} levels deep encrypt and decrypt back to the same text`,
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            const d = MAX_NESTING_DEPTH
            const files: Record<string, string> = {
                "flow.yaml": `a: ${"[".repeat(d - 1)}s3cret${"]".repeat(d - 1)}\n`,
                "block.yaml": Array.from({ length: d }, (_, i) => `${" ".repeat(4 * i)}k${i}:`).join("\n") + " s3cret\n",
                "deep.json": `{\n\t"a": ${"[".repeat(d - 1)}"s3cret"${"]".repeat(d - 1)}\n}\n`,
            }
            const env = { SOPS_AGE_KEY_FILE: key.file }
            for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
            const encrypted = await Promise.all(Object.keys(files).map((f) => secrets(dir, ["encrypt", "-i", "--age", key.recipient, f], env)))
            for (const r of encrypted) expect(r).toEqual({ code: 0, stdout: "", stderr: "" })
            for (const name of Object.keys(files)) expect(readFileSync(join(dir, name), "utf8")).not.toContain("s3cret")
            // Decrypt, then encrypt and decrypt the decrypted text once more: the YAML
            // emitter writes flow input as block, so compare the second round with the first.
            const roundTrip = async (name: string, text: string): Promise<void> => {
                const plain = await secrets(dir, ["decrypt", name], env)
                expect({ name, code: plain.code, stderr: plain.stderr }).toEqual({ name, code: 0, stderr: "" })
                if (name === "block.yaml") expect(plain.stdout).toBe(text)
                writeFileSync(join(dir, `again-${name}`), plain.stdout)
                const again = await secrets(dir, ["encrypt", "-i", "--age", key.recipient, `again-${name}`], env)
                expect(again.code).toBe(0)
                expect((await secrets(dir, ["decrypt", `again-${name}`], env)).stdout).toBe(plain.stdout)
            }
            await Promise.all(Object.entries(files).map(([name, text]) => roundTrip(name, text)))
        },
        SLOW,
    )
})

describe("regexes from files run in linear time (no ReDoS)", () => {
    test(
        "path_regex ^(a+)+$ against a long file name: no rule matches, at once",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^(a+)+$\n    age: ${key.recipient}\n`)
            const name = `${"a".repeat(200)}b.yaml`
            writeFileSync(join(dir, name), "password: x\n")
            const r = await secrets(dir, ["encrypt", name])
            expect(r.code).toBe(1)
            expect(r.stderr).toContain(`secrets: error: no creation rule in ${join(dir, ".sops.yaml")} matches "${name}"`)
        },
        SLOW,
    )

    test(
        "encrypted_regex ^(a+)+$ against a long key: the key does not match, so its value stays clear",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - encrypted_regex: ^(a+)+$\n    age: ${key.recipient}\n`)
            // JSON, because YAML limits an implicit key to 1,024 characters.
            const long = `${"a".repeat(50_000)}b`
            writeFileSync(join(dir, "app.json"), `{"${long}": "clear", "aaaa": "hidden"}\n`)
            const r = await secrets(dir, ["encrypt", "app.json"], { SOPS_AGE_KEY_FILE: key.file })
            expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" })
            expect(r.stdout).toContain(`"${long}": "clear",\n`)
            expect(r.stdout).toMatch(/^\t"aaaa": "ENC\[AES256_GCM,/m)
        },
        SLOW,
    )
})
