/**
 * Issue 10 §8 through the binary: a secret key given where a recipient belongs
 * (a flag, the environment, .sops.yaml) is named as an identity, never printed,
 * and nothing is written.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

function setup() {
    const dir = tempDir()
    const k = ageKeygen(dir, "k")
    const secret = k.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!
    writeFileSync(join(dir, "s.yaml"), "a: 1\n")
    return { dir, k, secret }
}

function expectRefused(r: { code: number; stdout: string; stderr: string }, secret: string): void {
    expect(r.stderr).toContain("this is an identity (secret key), not a recipient")
    // Not the key, nor a recognisable part of it.
    expect(r.stderr + r.stdout).not.toContain(secret.slice(20, 40))
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(r.code).not.toBe(0)
}

describe("a secret key given as a recipient", () => {
    it("encrypt --age, SOPS_AGE_RECIPIENTS and .sops.yaml refuse it without printing it", async () => {
        const { dir, k, secret } = setup()
        expectRefused(await runCli(["encrypt", "--age", `${k.recipient},${secret}`, "-i", "s.yaml"], { cwd: dir }), secret)
        expectRefused(await runCli(["encrypt", "-i", "s.yaml"], { cwd: dir, env: { SOPS_AGE_RECIPIENTS: secret } }), secret)
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - age: ${secret}\n`)
        const r = await runCli(["encrypt", "-i", "s.yaml"], { cwd: dir })
        expectRefused(r, secret)
        expect(r.stderr).toContain(".sops.yaml")
        expect(readFileSync(join(dir, "s.yaml"), "utf8")).toBe("a: 1\n")
    })

    it("rotate --add-age and --rm-age refuse it without printing it; the file is unchanged", async () => {
        const { dir, k, secret } = setup()
        expect((await runCli(["encrypt", "--age", k.recipient, "-i", "s.yaml"], { cwd: dir })).code).toBe(0)
        const before = readFileSync(join(dir, "s.yaml"), "utf8")
        const env = { SOPS_AGE_KEY_FILE: k.file }
        expectRefused(await runCli(["rotate", "-i", "--add-age", secret, "s.yaml"], { cwd: dir, env }), secret)
        expectRefused(await runCli(["rotate", "-i", "--rm-age", secret, "s.yaml"], { cwd: dir, env }), secret)
        expect(readFileSync(join(dir, "s.yaml"), "utf8")).toBe(before)
    })

    it("keys add-user --age with a key file's contents leaves .sops.yaml as it was", async () => {
        const { dir, k, secret } = setup()
        const init = await runCli(["init", "--user", "alice", "--yes"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: k.file } })
        expect(init.code, init.stderr).toBe(0)
        const before = readFileSync(join(dir, ".sops.yaml"), "utf8")
        expectRefused(await runCli(["keys", "add-user", "bob", "--age", k.text, "--yes"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: k.file } }), secret)
        expect(readFileSync(join(dir, ".sops.yaml"), "utf8")).toBe(before)
    })
})
