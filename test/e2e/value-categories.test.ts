/**
 * Categories of values (issue 16 §5: the `category:` of `secrets.values` policies)
 * in `ls`, `access` and `status`, in process (test/helpers/in-process.ts), with
 * files encrypted to a key from Debian's age-keygen. `access` and `status` read
 * key paths from the encrypted text: the caller holds no key for them.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runInProcess } from "../helpers/in-process.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = 120_000

const CONFIG = (recipient: string) =>
    [
        "creation_rules:",
        "    - path_regex: ^secrets/",
        `      age: ${recipient}`,
        "secrets:",
        "    values:",
        "        - path: '[\"db\"][\"password\"]'",
        "          category: database",
        "        - path: '[\"stripe\"][\"*\"]'",
        "          files: ^secrets/app",
        "          category: api",
        "",
    ].join("\n")

describe("categories of values", () => {
    it("ls shows each value's category, access and status each file's, without a key for the last two", { timeout: SLOW }, async () => {
        const dir = tempDir()
        const alice = ageKeygen(tempDir(), "alice")
        writeFileSync(join(dir, ".sops.yaml"), CONFIG(alice.recipient))
        mkdirSync(join(dir, "secrets"))
        writeFileSync(join(dir, "secrets/app.yaml"), "db:\n    password: hunter2-long\nstripe:\n    key: sk_live_123456\nname: app\n")
        writeFileSync(join(dir, "secrets/other.yaml"), "stripe:\n    key: sk_other_1234\n")
        const withKey = { SOPS_AGE_KEY_FILE: alice.file }
        for (const f of ["secrets/app.yaml", "secrets/other.yaml"]) expect((await runInProcess(["encrypt", "-i", f], { cwd: dir, env: withKey })).code).toBe(0)

        const ls = await runInProcess(["ls"], { cwd: dir, env: withKey })
        expect(ls.stderr).toBe("")
        expect(ls.stdout).toBe(
            [
                "FILE                CATEGORY  KEY                 VALUE",
                'secrets/app.yaml    database  ["db"]["password"]  str(12) …ng',
                'secrets/app.yaml    api       ["stripe"]["key"]   str(14) …56',
                'secrets/app.yaml    -         ["name"]            str(3)',
                'secrets/other.yaml  -         ["stripe"]["key"]   str(13) …34',
                "",
            ].join("\n"),
        )
        const lsJson = JSON.parse((await runInProcess(["ls", "--json", "secrets/app.yaml"], { cwd: dir, env: withKey })).stdout) as { keys: { path: string; category: string | null }[] }
        expect(lsJson.keys.map((k) => [k.path, k.category])).toEqual([
            ['["db"]["password"]', "database"],
            ['["stripe"]["key"]', "api"],
            ['["name"]', null],
        ])

        const access = await runInProcess(["access"], { cwd: dir })
        expect(access.stderr).toBe("")
        expect(access.stdout.split("\n").slice(0, 3)).toEqual([
            expect.stringMatching(/^FILE +CATEGORIES +age1\w+$/),
            expect.stringMatching(/^secrets\/app\.yaml +api,database +x$/),
            expect.stringMatching(/^secrets\/other\.yaml +- +x$/),
        ])
        const accessJson = JSON.parse((await runInProcess(["access", "--json"], { cwd: dir })).stdout) as { files: { path: string; categories: string[] }[] }
        expect(accessJson.files.map((f) => [f.path, f.categories])).toEqual([
            ["secrets/app.yaml", ["api", "database"]],
            ["secrets/other.yaml", []],
        ])

        const status = await runInProcess(["status", "--json"], { cwd: dir })
        const statusJson = JSON.parse(status.stdout) as { files: { path: string; categories: string[] }[]; certificates: { notChecked: { file: string }[] } }
        expect(statusJson.files.map((f) => [f.path, f.categories])).toEqual([
            ["secrets/app.yaml", ["api", "database"]],
            ["secrets/other.yaml", []],
        ])
        const statusText = await runInProcess(["status"], { cwd: dir })
        expect(statusText.stdout.split("\n")[0]).toMatch(/^FILE +ENCRYPTED +RECIPIENTS +KEY AGE +SOURCE +DUE +CATEGORIES$/)
        expect(statusText.stdout.split("\n")[1]).toMatch(/^secrets\/app\.yaml .* api,database$/)
    })
})
