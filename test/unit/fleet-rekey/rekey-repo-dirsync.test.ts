/**
 * The directory fsync that makes a rename durable is done once per directory for a
 * batch (writeFileAtomic's `syncDir: false`, then syncDirs), and a fleet re-key
 * reports success only after it (issue 14 target 5). Observed by wrapping node:fs:
 * every fsync of a directory and every rename of a file is logged in order.
 */
import type * as Fs from "node:fs"
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Readable } from "node:stream"
import { beforeEach, describe, expect, it, vi } from "vitest"
import { repoRun } from "../../../src/cli/report.js"
import { syncDirs, writeFileAtomic } from "../../../src/files/fs-atomic.js"
import type { Io } from "../../../src/files/io.js"
import { rekeyRepo } from "../../../src/fleet/rekey-repo.js"
import { tempDir } from "../../helpers/tmp.js"
import { configText, makeFleet, recipientsOf } from "./fleet-fixture.js"

const seen = vi.hoisted(() => ({ log: [] as string[], dirFds: new Map<number, string>() }))

vi.mock("node:fs", async (importOriginal) => {
    const real = await importOriginal<typeof Fs>()
    const mocked = {
        ...real,
        openSync: (...args: Parameters<typeof real.openSync>) => {
            const fd = real.openSync(...args)
            if (typeof args[0] === "string" && real.fstatSync(fd).isDirectory()) seen.dirFds.set(fd, args[0])
            return fd
        },
        closeSync: (fd: number) => {
            seen.dirFds.delete(fd)
            return real.closeSync(fd)
        },
        fsync: (fd: number, cb: (e: Error | null) => void) => {
            const dir = seen.dirFds.get(fd)
            return real.fsync(fd, (e) => {
                if (dir !== undefined && e === null) seen.log.push(`dirsync ${dir}`)
                cb(e)
            })
        },
        renameSync: (from: string, to: string) => {
            real.renameSync(from, to)
            seen.log.push(`rename ${to}`)
        },
    }
    return { ...mocked, default: mocked }
})

beforeEach(() => {
    seen.log = []
})

const data = new TextEncoder().encode("a: ENC[x]\n")

describe("writeFileAtomic's directory fsync", () => {
    it("is done after each rename by default", async () => {
        const dir = tempDir()
        await writeFileAtomic(join(dir, "a.yaml"), data)
        await writeFileAtomic(join(dir, "b.yaml"), data)
        expect(seen.log).toEqual([`rename ${join(dir, "a.yaml")}`, `dirsync ${dir}`, `rename ${join(dir, "b.yaml")}`, `dirsync ${dir}`])
    })

    it("with syncDir: false is left to syncDirs, once per directory", async () => {
        const a = tempDir()
        const b = tempDir()
        const files = [join(a, "1.yaml"), join(a, "2.yaml"), join(b, "3.yaml"), join(a, "4.yaml")]
        for (const f of files) await writeFileAtomic(f, data, { syncDir: false })
        expect(seen.log).toEqual(files.map((f) => `rename ${f}`))
        await syncDirs(files.map((f) => dirname(f)))
        expect(seen.log.slice(files.length).sort()).toEqual([`dirsync ${a}`, `dirsync ${b}`].sort())
        for (const f of files) expect(readFileSync(f, "utf8")).toBe("a: ENC[x]\n")
    })

    it("syncDirs names a directory it could not fsync", async () => {
        const dir = tempDir()
        await expect(syncDirs([join(dir, "gone")])).rejects.toThrow(`could not make the files written in ${JSON.stringify(join(dir, "gone"))} durable: ENOENT`)
    })
})

describe("a fleet re-key", () => {
    it("fsyncs each directory once, after every rename into it, and prints its summary after that", async () => {
        const fleet = await makeFleet()
        // A new recovery key: every file changes.
        writeFileSync(join(fleet.repo, ".sops.yaml"), configText({ ...fleet.keys, recovery: fleet.keys.web4! }))
        const io: Io = {
            cwd: fleet.repo,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", XDG_CONFIG_HOME: join(fleet.emptyHome, ".config"), SOPS_AGE_KEY_FILE: fleet.operator },
            stdin: Readable.from([]) as NodeJS.ReadableStream & { isTTY?: boolean },
            stdout: { write: () => true },
            stderr: {
                write: (c: string | Uint8Array) => {
                    if (String(c).includes("secrets: re-keyed ")) seen.log.push("summary")
                    return true
                },
            },
            now: () => new Date("2031-01-01T00:00:00Z"),
        }
        seen.log = []
        const r = await rekeyRepo(repoRun(io), { configPath: ".sops.yaml", dryRun: false, yes: true })
        expect(r.written.length).toBeGreaterThan(2)
        const renames = seen.log.filter((l) => l.startsWith("rename ")).map((l) => l.slice("rename ".length))
        expect(renames.sort()).toEqual(r.written.map((f) => join(fleet.repo, f)).sort())
        const dirs = [...new Set(renames.map((f) => dirname(f)))]
        expect(dirs.length).toBeLessThan(renames.length)
        const syncs = seen.log.filter((l) => l.startsWith("dirsync "))
        expect(syncs.sort()).toEqual(dirs.map((d) => `dirsync ${d}`).sort())
        // Every directory fsync comes after the last rename, the summary after them all.
        const lastRename = Math.max(...renames.map((f) => seen.log.indexOf(`rename ${f}`)))
        const firstSync = Math.min(...syncs.map((s) => seen.log.indexOf(s)))
        expect(firstSync).toBeGreaterThan(lastRename)
        expect(seen.log.at(-1)).toBe("summary")
        for (const f of r.written) expect(recipientsOf(join(fleet.repo, f))).toContain(fleet.keys.web4!.recipient)
    }, 120_000)
})
