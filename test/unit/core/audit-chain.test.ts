/**
 * The audit log's hash chain (src/core/audit-chain.ts): every kind of tampering
 * the issue names (edited, deleted, reordered, truncated) is found, with the anchor
 * for the ones only the anchor can see, and an untouched log verifies clean.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { anchorFor, chainLine, GENESIS, sha256Hex, verifyChain, type AuditAnchor } from "../../../src/core/audit-chain.js"

function build(entries: readonly Record<string, unknown>[]): { log: string; lines: string[]; anchor: AuditAnchor | undefined } {
    const lines: string[] = []
    for (const e of entries) {
        const prev = lines.length === 0 ? undefined : { text: lines[lines.length - 1]!, seq: lines.length }
        lines.push(chainLine(prev, e).slice(0, -1))
    }
    const anchor = lines.length === 0 ? undefined : anchorFor(lines[lines.length - 1]!, lines.length)
    return { log: lines.map((l) => l + "\n").join(""), lines, anchor }
}

const entry = fc.record({ command: fc.constantFrom("decrypt", "set", "run", "deploy"), file: fc.string({ maxLength: 12 }), ms: fc.nat(5000) })

describe("chainLine", () => {
    it("starts at seq 1 from the genesis hash and links each line to the previous line's bytes", () => {
        const first = chainLine(undefined, { command: "decrypt" })
        expect(JSON.parse(first)).toEqual({ seq: 1, prev: GENESIS, command: "decrypt" })
        const second = chainLine({ text: first.slice(0, -1), seq: 1 }, { command: "set" })
        expect(JSON.parse(second)).toEqual({ seq: 2, prev: sha256Hex(first.slice(0, -1)), command: "set" })
        expect(second.endsWith("\n")).toBe(true)
    })

    it("refuses an entry that would override the chain's own fields", () => {
        expect(() => chainLine(undefined, { seq: 9 })).toThrow()
        expect(() => chainLine(undefined, { prev: "x" })).toThrow()
    })
})

describe("verifyChain", () => {
    it("passes an untouched log, with and without its anchor", () => {
        fc.assert(
            fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
                const { log, anchor } = build(entries)
                expect(verifyChain(log, anchor)).toEqual({ lines: entries.length, problems: [], unanchored: 0 })
                expect(verifyChain(log, undefined).problems).toEqual([])
            }),
        )
    })

    it("finds an edited line: at the line after it, or through the anchor for the last", () => {
        fc.assert(
            fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), fc.nat(), (entries, pick) => {
                const { lines, anchor } = build(entries)
                const at = pick % lines.length
                const edited = lines.map((l, i) => (i === at ? l.replace('"command":"', '"command":"x') : l))
                const report = verifyChain(edited.map((l) => l + "\n").join(""), anchor)
                const expected = at === lines.length - 1 ? { kind: "head-edited", line: at + 1 } : { kind: "prev", line: at + 2 }
                expect(report.problems).toContainEqual(expected)
            }),
        )
    })

    it("finds a deleted or moved line anywhere, and a log cut at its end through the anchor", () => {
        fc.assert(
            fc.property(fc.array(entry, { minLength: 2, maxLength: 20 }), fc.nat(), fc.constantFrom("delete", "swap", "truncate"), (entries, pick, how) => {
                const { lines, anchor } = build(entries)
                const at = pick % (lines.length - 1)
                const changed = [...lines]
                if (how === "delete") changed.splice(at, 1)
                if (how === "swap") [changed[at], changed[at + 1]] = [changed[at + 1]!, changed[at]!]
                if (how === "truncate") changed.splice(at + 1)
                const report = verifyChain(changed.map((l) => l + "\n").join(""), anchor)
                expect(report.problems.length).toBeGreaterThan(0)
                if (how === "truncate") expect(report.problems).toContainEqual({ kind: "truncated", anchored: lines.length, found: at + 1 })
            }),
        )
    })

    it("reports a torn last line and lines appended after the anchored head", () => {
        const { log, lines, anchor } = build([{ a: 1 }, { a: 2 }, { a: 3 }])
        expect(verifyChain(log.slice(0, -5), anchor).problems).toContainEqual({ kind: "torn", line: 3 })
        const earlyAnchor = anchorFor(lines[1]!, 2)
        expect(verifyChain(log, earlyAnchor)).toEqual({ lines: 3, problems: [], unanchored: 1 })
    })
})
