/**
 * New values for `rotate-value` (issue 16 §4): the `generate:` forms of a value
 * policy in `.sops.yaml`, parsed and run over a source of random bytes that the
 * caller supplies (node:crypto's randomBytes; tests pass their own), so this stays
 * pure.
 *
 * Forms, with the counts `openssl rand` users expect:
 * - `password:N`: N characters from letters, digits and `-_.~` (URL-unreserved, so
 *   the value works unescaped in a connection string and inside double quotes);
 *   chosen by rejection sampling, so every character is equally likely.
 * - `hex:N`: N random bytes as 2N hex digits (`openssl rand -hex N`).
 * - `base64:N`: N random bytes in standard base64 (`openssl rand -base64 N`).
 * - `uuid`: a random (version 4) UUID.
 */

export const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"

/** Lengths outside this are a typo, not a wish: 8 characters is weak, 4096 is no password. */
const MIN_COUNT = 8
const MAX_COUNT = 4096

export type GeneratorSpec =
    | { readonly kind: "password"; readonly length: number }
    | { readonly kind: "hex"; readonly bytes: number }
    | { readonly kind: "base64"; readonly bytes: number }
    | { readonly kind: "uuid" }

export type RandomBytes = (n: number) => Uint8Array

/** The spec, or a sentence saying what is wrong with it (for a ConfigError naming the file). */
export function parseGenerator(text: string): GeneratorSpec | { readonly error: string } {
    if (text === "uuid") return { kind: "uuid" }
    const m = /^(password|hex|base64):(\d{1,5})$/.exec(text)
    if (m === null) return { error: `generate: ${JSON.stringify(text)} is not one of password:N, hex:N, base64:N, uuid` }
    const count = Number(m[2])
    if (count < MIN_COUNT || count > MAX_COUNT) return { error: `generate: ${text}: N must be between ${MIN_COUNT} and ${MAX_COUNT}` }
    const kind = m[1] as "password" | "hex" | "base64"
    return kind === "password" ? { kind, length: count } : { kind, bytes: count }
}

export function generateValue(spec: GeneratorSpec, random: RandomBytes): string {
    switch (spec.kind) {
        case "password":
            return password(spec.length, random)
        case "hex":
            return Buffer.from(random(spec.bytes)).toString("hex")
        case "base64":
            return Buffer.from(random(spec.bytes)).toString("base64")
        case "uuid":
            return uuid(random(16))
    }
}

/**
 * Rejection sampling: a byte is used only below the largest multiple of the
 * alphabet's size (256 - 256 % 66 = 198), so no character is more likely than
 * another (a plain `byte % 66` favours the first 58).
 */
function password(length: number, random: RandomBytes): string {
    const n = PASSWORD_ALPHABET.length
    const limit = 256 - (256 % n)
    let out = ""
    while (out.length < length) {
        for (const b of random(Math.ceil((length - out.length) * 1.4) + 4)) {
            if (b >= limit) continue
            out += PASSWORD_ALPHABET[b % n]
            if (out.length === length) break
        }
    }
    return out
}

function uuid(bytes: Uint8Array): string {
    const b = Uint8Array.from(bytes)
    b[6] = (b[6]! & 0x0f) | 0x40 // version 4
    b[8] = (b[8]! & 0x3f) | 0x80 // RFC 4122 variant
    const hex = Buffer.from(b).toString("hex")
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
