/**
 * How rekeyRepo works through many files (issue 14 target 5): identities are
 * looked up once per run, not once per file; several files are in flight but the
 * report reads as one-by-one processing printed it; a file that changed after
 * it was planned is read again under its lock, never written from the stale parse.
 */
import { AsyncResource } from "node:async_hooks"
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { repoRun } from "../../../src/cli/report.js"
import { withFileLock } from "../../../src/files/file-lock.js"
import type { Io } from "../../../src/files/io.js"
import { forEachBounded } from "../../../src/fleet/bounded.js"
import { rekeyRepo, type RepoRun } from "../../../src/fleet/rekey-repo.js"
import { runInProcess } from "../../helpers/in-process.js"
import { FILES, configText, decryptWith, makeFleet, recipientsOf, type Fleet } from "./fleet-fixture.js"

function fakeCtx(fleet: Fleet, env: Record<string, string>): { ctx: RepoRun; out: () => string; err: () => string } {
    let out = ""
    let err = ""
    const io: Io = {
        cwd: fleet.repo,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", XDG_CONFIG_HOME: join(fleet.emptyHome, ".config"), ...env },
        stdin: Readable.from([]) as NodeJS.ReadableStream & { isTTY?: boolean },
        stdout: { write: (c: string | Uint8Array) => (out += String(c)) },
        stderr: { write: (c: string | Uint8Array) => (err += String(c)) },
        now: () => new Date("2031-01-01T00:00:00Z"),
    }
    return { ctx: repoRun(io), out: () => out, err: () => err }
}

const SLOW = 120_000

describe("rekeyRepo over many files", () => {
    it("looks the identities up once per run (a key command runs once, not once per file), and reports in file order", async () => {
        const fleet = await makeFleet()
        // A new recovery key: every one of the 7 files changes.
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText({ ...fleet.keys, recovery: fleet.keys.web4! }))
        const log = join(fleet.keysDir, "key-command.log")
        const cmd = `sh -c ${JSON.stringify(`echo run >> '${log}'; cat '${fleet.operator}'`)}`
        const c = fakeCtx(fleet, { SOPS_AGE_KEY_CMD: cmd })
        const planned = await rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: true, yes: false })
        // One lookup runs the command once per recipient of the file it is for (identity-sources.ts).
        const oneLookup = recipientsOf(join(fleet.repo, planned.changed[0]!)).length
        const r = await rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: false, yes: true })
        expect(r.written).toHaveLength(7)
        expect(r.failed).toEqual([])
        expect(readFileSync(log, "utf8")).toBe("run\n".repeat(oneLookup))
        const at = r.written.map((f, i) => c.err().indexOf(`secrets: re-keying ${i + 1}/7 ${f}\n`))
        expect(at.every((x) => x >= 0)).toBe(true)
        expect([...at].sort((a, b) => a - b)).toEqual(at)
        for (const file of r.written) expect(recipientsOf(join(fleet.repo, file))).toContain(fleet.keys.web4!.recipient)
    }, SLOW)

    it("a failing file is reported right after its own progress line; the files after it are still written", async () => {
        const fleet = await makeFleet()
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText({ ...fleet.keys, recovery: fleet.keys.web4! }))
        // A directory where the lock file of the third file goes: that file cannot be locked.
        const planned = await rekeyRepo(fakeCtx(fleet, { SOPS_AGE_KEY_FILE: fleet.operator }).ctx, { configPath: ".sops.yaml", dryRun: true, yes: false })
        const third = planned.changed[2]!
        mkdirSync(join(fleet.repo, `${third}.lock`))
        const c = fakeCtx(fleet, { SOPS_AGE_KEY_FILE: fleet.operator })
        await expect(rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: false, yes: true })).rejects.toThrow("1 file could not be re-keyed")
        const err = c.err()
        const progress3 = err.indexOf(`secrets: re-keying 3/7 ${third}\n`)
        const failure = err.indexOf(`secrets: error: "${third}"`)
        const progress4 = err.indexOf(`secrets: re-keying 4/7 `)
        expect(progress3).toBeGreaterThanOrEqual(0)
        expect(failure).toBeGreaterThan(progress3)
        expect(progress4).toBeGreaterThan(failure)
        for (const file of planned.changed) {
            if (file === third) continue
            expect(recipientsOf(join(fleet.repo, file))).toContain(fleet.keys.web4!.recipient)
        }
        expect(recipientsOf(join(fleet.repo, third))).not.toContain(fleet.keys.web4!.recipient)
    }, SLOW)

    it("a file edited after planning is read again under its lock: the edit is kept, with the new recipients", async () => {
        const fleet = await makeFleet()
        const file = "secrets/shared/app.yaml"
        const abs = join(fleet.repo, file)
        // The edited version (same recipients, a new value), made aside; the repo keeps the old one for now.
        copyFileSync(abs, `${abs}.orig`)
        const set = await runInProcess(["set", file, '["region"]', '"us-EDITED"'], { cwd: fleet.repo, home: fleet.emptyHome, env: { SOPS_AGE_KEY_FILE: fleet.operator } })
        expect(set.code).toBe(0)
        const edited = readFileSync(abs)
        copyFileSync(`${abs}.orig`, abs)
        writeFileSync(`${abs}.orig`, "") // not an encrypted file: the walk skips it

        writeFileSync(join(fleet.repo, ".sops.yaml"), configText(fleet.keys, ["web1", "web2", "web3", "web4"]))
        const c = fakeCtx(fleet, { SOPS_AGE_KEY_FILE: fleet.operator })
        // Started from outside the lock's async context, as another process would be.
        const startRekey = AsyncResource.bind(() => rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: false, yes: true }))
        let run: Promise<unknown> | undefined
        await withFileLock(abs, async () => {
            run = startRekey()
            // The table is printed once every file is planned (read and parsed): then edit.
            while (c.out() === "") await new Promise((r) => setTimeout(r, 20))
            writeFileSync(abs, edited)
        })
        await run
        expect(recipientsOf(abs)).toContain(fleet.keys.web4!.recipient)
        const opened = await decryptWith(fleet, file, fleet.keys.web4!.file)
        expect(opened.code).toBe(0)
        expect(opened.stdout).toBe(FILES[file]!.replace("region: eu", "region: us-EDITED"))
    }, SLOW)
})

describe("forEachBounded", () => {
    it("keeps at most `limit` in flight, returns results in input order and reports each in order (property)", async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(fc.nat({ max: 5 }), { maxLength: 30 }), fc.integer({ min: 1, max: 9 }), async (delays, limit) => {
                let inFlight = 0
                let most = 0
                const reported: number[] = []
                const results = await forEachBounded(
                    delays,
                    limit,
                    async (d, i) => {
                        inFlight++
                        most = Math.max(most, inFlight)
                        // Finish out of order: later items are often quicker.
                        for (let k = 0; k < d; k++) await Promise.resolve()
                        inFlight--
                        return i * 10
                    },
                    (r, i) => {
                        expect(r).toBe(i * 10)
                        reported.push(i)
                    },
                )
                expect(results).toEqual(delays.map((_, i) => i * 10))
                expect(reported).toEqual(delays.map((_, i) => i))
                expect(most).toBeLessThanOrEqual(limit)
            }),
        )
    })
})
