/**
 * Scalar typing exactly as go.yaml.in/yaml/v3 (v3.0.4) resolves it, because the type
 * decides the `type:` tag of an ENC value and the bytes the MAC hashes
 * (sops-format.md §7.1, §11.2–§11.4). Also the helpers the emitter needs to decide
 * whether a string may be written plain.
 */
import type { Scalar } from "../core/tree.js"

/** What resolving a plain scalar gives; `uint` is a Go uint64 that sops cannot walk. */
export type Resolved = Scalar | { readonly kind: "uint" }

const NULLS = new Set(["", "~", "null", "Null", "NULL"])
const TRUES = new Set(["true", "True", "TRUE"])
const FALSES = new Set(["false", "False", "FALSE"])
const POS_INF = new Set([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"])
const NEG_INF = new Set(["-.inf", "-.Inf", "-.INF"])
const NANS = new Set([".nan", ".NaN", ".NAN"])

// yaml.v3 resolve.go: the float regexp applied to plain scalars starting with a digit or sign.
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
// Go strconv.ParseFloat syntax for the '.'-hint branch (a decimal literal; no hex or inf
// can start with '.'). yaml.v3 passes the text with its underscores, and ParseFloat takes
// them between digits as Go literals do (`.5_0` is 0.5; `._5`, `.5_` are strings).
const GO_DECIMAL_FLOAT = /^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?$/

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/**
 * Go `strconv.ParseInt(s, 0, 64)` / `ParseUint`: optional sign, then `0x`/`0o`/`0b`
 * prefixes (either case) or a leading `0` for octal. Returns the exact value or null
 * when the syntax is wrong; range checks are the caller's.
 */
function parseGoIntBase0(s: string): bigint | null {
    let sign = 1n
    let body = s
    if (body.startsWith("+") || body.startsWith("-")) {
        if (body.startsWith("-")) sign = -1n
        body = body.slice(1)
    }
    if (body === "") return null
    let digits = body
    let radix = 10
    if (body.length >= 2 && body[0] === "0") {
        const p = body[1]?.toLowerCase()
        if (p === "x") [radix, digits] = [16, body.slice(2)]
        else if (p === "o") [radix, digits] = [8, body.slice(2)]
        else if (p === "b") [radix, digits] = [2, body.slice(2)]
        else [radix, digits] = [8, body.slice(1)]
    }
    if (digits === "") return null
    const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[radix]
    if (valid === undefined || !valid.test(digits)) return null
    let v = 0n
    const r = BigInt(radix)
    for (const ch of digits) v = v * r + BigInt(parseInt(ch, 16))
    return sign * v
}

/** Go ParseFloat: a finite float64, or null (syntax error or ±Inf overflow, which Go reports as ErrRange). */
function goParseFloat(s: string): number | null {
    const v = Number(s)
    return Number.isFinite(v) ? v : null
}

// yaml.v3 parseTimestamp's formats: "2006-1-2T15:4:5.999999999Z07:00", the same with a
// lower-case "t", "2006-1-2 15:4:5.999999999" (UTC), and "2006-1-2". Go's parser takes
// one- or two-digit month/day/hour/minute/second, an optional fraction of at most nine
// digits after '.' or ',' (time.Parse stops at nine and a tenth digit is left over, so
// the text stays a string), and one or more spaces where the layout has one.
const TS_DATE = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/
const TS_FULL =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})| +([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]{1,9}))?)$/

function daysIn(year: number, month: number): number {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
}

const pad = (n: number | string, w = 2): string => String(n).padStart(w, "0")

/**
 * A YAML timestamp as Go's `time.Time.MarshalText` prints it (RFC 3339 with the
 * fraction trimmed of trailing zeros, `Z` for a zero offset), or null when the text is
 * not one of the timestamp forms yaml.v3 accepts.
 */
