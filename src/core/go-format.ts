/**
 * Go's number, bool and time text formats, as sops uses them.
 *
 * The bytes sops encrypts and hashes for a value are Go's text for it
 * (sops-format.md §1 table), so "the same number" must print byte for byte as Go
 * prints it or the MAC of every file with a float in it breaks. JS and Go agree on
 * the shortest round-trip digits of a float64 (both pick the closest shortest
 * decimal), so only the layout around those digits is reimplemented here.
 */

/** A float64 as its shortest round-trip decimal digits: value = 0.d1d2…dn × 10^point. */
interface Decimal {
    readonly digits: string
    readonly point: number
}

function shortestDecimal(abs: number): Decimal {
    if (abs === 0) return { digits: "", point: 0 }
    // toExponential() without an argument gives "as many digits as necessary to
    // represent the value uniquely", which is Go's shortest mode.
    const text = abs.toExponential()
    const e = text.indexOf("e")
    const mantissa = text.slice(0, e).replace(".", "")
    const exponent = Number(text.slice(e + 1))
    return { digits: mantissa.replace(/0+$/, "") || "0", point: exponent + 1 }
}

function digitAt(d: Decimal, i: number): string {
    return i >= 0 && i < d.digits.length ? (d.digits[i] ?? "0") : "0"
}

// strconv's fmtF: integer part (at least "0"), then `prec` fraction digits.
function layoutF(d: Decimal, prec: number): string {
    let out = ""
    if (d.point > 0) {
        for (let i = 0; i < d.point; i++) out += digitAt(d, i)
    } else {
        out = "0"
    }
    if (prec > 0) {
        out += "."
        for (let i = 1; i <= prec; i++) out += digitAt(d, d.point + i - 1)
    }
    return out
}

// strconv's fmtE: d.ddd, then e±XX with at least two exponent digits.
function layoutE(d: Decimal, prec: number, letter: "e" | "E"): string {
    let out = d.digits.length === 0 ? "0" : digitAt(d, 0)
    if (prec > 0) {
        out += "."
        for (let i = 1; i <= prec; i++) out += digitAt(d, i)
    }
    const exp = d.digits.length === 0 ? 0 : d.point - 1
    const mag = Math.abs(exp)
    return `${out}${letter}${exp < 0 ? "-" : "+"}${mag < 10 ? "0" : ""}${mag}`
}

/** The verbs of `strconv.FormatFloat` this module implements, always with precision -1. */
export type FloatVerb = "f" | "e" | "E" | "g" | "G"

/**
 * `strconv.FormatFloat(v, verb, -1, 64)`: shortest round-trip digits in Go's layout.
 * `"f"` never uses an exponent (1e21 -> "1000000000000000000000"); `"g"` switches to
 * an exponent below 1e-4 and from 1e6 on (Go uses precision 6 for that decision in
 * shortest mode). Infinities print as `+Inf`/`-Inf`, NaN as `NaN`, -0 as `-0`.
 */
export function formatFloat(v: number, verb: FloatVerb = "f"): string {
    if (Number.isNaN(v)) return "NaN"
    if (v === Infinity) return "+Inf"
    if (v === -Infinity) return "-Inf"
    const sign = v < 0 || Object.is(v, -0) ? "-" : ""
    const d = shortestDecimal(Math.abs(v))
    const n = d.digits.length
    switch (verb) {
        case "f":
            return sign + layoutF(d, Math.max(n - d.point, 0))
        case "e":
        case "E":
            return sign + layoutE(d, Math.max(n - 1, 0), verb)
        case "g":
        case "G": {
            const exp = d.point - 1
            if (exp < -4 || exp >= 6) {
                return sign + layoutE(d, n - 1, verb === "g" ? "e" : "E")
            }
            return sign + layoutF(d, Math.max(n - d.point, 0))
        }
    }
}

/**
 * What Go's encoding/json writes for a float64: `'f'`, or `'e'` outside
 * [1e-6, 1e21) with a one-digit negative exponent shortened (`1e-07` -> `1e-7`).
 * NaN and infinities are not JSON; the caller must reject them first.
 */
export function formatFloatJson(v: number): string {
    const abs = Math.abs(v)
    if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
        return formatFloat(v, "e").replace(/e-0(\d)$/, "e-$1")
    }
    return formatFloat(v, "f")
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * `strconv.Atoi` on a 64-bit platform: optional sign, decimal digits only (no `_`,
 * no base prefix), int64 range. Returns null when Go would return an error.
 */
export function parseGoInt(s: string): bigint | null {
    if (!/^[+-]?[0-9]+$/.test(s)) return null
    const v = BigInt(s)
    return v < INT64_MIN || v > INT64_MAX ? null : v
}

/**
 * `strconv.ParseFloat(s, 64)` for decimal input and the special names (`inf`,
 * `infinity` with an optional sign, `nan` without one, any case). Overflow is an
 * error in Go (ErrRange), so it is null here. Hexadecimal floats are not accepted:
 * sops only ever writes `'f'` text.
 */
export function parseGoFloat(s: string): number | null {
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity
    if (/^nan$/i.test(s)) return NaN
    if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return null
    const v = Number(s)
    return Number.isFinite(v) ? v : null
}

/** `strconv.ParseBool`: exactly 1 t T TRUE true True 0 f F FALSE false False. */
export function parseGoBool(s: string): boolean | null {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true
    if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false
    return null
}

/** A parsed RFC 3339 timestamp, kept as fields so that nothing shifts time zones. */
export interface Rfc3339 {
    readonly date: string
    readonly clock: string
    /** Fractional-second digits without the dot, trailing zeros removed; "" for none. */
    readonly fraction: string
    /** Offset in minutes east of UTC. */
    readonly offset: number
}

function daysIn(year: number, month: number): number {
    return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/**
 * `time.Parse(time.RFC3339, s)` (which also accepts fractional seconds). Returns
 * null when Go would refuse the text (bad field ranges included).
 */
export function parseRfc3339(s: string): Rfc3339 | null {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(s)
    if (!m) return null
    const [, y, mo, d, h, mi, se, frac, zone] = m
    const year = Number(y)
    const month = Number(mo)
    const day = Number(d)
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null
    if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return null
    let offset = 0
    if (zone !== undefined && zone !== "Z") {
        const oh = Number(zone.slice(1, 3))
        const om = Number(zone.slice(4, 6))
        if (oh > 23 || om > 59) return null
        offset = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om)
    }
    // Go keeps nanoseconds: digits past the ninth are dropped.
    const fraction = (frac ?? "").slice(0, 9).replace(/0+$/, "")
    return { date: `${y}-${mo}-${d}`, clock: `${h}:${mi}:${se}`, fraction, offset }
}

/**
 * Go's `Format(time.RFC3339)` (`nano` false: fraction dropped) or
 * `Format(time.RFC3339Nano)` = `MarshalText` (`nano` true: trailing zeros trimmed).
 * A zero offset prints as `Z`.
 */
export function formatRfc3339(t: Rfc3339, nano: boolean): string {
    const frac = nano && t.fraction !== "" ? `.${t.fraction}` : ""
    let zone = "Z"
    if (t.offset !== 0) {
        const abs = Math.abs(t.offset)
        const hh = String(Math.floor(abs / 60)).padStart(2, "0")
        const mm = String(abs % 60).padStart(2, "0")
        zone = `${t.offset < 0 ? "-" : "+"}${hh}:${mm}`
    }
    return `${t.date}T${t.clock}${frac}${zone}`
}
