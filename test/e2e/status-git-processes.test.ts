/**
 * Issue 14 target 7 through the built binary: `status`, `status --check` and
 * `rotate --due --dry-run` read the history of the whole repository with three git
 * processes (the work tree, one log, one cat-file --batch), however many files;
 * `access` starts none. Counted with a `git` on PATH that logs each start, not
 * timed. (File by file it was a log per file and a show per version read.)
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { tempDir } from "../helpers/tmp.js"
import { fiveRecipients, HistoryRepo, recordingGit } from "../unit/fleet-status/history-repo.js"

const FILES = 40

describe("repository-wide reads start git a fixed number of times", () => {
    it("status, status --check, rotate --due --dry-run: 3 git processes for 40 files; access: none", async () => {
        const r = new HistoryRepo(join(tempDir(), "repo"))
        const rs = (await fiveRecipients()).slice(0, 2)
        writeFileSync(join(r.dir, ".sops.yaml"), `creation_rules:\n    - path_regex: ^secrets/\n      age: ${rs.join(",")}\nsecrets:\n    rotation:\n        max_age: 30d\n`)
        for (let i = 0; i < FILES; i++) await r.write(`secrets/s${i}/f${i}.yaml`, "new")
        r.commit("2030-01-05T00:00:00Z", "first")
        for (let i = 0; i < FILES; i += 2) await r.write(`secrets/s${i}/f${i}.yaml`, "edit")
        r.commit("2030-02-01T00:00:00Z", "edit half")
        for (let i = 0; i < FILES; i += 4) await r.write(`secrets/s${i}/f${i}.yaml`, "new")
        r.commit("2030-03-01T00:00:00Z", "rotate a quarter")

        const git = recordingGit(r, tempDir())
        const cli = async (args: string[]) => {
            git.reset()
            const res = await runCli(args, { cwd: r.dir, env: { PATH: `${git.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, SECRETS_NOW: "2030-03-10T00:00:00Z" } })
            return { ...res, gits: git.calls() }
        }

        const status = await cli(["status", "--json"])
        expect(status.stderr).toBe("")
        const files = (JSON.parse(status.stdout) as { files: { path: string; keySource: string; keyDate: string; due: boolean }[] }).files
        expect(files).toHaveLength(FILES)
        // A quarter rotated on 2030-03-01; the rest keep the first commit's key (edits keep it).
        const byDate = new Map<string, number>()
        for (const f of files) byDate.set(`${f.keySource} ${f.keyDate}`, (byDate.get(`${f.keySource} ${f.keyDate}`) ?? 0) + 1)
        expect(Object.fromEntries(byDate)).toEqual({ "git 2030-01-05T00:00:00.000Z": 30, "git 2030-03-01T00:00:00.000Z": 10 })
        expect(status.gits.map((g) => g.split(" --")[0])).toEqual(["rev-parse", "-c log.follow=false log", "cat-file"])

        const check = await cli(["status", "--check"])
        expect(check.code).toBe(1)
        expect(check.stderr).toContain("status check failed: 30 problems in 30 files")
        expect(check.gits).toHaveLength(3)

        const dry = await cli(["rotate", "--due", "--dry-run"])
        expect(dry.code).toBe(0)
        expect(dry.stdout.split("\n").filter((l) => l.startsWith("would rotate "))).toHaveLength(30)
        expect(dry.gits).toHaveLength(3)

        const access = await cli(["access"])
        expect(access.code).toBe(0)
        expect(access.gits).toEqual([])
    }, 120_000)
})
