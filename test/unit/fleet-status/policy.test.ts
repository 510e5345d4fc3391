import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../../src/errors.js"
import { ageInDays, isDue, parseMaxAge, rotationPolicy } from "../../../src/fleet/policy.js"

describe("parseMaxAge", () => {
    it.each([
        ["90d", 90],
        ["1d", 1],
        ["12w", 84],
        [" 30d ", 30],
    ])("%j is %i days", (text, days) => {
        expect(parseMaxAge(text)).toBe(days)
    })

    it.each([
        ["6m", "secrets.rotation.max_age is not a number of days (d) or weeks (w)"],
        ["1y", "secrets.rotation.max_age is not a number of days (d) or weeks (w)"],
        ["90", "secrets.rotation.max_age is not a number of days (d) or weeks (w)"],
        ["-3d", "secrets.rotation.max_age is not a number of days (d) or weeks (w)"],
        ["1.5w", "secrets.rotation.max_age is not a number of days (d) or weeks (w)"],
        ["0d", "secrets.rotation.max_age must be more than zero"],
        [90, "secrets.rotation.max_age has no unit"],
        [true, "secrets.rotation.max_age must be a string such as 90d"],
    ])("%j is refused", (value, message) => {
        const err = (() => {
            try {
                parseMaxAge(value, "cfg.yaml")
            } catch (e) {
                return e
            }
            return undefined
        })()
        expect(err).toBeInstanceOf(ConfigError)
        expect((err as ConfigError).message).toBe(`cfg.yaml: ${message}`)
        expect((err as ConfigError).hints).toEqual(["write the age as a whole number of days or weeks, e.g. 90d or 12w"])
    })

    it("any n d / n w round-trips to n or 7n days", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom("d", "w"), (n, unit) => {
                expect(parseMaxAge(`${n}${unit}`)).toBe(unit === "w" ? 7 * n : n)
            }),
        )
    })
})

describe("rotationPolicy", () => {
    it("reads secrets.rotation.max_age; absent means no policy", () => {
        expect(rotationPolicy({ rotation: { max_age: "12w" } })).toEqual({ maxAge: "12w", maxAgeDays: 84 })
        expect(rotationPolicy(undefined)).toBeUndefined()
        expect(rotationPolicy({})).toBeUndefined()
        expect(rotationPolicy({ rotation: {} })).toBeUndefined()
    })

    it("a rotation that is not a mapping is an error, not 'no policy'", () => {
        expect(() => rotationPolicy({ rotation: "90d" })).toThrow(ConfigError)
        expect(() => rotationPolicy({ rotation: ["90d"] })).toThrow("secrets.rotation must be a mapping such as {max_age: 90d}")
    })
})

describe("isDue / ageInDays", () => {
    const policy = { maxAge: "30d", maxAgeDays: 30 }
    const since = new Date("2030-01-01T00:00:00Z")

    it("due only when strictly older than max_age", () => {
        expect(isDue(since, new Date("2030-01-31T00:00:00Z"), policy)).toBe(false)
        expect(isDue(since, new Date("2030-01-31T00:00:01Z"), policy)).toBe(true)
        expect(isDue(since, new Date("2031-01-01T00:00:00Z"), undefined)).toBe(false)
    })

    it("whole days, floored", () => {
        expect(ageInDays(since, new Date("2030-01-31T23:59:59Z"))).toBe(30)
        expect(ageInDays(since, new Date("2030-01-01T00:00:00Z"))).toBe(0)
        expect(ageInDays(since, new Date("2029-12-31T12:00:00Z"))).toBe(-1)
    })

    it("due agrees with the age in days for any pair of instants", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 400 * 86_400 }), fc.integer({ min: 1, max: 365 }), (seconds, days) => {
                const now = new Date(since.getTime() + seconds * 1000)
                const p = { maxAge: `${days}d`, maxAgeDays: days }
                // Due iff past max_age; a key exactly max_age days old is not yet due.
                expect(isDue(since, now, p)).toBe(seconds > days * 86_400)
                if (isDue(since, now, p)) expect(ageInDays(since, now)).toBeGreaterThanOrEqual(days)
            }),
        )
    })
})
