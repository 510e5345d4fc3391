/**
 * The mutated-inputs campaign, small: 300 mutated inputs through every command in
 * process, every 30th also through the binary. `npm run soak` runs 10,000
 * (docs/soak.md).
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "./run-soak.js"

describe("soak: mutated inputs", () => {
    it("300 mutated inputs: documented exit codes, no internal error, no stack trace, no hang, no value printed, nothing written on failure", async () => {
        const { code, report, stderr, table } = await runSoak(["--only", "mutations", "--mutations", "300", "--binary-every", "30", "--seed", "17"])
        const m = report.figures.mutations as Record<string, unknown> | undefined
        expect(m, stderr).toBeDefined()
        expect(m!.violatingCases, table).toEqual([])
        expect(m!.binaryMismatches).toEqual([])
        expect([m!.undocumentedExitCodes, m!.internalErrors, m!.stackTraces, m!.hangs, m!.valuesOnOutput, m!.changedOnFailure, m!.leftFiles]).toEqual([0, 0, 0, 0, 0, 0, 0])
        expect(m!.inProcessRuns).toBe(300)
        // Every 30th case, less any whose argv holds a NUL byte (no program can receive one).
        expect(m!.binaryRuns as number).toBeGreaterThanOrEqual(8)
        expect(code, stderr).toBe(0)
    }, 900_000)
})
