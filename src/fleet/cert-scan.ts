/**
 * X.509 certificates stored as values, for `status` (issue 16 §5): every string
 * value of every encrypted file that holds the PEM armour is parsed
 * (core/cert-expiry.ts), and each certificate is expired, expiring within the
 * window, or fine.
 *
 * Certificates are inside the ciphertext, so this is the one part of `status` that
 * decrypts. It opens only what the caller's identities open WITHOUT asking or
 * running anything: a running agent (docs/agent.md), then the key files found
 * without side effects (files/caller-can-open.ts's lookup: no key command, no
 * `op read`, no passphrase prompt; a passphrase-protected key is skipped). A
 * `status` over 1,000 files must not prompt, or run a key command, once per file,
 * and a CI log has nobody to answer. The identities are found once for all files.
 * A file nobody here can open is listed as "not checked", never silently passed:
 * a green `status --check` must not mean "could not look".
 *
 * Nothing of a value is kept or printed but a certificate's subject, expiry and
 * fingerprint, which are public parts of a certificate.
 */
import { certificatesIn, daysLeft } from "../core/cert-expiry.js"
import { leavesOf, keyPathText } from "../core/masked-listing.js"
import { ConfigError, NoIdentityError, SecretsError } from "../errors.js"
import type { Io } from "../files/io.js"
import { noteKeyPath } from "../files/audit-collector.js"
import { readInput } from "../files/open-file.js"
import { collectIdentities } from "../files/identity-sources.js"
import { localIdentityContext } from "../files/node-identities.js"
import { runningAgent } from "../files/agent-client.js"
import { openDocument } from "../engine/open.js"
import type { AgeIdentity } from "../keys/age.js"
import { loadStore } from "../stores/index.js"
import type { InventoryEntry } from "./inventory.js"

/** The window when neither `--cert-window` nor `secrets.expiry.certificate_window` gives one. */
export const DEFAULT_CERT_WINDOW = "30d"

export interface CertificateWindow {
    /** As written, e.g. `30d`. */
    readonly text: string
    readonly days: number
}

/** One certificate found in a value. */
export type CertificateFinding =
    | {
          readonly file: string
          readonly keyPath: string
          readonly subject: string
          readonly notAfter: string
          readonly daysLeft: number
          readonly fingerprint256: string
          readonly state: "expired" | "expiring" | "ok"
      }
    | { readonly file: string; readonly keyPath: string; readonly state: "unreadable"; readonly error: string }

export interface CertificateScan {
    readonly window: CertificateWindow
    readonly certificates: CertificateFinding[]
    /** Encrypted files that were not opened, with why ("no identity", or the error). */
    readonly notChecked: { readonly file: string; readonly reason: string }[]
}

/** `30d` → 30, `2w` → 14; 0 is allowed (only expired certificates are reported). */
export function parseWindow(value: unknown, where: string): CertificateWindow {
    const m = typeof value === "string" ? /^\s*(\d{1,5})\s*([dw])\s*$/.exec(value) : null
    if (m === null || m[1] === undefined || m[2] === undefined) {
        throw new ConfigError(`${where} is not a number of days (d) or weeks (w)`, ["e.g. 30d or 2w"])
    }
    const n = Number.parseInt(m[1], 10)
    return { text: String(value).trim(), days: m[2] === "w" ? n * 7 : n }
}

/**
 * The window of a config's `secrets.expiry` (undefined when it sets none). A
 * misspelt field is an error: a typo must not quietly leave the 30-day default on.
 */
