/**
 * Issue 10 §6 through the binary: plaintext that lands on an existing file leaves
 * it private (`mode & 0600`), and every rewrite keeps the file's owner and group,
 * checked with real users (`daemon`) and `stat`.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SECRET = "s3cret-for-privacy-test"
const isRoot = process.getuid?.() === 0

async function encryptedProject() {
    const dir = tempDir()
    const key = ageKeygen(dir, "alice")
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${key.recipient}\n`)
    mkdirSync(join(dir, "secrets"))
    const file = join(dir, "secrets/app.yaml")
    writeFileSync(file, `password: ${SECRET}\n`)
    const r = await runCli(["encrypt", "-i", "secrets/app.yaml"], { cwd: dir })
    expect(r.code).toBe(0)
    return { dir, file, env: { SOPS_AGE_KEY_FILE: key.file } }
}

const stat3 = (p: string) => {
    const st = statSync(p)
    return [st.uid, st.gid, st.mode & 0o7777]
}

describe("plaintext files are private", () => {
    it("decrypt -i of a 0644 file leaves it 0600", async () => {
        const { dir, file, env } = await encryptedProject()
        chmodSync(file, 0o644)
        const r = await runCli(["decrypt", "-i", "secrets/app.yaml"], { cwd: dir, env })
        expect(r.code).toBe(0)
        expect(readFileSync(file, "utf8")).toBe(`password: ${SECRET}\n`)
        expect(statSync(file).mode & 0o777).toBe(0o600)
    })

    it("decrypt --output onto an existing 0664 file leaves it 0600; a new one is 0600", async () => {
        const { dir, env } = await encryptedProject()
        const out = join(dir, "plain.yaml")
        writeFileSync(out, "stale\n")
        chmodSync(out, 0o664)
        expect((await runCli(["decrypt", "--output", "plain.yaml", "secrets/app.yaml"], { cwd: dir, env })).code).toBe(0)
        expect(readFileSync(out, "utf8")).toContain(SECRET)
        expect(statSync(out).mode & 0o777).toBe(0o600)
        expect((await runCli(["decrypt", "--output", "new.yaml", "secrets/app.yaml"], { cwd: dir, env })).code).toBe(0)
        expect(statSync(join(dir, "new.yaml")).mode & 0o777).toBe(0o600)
    })

    it("set keeps a shared ciphertext's 0644 (only plaintext is made private)", async () => {
        const { dir, file, env } = await encryptedProject()
        chmodSync(file, 0o644)
        expect((await runCli(["set", "secrets/app.yaml", '["x"]', '"1"'], { cwd: dir, env })).code).toBe(0)
        expect(statSync(file).mode & 0o777).toBe(0o644)
    })
})

describe.skipIf(!isRoot)("rewrites keep owner and group (real users, as root)", () => {
    it.each([
        ["set", ["set", "secrets/app.yaml", '["db"]', '"x"']],
        ["rotate -i", ["rotate", "-i", "secrets/app.yaml"]],
        ["updatekeys", ["updatekeys", "-y", "secrets/app.yaml"]],
        ["encrypt -i after decrypt -i", null],
    ] as const)("%s on a daemon:daemon 0640 file keeps daemon:daemon", async (_name, args) => {
        const { dir, file, env } = await encryptedProject()
        chownSync(file, 1, 1)
        chmodSync(file, 0o640)
        if (args === null) {
            expect((await runCli(["decrypt", "-i", "secrets/app.yaml"], { cwd: dir, env })).code).toBe(0)
            // Plaintext: still daemon's, but no longer group-readable.
            expect(stat3(file)).toEqual([1, 1, 0o600])
            expect((await runCli(["encrypt", "-i", "secrets/app.yaml"], { cwd: dir, env })).code).toBe(0)
            expect(stat3(file)).toEqual([1, 1, 0o600])
        } else {
            const r = await runCli([...args], { cwd: dir, env })
            expect(r.stderr).not.toContain(SECRET)
            expect(r.code).toBe(0)
            expect(stat3(file)).toEqual([1, 1, 0o640])
        }
    })
})