export function parseTimestamp(s: string): string | null {
    // yaml.v3 first requires exactly four digits and a '-'.
    if (!/^[0-9]{4}-/.test(s)) return null
    let y: string, mo: string, d: string
    let h = "0", mi = "0", se = "0", frac = "", zone = "Z"
    const date = TS_DATE.exec(s)
    if (date) {
        ;[, y = "", mo = "", d = ""] = date
    } else {
        const m = TS_FULL.exec(s)
        if (!m) return null
        y = m[1] ?? ""
        mo = m[2] ?? ""
        d = m[3] ?? ""
        if (m[4] !== undefined) {
            h = m[4]; mi = m[5] ?? ""; se = m[6] ?? ""; frac = m[7] ?? ""; zone = m[8] ?? "Z"
        } else {
            h = m[9] ?? ""; mi = m[10] ?? ""; se = m[11] ?? ""; frac = m[12] ?? ""
        }
    }
    const [Y, M, D, H, MI, S] = [y, mo, d, h, mi, se].map(Number) as [number, number, number, number, number, number]
    if (M < 1 || M > 12 || D < 1 || D > daysIn(Y, M) || H > 23 || MI > 59 || S > 59) return null
    if (zone !== "Z") {
        const zh = Number(zone.slice(1, 3))
        const zm = Number(zone.slice(4, 6))
        // Go rejects offsets whose hour or minute is out of range.
        if (zh > 24 || zm > 59) return null
        if (zh === 0 && zm === 0) zone = "Z"
    }
    // RFC3339Nano trims trailing zeros.
    const f = frac.replace(/0+$/, "")
    return `${pad(Y, 4)}-${pad(M)}-${pad(D)}T${pad(H)}:${pad(MI)}:${pad(S)}${f ? "." + f : ""}${zone}`
}

/**
 * Type a plain (unquoted, untagged) scalar as yaml.v3 `resolve("", s)` does: the
 * lookup table first, then for a leading digit or sign a timestamp, an integer (Go
 * ParseInt base 0 after dropping `_`), a uint64, then the float regexp.
 */
export function resolvePlain(s: string, allowTimestamp = true): Resolved {
    if (NULLS.has(s)) return { kind: "null" }
    if (TRUES.has(s)) return { kind: "bool", value: true }
    if (FALSES.has(s)) return { kind: "bool", value: false }
    if (POS_INF.has(s)) return { kind: "float", value: Infinity }
    if (NEG_INF.has(s)) return { kind: "float", value: -Infinity }
    if (NANS.has(s)) return { kind: "float", value: NaN }
    const c = s[0] ?? ""
    if (c === ".") {
        if (GO_DECIMAL_FLOAT.test(s)) {
            const v = goParseFloat(s.replaceAll("_", ""))
            if (v !== null) return { kind: "float", value: v }
        }
        return { kind: "str", value: s }
    }
    if (!/[-+0-9]/.test(c)) return { kind: "str", value: s }
    if (allowTimestamp) {
        const t = parseTimestamp(s)
        if (t !== null) return { kind: "time", value: t }
    }
    const plain = s.replaceAll("_", "")
    const n = parseGoIntBase0(plain)
    if (n !== null) {
        if (n >= INT64_MIN && n <= INT64_MAX) return { kind: "int", value: n }
        if (n >= 0n && n <= UINT64_MAX && !plain.startsWith("-")) return { kind: "uint" }
    }
    if (YAML_STYLE_FLOAT.test(plain)) {
        const v = goParseFloat(plain)
        if (v !== null) return { kind: "float", value: v }
    }
    return { kind: "str", value: s }
}

/** The YAML 1.1 booleans yaml.v3 quotes on output although it reads them as strings. */
export function isOldBool(s: string): boolean {
    return /^(y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)$/.test(s)
}

const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/

/** YAML 1.1 sexagesimal numbers (`1:20`), which yaml.v3 also quotes on output. */
export function isBase60Float(s: string): boolean {
    return BASE60_FLOAT.test(s)
}

/**
 * True when yaml.v3's `stringv` lets a string stay plain: it must resolve back to a
 * string and must not look like a YAML 1.1 bool or base-60 number.
 */
export function plainKeepsString(s: string): boolean {
    return resolvePlain(s).kind === "str" && !isBase60Float(s) && !isOldBool(s)
}

/**
 * Go `strconv.FormatFloat(v, 'g', -1, 64)` with yaml.v3's spellings of the specials:
 * shortest round-trip digits; for the shortest form Go switches to an exponent when the
 * decimal exponent is < -4 or >= 6 (eprec = 6), so 1e+06 and 1e-05 use one while
 * 123456 and 0.0001 do not (sops-format.md §7.1).
 */
export function formatFloatYaml(v: number): string {
    if (Number.isNaN(v)) return ".nan"
    if (v === Infinity) return ".inf"
    if (v === -Infinity) return "-.inf"
    if (v === 0) return Object.is(v, -0) ? "-0" : "0"
    const [mant = "", expText = "0"] = v.toExponential().split("e")
    const neg = mant.startsWith("-")
    const digits = mant.replace("-", "").replace(".", "")
    const exp = Number(expText)
    let out: string
    if (exp < -4 || exp >= 6) {
        const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
        const e = Math.abs(exp)
        out = `${m}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`
    } else if (exp < 0) {
        out = `0.${"0".repeat(-exp - 1)}${digits}`
    } else if (digits.length <= exp + 1) {
        out = digits + "0".repeat(exp + 1 - digits.length)
    } else {
        out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
    }
    return neg ? "-" + out : out
}
