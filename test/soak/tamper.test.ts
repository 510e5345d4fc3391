/**
 * The tamper campaign, small: every third byte of a two-recipient YAML file flipped
 * (xor 0x01) and decrypted with one recipient's identity: the whole sweep takes
 * 25 s on a quiet 2-core machine and minutes on a loaded one. `npm run soak` runs
 * every byte, both identities, two changes per byte (docs/soak.md).
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "./run-soak.js"

describe("soak: 1-byte tampers", () => {
    it("no tamper decrypts to other values than sops's format limits allow; no stack trace, no value on stderr", async () => {
        const { code, report, stderr, table } = await runSoak(["--only", "tamper", "--tamper", "quick", "--tamper-stride", "3", "--seed", "17"])
        const t = report.figures.tamper as Record<string, unknown> | undefined
        expect(t, stderr).toBeDefined()
        expect(t!.undetected, table).toEqual([])
        expect(t!.stackTraces).toEqual([])
        expect(t!.internalErrors).toEqual([])
        expect(t!.valuesOnStderr).toEqual([])
        // Every third byte was tried, and most changes were caught (MAC, GCM tag, age header).
        expect(t!.tries).toBe(Math.ceil((t!.fileBytes as number) / 3))
        expect(t!.detected as number).toBeGreaterThan((t!.tries as number) / 2)
        expect(Object.keys(t!.detectedByCode as object)).toContain("51")
        expect(code, stderr).toBe(0)
    }, 600_000)
})
