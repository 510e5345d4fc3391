/**
 * The values `status` reports (issue 16 §5): every value a `secrets.values` policy
 * names, in every encrypted file, judged by value-due.ts (expired, expiring within
 * the window, due by `rotate_every`), with the reason in words.
 *
 * Dating a value from git history may need to decrypt old versions; the identities
 * for that are the ones found without side effects (files and the home directory:
 * no key command, no `op read`, no passphrase prompt), as caller-can-open.ts does.
 * Without one a value is dated by the file's `lastmodified`, which can only make
 * it look younger (value-due.ts): `status` never asks for a key.
 */
import { readFileSync } from "node:fs"
import { collectIdentities } from "../files/identity-sources.js"
import type { Io } from "../files/io.js"
import { localIdentityContext } from "../files/node-identities.js"
import { SecretsError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import type { InventoryEntry } from "./inventory.js"
import { valuesDue, type ValueDue } from "./value-due.js"
import type { ValuePolicy } from "./value-policy.js"

const DAY_MS = 86_400_000

/** One value under a policy: the `--json` shape of each `values` item. */
export interface ValueStatus {
    readonly file: string
    readonly keyPath: string
    readonly category: string | null
    /** The worst of what applies: expired, then due, then expiring. */
    readonly state: "expired" | "due" | "expiring" | "ok"
    /** In words: "expired 2026-11-01", "expires 2027-03-01 (in 9 days)", "due: changed 120 days ago, rotate_every 90d". */
    readonly why: string
    readonly expires: string | null
    readonly lastChanged: string | null
    /** Where lastChanged came from (value-due.ts): git, lastmodified, or none. */
    readonly dateSource: ValueDue["source"]
    readonly fallback?: string
}

/** Every value the policies name in the encrypted `entries`, in file order; a file that cannot be read is said in `unreadable`. */
export async function valueStatuses(
    io: Io,
    entries: readonly InventoryEntry[],
    policies: readonly ValuePolicy[],
    now: Date,
    windowDays: number,
): Promise<{ values: ValueStatus[]; unreadable: { file: string; reason: string }[] }> {
    const values: ValueStatus[] = []
    const unreadable: { file: string; reason: string }[] = []
    if (policies.length === 0) return { values, unreadable }
    let identities: readonly AgeIdentity[] | undefined
    const byIndex = new Map(policies.map((p) => [p.index, p]))
    for (const e of entries) {
        if (!e.encrypted) continue
        let due: ValueDue[]
        try {
            // Found once, and only when some file has a value to date.
            identities ??= (await collectIdentities(localIdentityContext(io))).identities
            due = await valuesDue({ abs: e.abs, path: e.path, bytes: readFileSync(e.abs), policies, now, windowDays, identities, env: io.env })
        } catch (err) {
            if (!(err instanceof SecretsError)) throw err
            unreadable.push({ file: e.path, reason: err.message.split("\n", 1)[0] ?? err.message })
            continue
        }
        for (const v of due) values.push(judged(e.path, v, byIndex.get(v.policyIndex), now))
    }
    return { values, unreadable }
}

function judged(file: string, v: ValueDue, policy: ValuePolicy | undefined, now: Date): ValueStatus {
    const reasons: string[] = []
    const day = (d: Date) => d.toISOString().slice(0, 10)
    if (v.expired && v.expires !== undefined) reasons.push(`expired ${day(v.expires)}`)
    if (v.due && v.lastChanged !== undefined) {
        const ago = Math.floor((now.getTime() - v.lastChanged.getTime()) / DAY_MS)
        const from = v.source === "lastmodified" ? ` (dated by lastmodified: ${v.fallback ?? "no history"})` : ""
        reasons.push(`due: changed ${ago} days ago, rotate_every ${policy?.rotateEveryDays ?? "?"}d${from}`)
    }
    if (!v.expired && v.expiringInDays !== undefined && v.expires !== undefined) {
        reasons.push(`expires ${day(v.expires)} (in ${v.expiringInDays} day${v.expiringInDays === 1 ? "" : "s"})`)
    }
    const state = v.expired ? "expired" : v.due ? "due" : v.expiringInDays !== undefined ? "expiring" : "ok"
    if (state === "ok") {
        if (v.expires !== undefined) reasons.push(`expires ${day(v.expires)}`)
        if (v.lastChanged !== undefined) reasons.push(`changed ${day(v.lastChanged)}`)
    }
    return {
        file,
        keyPath: v.keyPath,
        category: v.category ?? null,
        state,
        why: reasons.join("; ") || "no expiry or rotation",
        expires: v.expires === undefined ? null : v.expires.toISOString(),
        lastChanged: v.lastChanged === undefined ? null : v.lastChanged.toISOString(),
        dateSource: v.source,
        ...(v.fallback !== undefined ? { fallback: v.fallback } : {}),
    }
}

/** What `status --check` fails on: each value expired, due or expiring, as "FILE KEYPATH: why". */
export function valueProblems(values: readonly ValueStatus[]): string[] {
    return values.filter((v) => v.state !== "ok").map((v) => `${v.file} ${v.keyPath}: ${v.why}`)
}
