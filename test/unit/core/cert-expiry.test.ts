/**
 * Certificates stored as values (src/core/cert-expiry.ts), made by Debian's openssl:
 * one expiring in 10 days and one in 100, alone, as a chain in one value, and
 * beside text; a damaged block is reported, not thrown.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { certificatesIn, daysLeft } from "../../../src/core/cert-expiry.js"

const dir = mkdtempSync(join(tmpdir(), "certs-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function cert(days: number, cn: string): string {
    const out = join(dir, `${cn}.pem`)
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, `${cn}.key`), "-out", out, "-days", String(days), "-subj", `/CN=${cn}`], { stdio: "ignore" })
    return readFileSync(out, "utf8")
}

describe("certificatesIn", () => {
    const soon = cert(10, "soon.example")
    const later = cert(100, "later.example")

    it("finds each certificate of a chain with its expiry, in order", () => {
        const now = new Date()
        const found = certificatesIn(`key: x\n${soon}${later}trailing text`)
        expect(found).toHaveLength(2)
        const [a, b] = found as { subject: string; notAfter: Date }[]
        expect(a!.subject).toBe("CN=soon.example")
        expect(b!.subject).toBe("CN=later.example")
        // openssl's -days counts from now: 9 or 10 whole days left, depending on the second.
        expect(daysLeft(a!.notAfter, now)).toBeGreaterThanOrEqual(9)
        expect(daysLeft(a!.notAfter, now)).toBeLessThanOrEqual(10)
        expect(daysLeft(b!.notAfter, now)).toBeGreaterThanOrEqual(99)
        expect(daysLeft(b!.notAfter, new Date(b!.notAfter.getTime() + 86_400_000 * 3))).toBe(-3)
    })

    it("reports a damaged or unterminated block and finds nothing in plain values", () => {
        const damaged = soon.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!")
        expect(certificatesIn(damaged)).toEqual([{ error: "a certificate block that does not parse" }])
        expect(certificatesIn(soon.split("-----END")[0]!)).toEqual([{ error: "a BEGIN CERTIFICATE line without its END line" }])
        expect(certificatesIn("hunter2")).toEqual([])
    })
})
