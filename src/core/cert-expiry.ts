/**
 * X.509 certificates stored as values (issue 16 §5): found by their PEM armour and
 * parsed with node:crypto's X509Certificate, so `status` can say when one expires.
 * A value may hold a chain (leaf first, then intermediates): each certificate is
 * reported, since any of them expiring breaks the chain.
 *
 * Values come from files anyone with write access to the repository can change, so
 * the search is a linear scan for the armour lines (no backtracking regex over an
 * attacker's text), and a block that does not parse is reported as such, not thrown.
 */
import { X509Certificate } from "node:crypto"

const BEGIN = "-----BEGIN CERTIFICATE-----"
const END = "-----END CERTIFICATE-----"

export type FoundCertificate =
    | { readonly subject: string; readonly notAfter: Date; readonly fingerprint256: string }
    | { readonly error: string }

/** Every PEM certificate block in `value`, in order. */
export function certificatesIn(value: string): FoundCertificate[] {
    const found: FoundCertificate[] = []
    let from = 0
    for (;;) {
        const begin = value.indexOf(BEGIN, from)
        if (begin < 0) return found
        const end = value.indexOf(END, begin + BEGIN.length)
        if (end < 0) {
            found.push({ error: "a BEGIN CERTIFICATE line without its END line" })
            return found
        }
        from = end + END.length
        try {
            const cert = new X509Certificate(value.slice(begin, from))
            found.push({ subject: cert.subject.replace(/\n/g, ", "), notAfter: new Date(cert.validTo), fingerprint256: cert.fingerprint256 })
        } catch {
            found.push({ error: "a certificate block that does not parse" })
        }
    }
}

/** Whole days from `now` until `notAfter` (negative once expired). */
export function daysLeft(notAfter: Date, now: Date): number {
    return Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000)
}
