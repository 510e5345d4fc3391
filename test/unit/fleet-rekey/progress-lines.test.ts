/**
 * Progress lines of repo-wide commands (src/fleet/progress-lines.ts): written at
 * once at a terminal, in batches elsewhere (one write per line was up to a tenth
 * of a 1,000-file re-key), always in the order they were said, and never held
 * past a flush or 200 ms.
 */
import { afterEach, describe, expect, it, vi } from "vitest"

import { progressLines } from "../../../src/fleet/progress-lines.js"

function sink(isTTY: boolean): { stderr: { write: (c: string | Uint8Array) => boolean; isTTY: boolean }; writes: string[] } {
    const writes: string[] = []
    return { stderr: { write: (c) => writes.push(String(c)) > 0, isTTY }, writes }
}

afterEach(() => {
    vi.useRealTimers()
})

describe("progressLines", () => {
    it("off a terminal: many lines in few writes, in order, the rest written by flush", () => {
        const out = sink(false)
        const lines = progressLines(out)
        for (let i = 0; i < 150; i++) lines.io.stderr.write(`secrets: re-keying ${i + 1}/150 f${i}\n`)
        expect(out.writes.length).toBe(2)
        lines.flush()
        expect(out.writes.length).toBe(3)
        expect(out.writes.join("")).toBe(Array.from({ length: 150 }, (_, i) => `secrets: re-keying ${i + 1}/150 f${i}\n`).join(""))
        lines.flush()
        expect(out.writes.length).toBe(3)
    })

    it("at a terminal: every line at once", () => {
        const out = sink(true)
        const lines = progressLines(out)
        lines.io.stderr.write("a\n")
        expect(out.writes).toEqual(["a\n"])
    })

    it("a batch is not held longer than 200 ms", () => {
        vi.useFakeTimers()
        const out = sink(false)
        const lines = progressLines(out)
        lines.io.stderr.write("a\n")
        lines.io.stderr.write("b\n")
        vi.advanceTimersByTime(199)
        expect(out.writes).toEqual([])
        vi.advanceTimersByTime(1)
        expect(out.writes).toEqual(["a\nb\n"])
    })
})
