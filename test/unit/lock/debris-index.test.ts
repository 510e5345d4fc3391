/**
 * The directory listing behind the tidying of lock debris (files/lock-debris.ts):
 * a directory is read once, not once per lock (issue 14 target 5: a re-key of
 * 1,000 files in one directory read 1,000 names 1,000 times), and still every
 * temp file of a killed process beside a lock is removed by that lock's next
 * holder. Listings are counted through the injected readdir, ages through an
 * injected clock: nothing here depends on time passing.
 */
import { spawn } from "node:child_process"
import { readdirSync, writeFileSync } from "node:fs"
import { readdir } from "node:fs/promises"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { abandonedBecause } from "../../../src/files/lock-holder.js"
import { createDebrisIndex } from "../../../src/files/lock-debris.js"
import { tidyAbandoned, type SeenLock } from "../../../src/files/lock-files.js"
import { tempDir } from "../../helpers/tmp.js"

const holder = (pid: number) => `${JSON.stringify({ pid, hostname: hostname(), time: Date.now(), token: "theirs" })}\n`
const abandoned = (s: SeenLock) => abandonedBecause(s.holder, s.mtimeMs, 60_000) !== undefined

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
    const child = spawn("true", { stdio: "ignore" })
    await new Promise<void>((r) => child.once("exit", () => r()))
    if (child.pid === undefined) throw new Error("no pid")
    return child.pid
}

/** An index whose listings are counted. */
function countedIndex(opts: { now?: () => number; relistAfterMs?: number } = {}) {
    const listed: string[] = []
    const index = createDebrisIndex({
        ...opts,
        readdir: async (dir) => {
            listed.push(dir)
            return readdir(dir)
        },
    })
    return { index, listed }
}

describe("lock debris: one listing per directory", () => {
    it("50 locks in one directory read it once, and each lock's dead temp files are removed by its holder", async () => {
        const dir = tempDir()
        const dead = await deadPid()
        for (let i = 0; i < 50; i++) {
            writeFileSync(join(dir, `s${i}.yaml`), "x")
            writeFileSync(join(dir, `.s${i}.yaml.lock.${i.toString(16).padStart(12, "0")}.tmp`), holder(dead))
        }
        const { index, listed } = countedIndex()
        for (let i = 0; i < 50; i++) await tidyAbandoned(join(dir, `s${i}.yaml.lock`), abandoned, index)
        expect(listed).toEqual([dir])
        expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([])
    })

    it("locks taken at the same moment share one listing", async () => {
        const dir = tempDir()
        const { index, listed } = countedIndex()
        await Promise.all(Array.from({ length: 8 }, (_, i) => tidyAbandoned(join(dir, `s${i}.yaml.lock`), abandoned, index)))
        expect(listed).toEqual([dir])
    })

    it("only this lock's temp files: a live waiter's, an empty one, another lock's and an atomic-write temp stay", async () => {
        const dir = tempDir()
        const dead = await deadPid()
        writeFileSync(join(dir, ".app.yaml.lock.0123456789ab.tmp"), holder(dead))
        writeFileSync(join(dir, ".app.yaml.lock.abcdefabcdef.tmp"), holder(process.pid))
        writeFileSync(join(dir, ".app.yaml.lock.fedcba987654.tmp"), "")
        writeFileSync(join(dir, ".app.yaml.0123456789ab.tmp"), "ciphertext")
        writeFileSync(join(dir, ".other.yaml.lock.0123456789ab.tmp"), holder(dead))
        const { index } = countedIndex()
        await tidyAbandoned(join(dir, "app.yaml.lock"), abandoned, index)
        expect(readdirSync(dir).sort()).toEqual([
            ".app.yaml.0123456789ab.tmp",
            ".app.yaml.lock.abcdefabcdef.tmp",
            ".app.yaml.lock.fedcba987654.tmp",
            ".other.yaml.lock.0123456789ab.tmp",
        ])
        // The other lock's dead temp goes when that lock is taken, from the same listing.
        await tidyAbandoned(join(dir, "other.yaml.lock"), abandoned, index)
        expect(readdirSync(dir)).not.toContain(".other.yaml.lock.0123456789ab.tmp")
    })

    it("a dead breaker's break lock is removed without a listing: its name is the lock's", async () => {
        const dir = tempDir()
        const dead = await deadPid()
        const { index, listed } = countedIndex()
        await tidyAbandoned(join(dir, "a.yaml.lock"), abandoned, index)
        // Left after the directory was listed: still found, by its derived name.
        writeFileSync(join(dir, "b.yaml.lock.break"), holder(dead))
        await tidyAbandoned(join(dir, "b.yaml.lock"), abandoned, index)
        expect(readdirSync(dir)).toEqual([])
        expect(listed).toEqual([dir])
    })

    it("a long-running process lists the directory again once its listing is old, and finds newer debris", async () => {
        const dir = tempDir()
        const dead = await deadPid()
        let clock = 1_000
        const { index, listed } = countedIndex({ now: () => clock, relistAfterMs: 60_000 })
        await tidyAbandoned(join(dir, "app.yaml.lock"), abandoned, index)
        writeFileSync(join(dir, ".app.yaml.lock.0123456789ab.tmp"), holder(dead))
        clock += 59_999
        await tidyAbandoned(join(dir, "app.yaml.lock"), abandoned, index)
        expect(listed).toEqual([dir])
        expect(readdirSync(dir)).toEqual([".app.yaml.lock.0123456789ab.tmp"])
        clock += 1
        await tidyAbandoned(join(dir, "app.yaml.lock"), abandoned, index)
        expect(listed).toEqual([dir, dir])
        expect(readdirSync(dir)).toEqual([])
    })

    it("an unreadable directory is left alone, not an error, and not tried again on every lock", async () => {
        const { index, listed } = countedIndex()
        const gone = join(tempDir(), "gone")
        await expect(tidyAbandoned(join(gone, "a.yaml.lock"), abandoned, index)).resolves.toBeUndefined()
        await expect(tidyAbandoned(join(gone, "b.yaml.lock"), abandoned, index)).resolves.toBeUndefined()
        expect(listed).toEqual([gone])
    })
})
