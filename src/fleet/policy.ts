/**
 * The data-key rotation policy: `secrets: {rotation: {max_age: 90d}}` in
 * `.sops.yaml`. It lives under the top-level `secrets:` key because real sops
 * ignores that key, so the same file keeps working with sops (issue 4 §6).
 *
 * Only days (`d`) and weeks (`w`) are accepted: months and years have no fixed
 * length, and a policy that means 28 or 31 days depending on the month would make
 * `status --check` flip in CI for no visible reason.
 */
import { ConfigError } from "../errors.js"

const DAY_MS = 24 * 60 * 60 * 1000

/** A parsed `max_age`. */
export interface RotationPolicy {
    /** As written in the config, e.g. `90d`. */
    readonly maxAge: string
    /** The same in whole days. */
    readonly maxAgeDays: number
}

/** `90d` → 90, `12w` → 84. Anything else is a ConfigError naming the accepted forms. */
export function parseMaxAge(value: unknown, where = ".sops.yaml"): number {
    const hint = "write the age as a whole number of days or weeks, e.g. 90d or 12w"
    if (typeof value === "number" && Number.isInteger(value)) {
        // A bare number would be ambiguous (days? seconds?): make the unit explicit.
        throw new ConfigError(`${where}: secrets.rotation.max_age has no unit`, [hint])
    }
    if (typeof value !== "string") throw new ConfigError(`${where}: secrets.rotation.max_age must be a string such as 90d`, [hint])
    const m = /^\s*(\d{1,6})\s*([dw])\s*$/.exec(value)
    if (m === null || m[1] === undefined || m[2] === undefined) {
        throw new ConfigError(`${where}: secrets.rotation.max_age is not a number of days (d) or weeks (w)`, [hint])
    }
    const n = Number.parseInt(m[1], 10)
    if (n === 0) throw new ConfigError(`${where}: secrets.rotation.max_age must be more than zero`, [hint])
    return m[2] === "w" ? n * 7 : n
}

/**
 * The policy of a parsed config's `secrets:` mapping, or undefined when it sets
 * none. A `rotation` that is not a mapping is an error rather than "no policy": a
 * typo must not silently switch the check off.
 */
export function rotationPolicy(secrets: Readonly<Record<string, unknown>> | undefined, where = ".sops.yaml"): RotationPolicy | undefined {
    const rotation = secrets?.rotation
    if (rotation === undefined || rotation === null) return undefined
    if (typeof rotation !== "object" || Array.isArray(rotation)) {
        throw new ConfigError(`${where}: secrets.rotation must be a mapping such as {max_age: 90d}`)
    }
    const raw = (rotation as Record<string, unknown>).max_age
    if (raw === undefined || raw === null) return undefined
    const maxAgeDays = parseMaxAge(raw, where)
    return { maxAge: String(raw).trim(), maxAgeDays }
}

/** Whole days from `since` to `now` (floored; negative when `since` is in the future). */
export function ageInDays(since: Date, now: Date): number {
    return Math.floor((now.getTime() - since.getTime()) / DAY_MS)
}

/** Due when the key is strictly older than the policy allows. */
export function isDue(since: Date, now: Date, policy: RotationPolicy | undefined): boolean {
    if (policy === undefined) return false
    return now.getTime() - since.getTime() > policy.maxAgeDays * DAY_MS
}