export function configuredWindow(secrets: Readonly<Record<string, unknown>> | undefined, where: string): CertificateWindow | undefined {
    const expiry = secrets?.expiry
    if (expiry === undefined || expiry === null) return undefined
    if (typeof expiry !== "object" || Array.isArray(expiry)) throw new ConfigError(`${where}: secrets.expiry must be a mapping such as {certificate_window: 30d}`)
    const r = expiry as Record<string, unknown>
    const unknown = Object.keys(r).filter((k) => k !== "certificate_window")
    if (unknown.length > 0) throw new ConfigError(`${where}: secrets.expiry has unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`, ["the field is certificate_window"])
    return r.certificate_window === undefined || r.certificate_window === null ? undefined : parseWindow(r.certificate_window, `${where}: secrets.expiry.certificate_window`)
}

/** Every certificate in the values of the encrypted `entries` (paths relative to the config's directory). */
export async function scanCertificates(io: Io, entries: readonly InventoryEntry[], now: Date, window: CertificateWindow): Promise<CertificateScan> {
    let identities: AgeIdentity[] | undefined
    const certificates: CertificateFinding[] = []
    const notChecked: { file: string; reason: string }[] = []
    for (const e of entries) {
        if (!e.encrypted) continue
        let leaves
        try {
            identities ??= await quietIdentities(io)
            const store = await loadStore(e.format, {})
            const doc = store.parseEncrypted(await readInput(io, e.abs))
            const opened = await openDocument(doc, store, identities, {})
            leaves = opened.branches.flatMap((b) => leavesOf(b))
        } catch (err) {
            if (!(err instanceof SecretsError)) throw err
            notChecked.push({ file: e.path, reason: err instanceof NoIdentityError ? "no identity" : firstLine(err.message) })
            continue
        }
        for (const leaf of leaves) {
            // Only strings can hold the armour; a binary file (a .pem encrypted whole) is bytes.
            const text = leaf.value.kind === "str" ? leaf.value.value : leaf.value.kind === "bytes" ? Buffer.from(leaf.value.value).toString("latin1") : undefined
            if (text === undefined || !text.includes("-----BEGIN CERTIFICATE-----")) continue
            const keyPath = keyPathText(leaf.path)
            noteKeyPath(io, keyPath)
            for (const c of certificatesIn(text)) {
                if ("error" in c) {
                    certificates.push({ file: e.path, keyPath, state: "unreadable", error: c.error })
                    continue
                }
                const left = daysLeft(c.notAfter, now)
                // Within the window as value-due.ts counts it for `expires`: at most that many days away.
                const ms = c.notAfter.getTime() - now.getTime()
                const state = ms <= 0 ? "expired" : ms <= window.days * 86_400_000 ? "expiring" : "ok"
                certificates.push({ file: e.path, keyPath, subject: c.subject, notAfter: c.notAfter.toISOString(), daysLeft: left, fingerprint256: c.fingerprint256, state })
            }
        }
    }
    return { window, certificates, notChecked }
}

/** The certificates `status --check` fails on: expired, expiring within the window, or not parseable. */
export function certificateProblems(scan: CertificateScan, now: Date): string[] {
    return scan.certificates.flatMap((c) => {
        if (c.state === "ok") return []
        if (c.state === "unreadable") return [`${c.file} ${c.keyPath}: ${c.error}`]
        return [`${c.file} ${c.keyPath}: certificate ${c.subject} ${describeExpiry(new Date(c.notAfter), now)}`]
    })
}

/** "expired 2026-11-01" or "expires 2027-03-01 (in 9 days)". */
export function describeExpiry(at: Date, now: Date): string {
    const day = at.toISOString().slice(0, 10)
    if (at.getTime() <= now.getTime()) return `expired ${day}`
    const left = daysLeft(at, now)
    return `expires ${day} (in ${left} day${left === 1 ? "" : "s"})`
}

function firstLine(text: string): string {
    return text.split("\n", 1)[0] ?? text
}

/** A running agent's identity (a miss there falls through to the next), then the key files found without side effects. */
async function quietIdentities(io: Io): Promise<AgeIdentity[]> {
    const agent = runningAgent(io.env)
    const local = await collectIdentities(localIdentityContext(io))
    return [...(agent !== undefined ? [agent.identity] : []), ...local.identities]
}
