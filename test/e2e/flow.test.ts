/**
 * The whole flow a team goes through, on the built binary in a temp dir: a config
 * with two rules, encrypt in place, decrypt, edit with a scripted editor, set and
 * unset, rotate, updatekeys after adding a recipient, exec-env, filestatus. No step
 * may print a plaintext value on stderr.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const VALUES = ["s3cr3t-db-pass", "tok_live_424242", "edited-value-77", "set-value-99", "exec-value-55"]

describe("the whole flow", () => {
    it("works end to end and never leaks a value to stderr", async () => {
        const dir = tempDir()
        const dev = ageKeygen(dir, "dev")
        const ci = ageKeygen(dir, "ci")
        const newcomer = ageKeygen(dir, "newcomer")
        const config = (extra: string) =>
            `creation_rules:\n  - path_regex: ^secrets/ci/\n    age: ${ci.recipient}${extra}\n  - path_regex: ^secrets/\n    age: ${dev.recipient}\n`
        writeFileSync(join(dir, ".sops.yaml"), config(""))
        mkdirSync(join(dir, "secrets/ci"), { recursive: true })
        writeFileSync(join(dir, "secrets/ci/deploy.yaml"), `db:\n    password: ${VALUES[0]}\n    port: 5432\ntoken: ${VALUES[1]}\n`)
        writeFileSync(join(dir, "secrets/app.env"), `API=${VALUES[1]}\n`)

        const steps: CliResult[] = []
        const cli = async (args: string[], env: Record<string, string> = {}, input?: string) => {
            const r = await runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) })
            steps.push(r)
            return r
        }
        const asCi = { SOPS_AGE_KEY_FILE: ci.file }

        // encrypt in place, each file with its own rule
        expect((await cli(["encrypt", "-i", "secrets/ci/deploy.yaml"])).code).toBe(0)
        expect((await cli(["encrypt", "-i", "secrets/app.env"])).code).toBe(0)
        const deploy = () => readFileSync(join(dir, "secrets/ci/deploy.yaml"), "utf8")
        expect(deploy()).toContain(ci.recipient)
        expect(deploy()).not.toContain(dev.recipient)
        expect(readFileSync(join(dir, "secrets/app.env"), "utf8")).toContain(`sops_age__list_0__map_recipient=${dev.recipient}`)

        // decrypt with the right key only
        expect((await cli(["decrypt", "secrets/ci/deploy.yaml"], asCi)).stdout).toContain(VALUES[0])
        expect((await cli(["decrypt", "secrets/ci/deploy.yaml"], { SOPS_AGE_KEY_FILE: dev.file })).code).toBe(128)

        // edit with a scripted editor: change the token
        const editor = join(dir, "editor.sh")
        writeFileSync(editor, `#!/bin/sh\nsed -i 's/^token: .*/token: ${VALUES[2]}/' "$1"\n`)
        chmodSync(editor, 0o755)
        const before = deploy().split("\n")
        // A pinned clock, so lastmodified differs even when encrypt ran in the same second.
        expect((await cli(["edit", "secrets/ci/deploy.yaml"], { ...asCi, EDITOR: editor, SECRETS_NOW: "2031-01-01T00:00:00Z" })).code).toBe(0)
        const after = deploy().split("\n")
        const changed = before.flatMap((l, i) => (l === after[i] ? [] : [l.trim().split(":")[0]]))
        expect(changed).toEqual(["token", "lastmodified", "mac"])

        // set and unset
        expect((await cli(["set", "--value-stdin", "secrets/ci/deploy.yaml", '["db"]["user"]'], asCi, JSON.stringify(VALUES[3]))).code).toBe(0)
        expect((await cli(["unset", "secrets/ci/deploy.yaml", '["db"]["port"]'], asCi)).code).toBe(0)
        const plain = (await cli(["decrypt", "secrets/ci/deploy.yaml"], asCi)).stdout
        expect(plain).toBe(`db:\n    password: ${VALUES[0]}\n    user: ${VALUES[3]}\ntoken: ${VALUES[2]}\n`)

        // rotate: a new data key, same plaintext
        const blockKey = () => {
            const enc = /enc: \|\n((?: {12}.*\n)+)/.exec(deploy())![1]!.replace(/^ {12}/gm, "")
            writeFileSync(join(dir, "block.age"), enc)
            return run("age", ["-d", "-i", ci.file, join(dir, "block.age")]).toString("hex")
        }
        const keyBefore = blockKey()
        expect((await cli(["rotate", "-i", "secrets/ci/deploy.yaml"], asCi)).code).toBe(0)
        expect(blockKey()).not.toBe(keyBefore)
        expect((await cli(["decrypt", "secrets/ci/deploy.yaml"], asCi)).stdout).toBe(plain)

        // updatekeys after adding a recipient to the rule
        writeFileSync(join(dir, ".sops.yaml"), config(`,${newcomer.recipient}`))
        const dry = await cli(["updatekeys", "--dry-run", "secrets/ci/deploy.yaml"], asCi)
        expect(dry.code).toBe(0)
        expect(dry.stdout + dry.stderr).toContain(newcomer.recipient)
        expect((await cli(["decrypt", "secrets/ci/deploy.yaml"], { SOPS_AGE_KEY_FILE: newcomer.file })).code).toBe(128)
        expect((await cli(["updatekeys", "-y", "secrets/ci/deploy.yaml"], asCi)).code).toBe(0)
        expect((await cli(["decrypt", "secrets/ci/deploy.yaml"], { SOPS_AGE_KEY_FILE: newcomer.file })).stdout).toBe(plain)

        // exec-env passes top-level values in the environment, and the child's exit code
        // out; nested values cannot be variables (sops refuses them too)
        const exec = await cli(["exec-env", "secrets/app.env", 'printf %s "$API"; exit 3'], { SOPS_AGE_KEY_FILE: dev.file })
        expect(exec.stdout).toBe(VALUES[1])
        expect(exec.code).toBe(3)
        expect((await cli(["exec-env", "secrets/ci/deploy.yaml", "true"], asCi)).code).toBe(1)

        // filestatus
        expect((await cli(["filestatus", "secrets/ci/deploy.yaml"])).stdout).toBe(`{"encrypted":true}\n`)
        writeFileSync(join(dir, "plain.yaml"), "a: 1\n")
        expect((await cli(["filestatus", "plain.yaml"])).stdout).toBe(`{"encrypted":false}\n`)

        for (const step of steps) for (const v of VALUES) expect(step.stderr).not.toContain(v)
    })
})
