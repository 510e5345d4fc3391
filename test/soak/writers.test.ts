/**
 * The concurrent-writers campaign, small: 10 `secrets set` processes of distinct
 * keys on one file at once. `npm run soak` runs 100 (docs/soak.md).
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "./run-soak.js"

describe("soak: concurrent writers", () => {
    it("10 concurrent sets all succeed and all land; nothing left beside the file", async () => {
        const { code, report, stderr, table } = await runSoak(["--only", "writers", "--writers", "10", "--seed", "17"])
        const w = report.figures.writers as Record<string, unknown> | undefined
        expect(w, stderr).toBeDefined()
        expect(w!.failures, table).toEqual([])
        expect(w!.lostWriters).toEqual([])
        expect(w!.fileDecrypts).toBe(true)
        expect(w!.leftovers).toEqual([])
        expect([w!.hangs, w!.stackTraces, w!.internalErrors, w!.valuesOnOutput]).toEqual([0, 0, 0, 0])
        expect(code, stderr).toBe(0)
    }, 600_000)
})
