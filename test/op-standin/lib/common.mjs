// Shared pieces of the stand-in `op`: the failure type, op's stderr line, time, ids,
// and op's JSON printer. Plain Node ESM, node: builtins only (see ../README.md).
import { randomInt } from "node:crypto"

/** A failure op reports as `[ERROR] <ts> <message>` (op-cli.md §7); `raw` skips the prefix (panic). */
export class OpFail extends Error {
    constructor(message, code = 1, raw = false) {
        super(message)
        this.code = code
        this.raw = raw
    }
}

const pad = (n, w = 2) => String(n).padStart(w, "0")

/** "Now", pinned by OP_STANDIN_NOW (an ISO date) so tests get exact timestamps. */
export function now() {
    const pinned = process.env.OP_STANDIN_NOW
    return pinned ? new Date(pinned) : new Date()
}

/** Go's log package default layout, local time: `YYYY/MM/DD HH:MM:SS` (op-cli.md §7). */
export function logStamp(d = new Date()) {
    return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** `created_at`: always UTC with `Z`, whole seconds (op-cli.md §3). */
export function utcStamp(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z")
}

/**
 * `updated_at` after an edit: op prints local time with fractional seconds and an
 * offset, Go's RFC3339Nano (trailing zeros of the fraction trimmed, `Z` for offset 0).
 */
export function localNanoStamp(d) {
    const off = -d.getTimezoneOffset()
    const zone = off === 0 ? "Z" : `${off > 0 ? "+" : "-"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
    const frac = pad(d.getMilliseconds(), 3).replace(/0+$/, "")
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac ? "." + frac : ""}${zone}`
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

/** A CLI-style id: 26 characters of lowercase a-z0-9 (op-cli.md §1). */
export function newId() {
    let s = ""
    for (let i = 0; i < 26; i++) s += ID_ALPHABET[randomInt(ID_ALPHABET.length)]
    return s
}

/**
 * op's JSON: 2-space indent, trailing newline, arrays of strings on one line
 * (op-cli.md §7), keys whose value is undefined left out (never null).
 */
export function opJson(value) {
    return render(value, "") + "\n"
}

function render(v, indent) {
    if (Array.isArray(v)) {
        if (v.length === 0) return "[]"
        if (v.every((x) => typeof x === "string")) return "[" + v.map((x) => JSON.stringify(x)).join(", ") + "]"
        const inner = indent + "  "
        return "[\n" + v.map((x) => inner + render(x, inner)).join(",\n") + "\n" + indent + "]"
    }
    if (v !== null && typeof v === "object") {
        const entries = Object.entries(v).filter(([, x]) => x !== undefined)
        if (entries.length === 0) return "{}"
        const inner = indent + "  "
        return "{\n" + entries.map(([k, x]) => inner + JSON.stringify(k) + ": " + render(x, inner)).join(",\n") + "\n" + indent + "}"
    }
    return JSON.stringify(v)
}

/** op's "not signed in" text for commands other than whoami (op-cli.md §6). */
export const NOT_SIGNED_IN = "You are not currently signed in. Please run `op signin --help` for instructions"
