/**
 * The SIGKILL campaign, small: 10 rounds of encrypt -i, set, rotate -i, updatekeys
 * -y or keys rotate killed at a random moment (small files, one timing run per
 * command). `npm run soak` runs 1,000 (docs/soak.md).
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "./run-soak.js"

describe("soak: SIGKILL at random moments", () => {
    it("10 kills: every file old or new, never plaintext, the next command succeeds", async () => {
        const { code, report, stderr, table } = await runSoak(["--only", "kills", "--kills", "10", "--seed", "17", "--measure-runs", "1", "--kill-sizes", "small"])
        const k = report.figures.kills as Record<string, unknown> | undefined
        expect(k, stderr).toBeDefined()
        expect(k!.violations, table).toEqual([])
        expect(k!.rounds).toBe(10)
        // The kills landed inside the work for most rounds, not after it.
        expect(k!.killed as number).toBeGreaterThan(5)
        expect(code, stderr).toBe(0)
    }, 900_000)
})
