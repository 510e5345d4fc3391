/**
 * rekeyRepo over a real fleet repo (Debian age-keygen keys, files encrypted by
 * `secrets encrypt`): after a key change exactly the files whose rule changed are
 * written, with the same data key and values; the others keep bytes and mtimes.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { describe, expect, it } from "vitest"
import { repoRun } from "../../../src/cli/report.js"
import type { Io } from "../../../src/files/io.js"
import { SecretsError } from "../../../src/errors.js"
import { rekeyRepo, type RepoRun } from "../../../src/fleet/rekey-repo.js"
import { FILES, configText, dataKeyWithAge, decryptWith, makeFleet, recipientsOf, snapshot, sopsOf, type Fleet } from "./fleet-fixture.js"

function fakeCtx(fleet: Fleet): { ctx: RepoRun; out: () => string; err: () => string } {
    let out = ""
    let err = ""
    const stdin = Readable.from([]) as NodeJS.ReadableStream & { isTTY?: boolean }
    const io: Io = {
        cwd: fleet.repo,
        env: { SOPS_AGE_KEY_FILE: fleet.operator, XDG_CONFIG_HOME: join(fleet.emptyHome, ".config") },
        stdin,
        stdout: { write: (c: string | Uint8Array) => (out += String(c)) },
        stderr: { write: (c: string | Uint8Array) => (err += String(c)) },
        now: () => new Date("2031-01-01T00:00:00Z"),
    }
    return { ctx: repoRun(io), out: () => out, err: () => err }
}

const SHARED = ["secrets/shared/app.yaml", "secrets/shared/db.yaml"]

// Each test decrypts with every identity: dozens of runs of the program (in this process).
const SLOW = 120_000

describe("rekeyRepo", () => {
    it("adding a host: dry run writes nothing; then exactly the shared files gain it, same data key, others untouched", async () => {
        const fleet = await makeFleet()
        const web4 = fleet.keys.web4!
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText(fleet.keys, ["web1", "web2", "web3", "web4"]))
        const before = snapshot(fleet.repo)

        const dry = fakeCtx(fleet)
        const planned = await rekeyRepo(dry.ctx, { configPath: ".sops.yaml", dryRun: true, yes: false })
        expect(planned.changed).toEqual(SHARED)
        expect(planned.written).toEqual([])
        expect(planned.upToDate).toHaveLength(5)
        const w = web4.recipient.length
        expect(dry.out()).toBe(
            [
                `FILE                     GROUP  ${"ADDED".padEnd(w)}  REMOVED`,
                `secrets/shared/app.yaml  0      ${web4.recipient}`,
                `secrets/shared/db.yaml   0      ${web4.recipient}`,
            ].join("\n") + "\n",
        )
        expect(dry.err()).toContain("dry run: 2 files would be re-keyed, nothing written")
        expect(snapshot(fleet.repo)).toEqual(before)

        const keyBefore = dataKeyWithAge(fleet, SHARED[0]!, fleet.keys.alice!)
        const macBefore = sopsOf(join(fleet.repo, SHARED[0]!))
        const applied = await rekeyRepo(fakeCtx(fleet).ctx, { configPath: ".sops.yaml", dryRun: false, yes: true })
        expect(applied.written).toEqual(SHARED)
        expect(applied.failed).toEqual([])

        const after = snapshot(fleet.repo)
        for (const [file, was] of before) {
            if (SHARED.includes(file) || file === ".sops.yaml") continue
            expect(after.get(file), file).toEqual(was)
        }
        for (const file of SHARED) {
            expect(after.get(file)?.text).not.toBe(before.get(file)?.text)
            expect(recipientsOf(join(fleet.repo, file)).at(-1)).toBe(web4.recipient)
            // Same data key, as Debian age reads it from the old and the new block.
            expect(dataKeyWithAge(fleet, file, web4)).toBe(dataKeyWithAge(fleet, file, fleet.keys.alice!))
            const r = await decryptWith(fleet, file, web4.file)
            expect(r.code).toBe(0)
            expect(r.stdout).toBe(FILES[file])
        }
        expect(dataKeyWithAge(fleet, SHARED[0]!, fleet.keys.alice!)).toBe(keyBefore)
        const md = sopsOf(join(fleet.repo, SHARED[0]!))
        expect(md.mac).toBe(macBefore.mac)
        expect(md.lastmodified).toBe(macBefore.lastmodified)
        // The blocks of recipients that stayed are kept verbatim.
        expect(md.age.slice(0, -1)).toEqual(macBefore.age)

        const again = await rekeyRepo(fakeCtx(fleet).ctx, { configPath: ".sops.yaml", dryRun: false, yes: true })
        expect(again.changed).toEqual([])
        expect(snapshot(fleet.repo)).toEqual(after)
    }, SLOW)

    it("without --yes and without a terminal it refuses and writes nothing", async () => {
        const fleet = await makeFleet()
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText(fleet.keys, ["web1", "web2", "web3", "web4"]))
        const before = snapshot(fleet.repo)
        const c = fakeCtx(fleet)
        const e = await rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: false, yes: false }).catch((x: unknown) => x)
        expect(e).toBeInstanceOf(SecretsError)
        expect((e as SecretsError).message).toBe("not changing files without confirmation")
        expect((e as SecretsError).hints[0]).toContain("--yes")
        expect(snapshot(fleet.repo)).toEqual(before)
    }, SLOW)

    it("a new recovery key changes every file, with progress on stderr and no value anywhere in the output", async () => {
        const fleet = await makeFleet()
        const keys = { ...fleet.keys, recovery: fleet.keys.web4! }
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText(keys))
        const c = fakeCtx(fleet)
        const r = await rekeyRepo(c.ctx, { configPath: ".sops.yaml", dryRun: false, yes: true })
        const all = Object.keys(FILES).sort()
        expect([...r.written].sort()).toEqual(all)
        for (let i = 1; i <= 7; i++) expect(c.err()).toContain(`secrets: re-keying ${i}/7 `)
        expect(c.err()).toContain("re-keyed 7 of 7 files")
        for (const file of all) {
            const rs = recipientsOf(join(fleet.repo, file))
            expect(rs).toContain(fleet.keys.web4!.recipient)
            expect(rs).not.toContain(fleet.keys.recovery!.recipient)
            expect((await decryptWith(fleet, file, fleet.keys.recovery!.file)).code).toBe(128)
        }
        expect(c.out() + c.err()).not.toMatch(/VALUE/)
    }, SLOW)
})
