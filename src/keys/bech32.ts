/**
 * Bech32 (BIP 173, not bech32m), as age uses it for `age1…` recipients and
 * `AGE-SECRET-KEY-1…` identities. A file of its own so that the decrypt path can
 * read identities without loading recipient parsing, SSH or post-quantum code.
 */

// No BIP 173 90-character limit: post-quantum recipients are ~1950 characters long.
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod(values: readonly number[]): number {
    let chk = 1
    for (const v of values) {
        const top = chk >>> 25
        chk = ((chk & 0x1ffffff) << 5) ^ v
        for (let i = 0; i < 5; i++) {
            if (((top >>> i) & 1) !== 0) chk ^= GENERATORS[i] ?? 0
        }
    }
    return chk
}

function hrpExpand(hrp: string): number[] {
    const out: number[] = []
    for (const c of hrp) out.push(c.charCodeAt(0) >>> 5)
    out.push(0)
    for (const c of hrp) out.push(c.charCodeAt(0) & 31)
    return out
}

function convertBits(data: readonly number[], from: number, to: number, pad: boolean): number[] | null {
    let acc = 0
    let bits = 0
    const out: number[] = []
    const maxv = (1 << to) - 1
    for (const v of data) {
        if (v < 0 || v >> from !== 0) return null
        acc = (acc << from) | v
        bits += from
        while (bits >= to) {
            bits -= to
            out.push((acc >>> bits) & maxv)
        }
        acc &= (1 << bits) - 1
    }
    if (pad) {
        if (bits > 0) out.push((acc << (to - bits)) & maxv)
    } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
        return null
    }
    return out
}

/**
 * Decode a Bech32 string. Returns the lowercase human-readable part and the data
 * bytes, or null if the string is malformed, mixed-case or fails its checksum.
 */
export function bech32Decode(s: string): { hrp: string; bytes: Uint8Array } | null {
    if (s !== s.toLowerCase() && s !== s.toUpperCase()) return null
    const lower = s.toLowerCase()
    const pos = lower.lastIndexOf("1")
    if (pos < 1 || pos + 7 > lower.length) return null
    const hrp = lower.slice(0, pos)
    for (const c of hrp) {
        const code = c.charCodeAt(0)
        if (code < 33 || code > 126) return null
    }
    const data: number[] = []
    for (const c of lower.slice(pos + 1)) {
        const v = CHARSET.indexOf(c)
        if (v < 0) return null
        data.push(v)
    }
    if (polymod([...hrpExpand(hrp), ...data]) !== 1) return null
    const bytes = convertBits(data.slice(0, -6), 5, 8, false)
    if (bytes === null) return null
    return { hrp, bytes: Uint8Array.from(bytes) }
}

/** Encode bytes as Bech32 with the given human-readable part; `upper` for identities. */
export function bech32Encode(hrp: string, bytes: Uint8Array, upper = false): string {
    const h = hrp.toLowerCase()
    const data = convertBits(Array.from(bytes), 8, 5, true) ?? []
    const mod = polymod([...hrpExpand(h), ...data, 0, 0, 0, 0, 0, 0]) ^ 1
    const checksum: number[] = []
    for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31)
    const s = h + "1" + [...data, ...checksum].map((v) => CHARSET[v] ?? "").join("")
    return upper ? s.toUpperCase() : s
}
