/**
 * The audit log's file side (src/files/audit-log.ts): concurrent appends stay whole
 * and chained, the log and its anchor are private, and a torn line (a crash
 * mid-write) is reported once, with every line after it still checking.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { verifyChain } from "../../../src/core/audit-chain.js"
import { appendAudit, auditTargetAt, readAudit } from "../../../src/files/audit-log.js"

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function target() {
    const dir = mkdtempSync(join(tmpdir(), "audit-"))
    dirs.push(dir)
    return auditTargetAt(join(dir, "state", "audit.jsonl"))
}

describe("appendAudit", () => {
    it("appends concurrent entries as whole, chained lines and anchors the head", { timeout: 60_000 }, async () => {
        const t = target()
        await Promise.all(Array.from({ length: 50 }, (_, i) => appendAudit(t, { command: "decrypt", n: i })))
        const { log, anchor } = readAudit(t)
        expect(verifyChain(log, anchor)).toEqual({ lines: 50, problems: [], unanchored: 0 })
        const ns = log.trimEnd().split("\n").map((l) => (JSON.parse(l) as { n: number }).n)
        expect(new Set(ns).size).toBe(50)
        expect(statSync(t.log).mode & 0o777).toBe(0o600)
        expect(statSync(t.anchor).mode & 0o777).toBe(0o600)
        expect(statSync(join(t.log, "..")).mode & 0o777).toBe(0o700)
    })

    it("chains past a torn last line, which verify reports as the one bad line", async () => {
        const t = target()
        await appendAudit(t, { a: 1 })
        appendFileSync(t.log, '{"seq":2,"prev":"ab')
        await appendAudit(t, { a: 3 })
        await appendAudit(t, { a: 4 })
        const { log, anchor } = readAudit(t)
        expect(verifyChain(log, anchor)).toEqual({ lines: 4, problems: [{ kind: "not-json", line: 2 }], unanchored: 0 })
    })

    it("refuses to write through a symbolic link at the log's name", async () => {
        const t = target()
        await appendAudit(t, { a: 1 })
        const elsewhere = join(t.log, "..", "elsewhere")
        writeFileSync(elsewhere, "")
        rmSync(t.log)
        symlinkSync(elsewhere, t.log)
        await expect(appendAudit(t, { a: 2 })).rejects.toThrow()
        expect(readFileSync(elsewhere, "utf8")).toBe("")
    })
})
