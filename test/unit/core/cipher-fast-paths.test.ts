/**
 * Issue 14 (scale): the value cipher's per-value fast paths against a reference
 * written the way the cipher worked before them, straight from sops' rules: the
 * ENC regex, the strict base64 regex, TextEncoder/TextDecoder(fatal) for the bytes,
 * one randomBytes IV per value, the AAD joined from the whole path at every leaf.
 *
 * - decrypt: ENC strings in encryptValue's own shape go through one strict regex and
 *   a scratch buffer; everything else through parseEnc. Both must give the same
 *   value or the same error, and the stash the same IV.
 * - encrypt: the text goes to the cipher without being encoded first, and fresh IVs
 *   are cut from one random block; with a given IV the ENC string is byte for byte
 *   the reference's.
 * - the MAC hashes a value's text instead of its encoded bytes.
 * - the walk builds each leaf's AAD one key at a time.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decryptValue, encryptValue, IvStash, valueToBytes, valueToText, type Plain } from "../../../src/core/cipher.js"
import { MacHasher } from "../../../src/core/mac.js"
import type { Branch, Node, Scalar } from "../../../src/core/tree.js"
import { decryptBranches, encryptBranches } from "../../../src/core/walk.js"
import { formatRfc3339, parseGoBool, parseGoFloat, parseGoInt, parseRfc3339 } from "../../../src/core/go-format.js"
import { SecretsError } from "../../../src/errors.js"

const KEY = new Uint8Array(randomBytes(32))
const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/
const b64 = (s: string): Buffer | null => {
    const clean = s.replace(/[\r\n]/g, "")
    return clean.length % 4 === 0 && BASE64_RE.test(clean) ? Buffer.from(clean, "base64") : null
}

/** Text with what matters to UTF-8: non-ASCII, astral characters, lone surrogates, controls. */
const tricky = fc
    .array(
        fc.oneof(
            fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
            fc.string({ unit: "binary", maxLength: 6 }),
            fc.constantFrom("\ud800", "\udfff", "\udc00\ud800", "😀", "é", "\ufeff", "\u2028", "\u0000", ",", "]", ":", "\n"),
        ),
        { maxLength: 8 },
    )
    .map((p) => p.join(""))

const scalar: fc.Arbitrary<Exclude<Scalar, { kind: "null" }>> = fc.oneof(
    tricky.map((value) => ({ kind: "str" as const, value })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ kind: "int" as const, value })),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ kind: "float" as const, value })),
    fc.boolean().map((value) => ({ kind: "bool" as const, value })),
    fc.uint8Array({ maxLength: 24 }).map((value) => ({ kind: "bytes" as const, value })),
    fc.constantFrom("2026-01-02T03:04:05Z", "1999-12-31T23:59:59.5+01:00").map((value) => ({ kind: "time" as const, value })),
)
const plainValue: fc.Arbitrary<Plain> = fc.oneof(scalar, tricky.map((text) => ({ kind: "comment" as const, text })))

const referenceTypeTag = (v: Plain): string => (v.kind === "bytes" ? "str" : v.kind)

/** encryptValue as it was: every part encoded into its own array first. */
function referenceEncrypt(v: Plain, aad: string, iv: Uint8Array): string {
    const c = createCipheriv("aes-256-gcm", KEY, iv, { authTagLength: 16 })
    c.setAAD(new TextEncoder().encode(aad))
    const data = Buffer.concat([c.update(valueToBytes(v)), c.final()])
    const b = (x: Uint8Array) => Buffer.from(x).toString("base64")
    return `ENC[AES256_GCM,data:${b(data)},iv:${b(iv)},tag:${b(c.getAuthTag())},type:${referenceTypeTag(v)}]`
}

type Outcome = { value: Plain; iv: string } | { error: string; code: number }

/** decryptValue as it was: sops' regex, the strict base64 regex, the fatal UTF-8 decoder. */
function referenceDecrypt(enc: string, aad: string): Outcome {
    const m = ENC_RE.exec(enc)
    const [data, iv, tag] = m === null ? [null, null, null] : [b64(m[1] ?? ""), b64(m[2] ?? ""), b64(m[3] ?? "")]
    if (m === null || data === null || iv === null || tag === null || iv.length === 0 || tag.length !== 16) {
        return { error: "FormatError: value does not match sops' data format", code: 25 }
    }
    let plain: Buffer
    try {
        const d = createDecipheriv("aes-256-gcm", KEY, iv, { authTagLength: 16 })
        d.setAAD(new TextEncoder().encode(aad))
        d.setAuthTag(tag)
        plain = Buffer.concat([d.update(data), d.final()])
    } catch {
        return { error: "IntegrityError: could not decrypt value: authentication failed", code: 25 }
    }
    const type = m[4] ?? ""
    if (type === "bytes") return { value: { kind: "bytes", value: new Uint8Array(plain) }, iv: iv.toString("hex") }
    let text: string
    try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plain)
    } catch {
        if (type === "str") return { value: { kind: "bytes", value: new Uint8Array(plain) }, iv: iv.toString("hex") }
        return { error: `FormatError: decrypted value is not a valid ${type}`, code: 25 }
    }
    if (type === "str") return { value: { kind: "str", value: text }, iv: iv.toString("hex") }
    if (type === "comment") return { value: { kind: "comment", text }, iv: iv.toString("hex") }
    const bad = { error: `FormatError: decrypted value is not a valid ${type}`, code: 25 }
    const typed = (value: Plain | null): Outcome => (value === null ? bad : { value, iv: iv.toString("hex") })
    switch (type) {
        case "int": {
            const v = parseGoInt(text)
            return typed(v === null ? null : { kind: "int", value: v })
        }
        case "float": {
            const v = parseGoFloat(text)
            return typed(v === null ? null : { kind: "float", value: v })
        }
        case "bool": {
            const v = parseGoBool(text)
            return typed(v === null ? null : { kind: "bool", value: v })
        }
        case "time": {
            const t = parseRfc3339(text)
            return typed(t === null ? null : { kind: "time", value: formatRfc3339(t, true) })
        }
        default:
            return { error: /^[a-z0-9_]{1,16}$/.test(type) ? `FormatError: unknown datatype ${type}` : "FormatError: unknown datatype", code: 25 }
    }
}

function actualDecrypt(enc: string, aad: string): Outcome {
    const stash = new IvStash()
    try {
        const value = decryptValue(enc, KEY, aad, stash)
        const iv = stash.lookup(aad, value)
        return { value, iv: iv === undefined ? "none" : Buffer.from(iv).toString("hex") }
    } catch (e) {
        if (e instanceof SecretsError) return { error: `${e.constructor.name}: ${e.message}`, code: e.code }
        throw e
    }
}

/** Bytes compare as plain arrays whatever view they come in. */
const normal = (o: Outcome): unknown =>
    "value" in o && o.value.kind === "bytes" ? { ...o, value: { kind: "bytes", value: [...o.value.value] } } : o

/** Ways an ENC string can differ from the shape encryptValue writes. */
const damage = fc.constantFrom(
    "none", "none", "none", "trailing", "trailing-fields", "comma-in-type", "fields-in-type", "newline", "cr", "urlsafe",
    "bad-char", "pad-inside", "bits", "empty-data", "empty-iv", "short-tag", "long-tag", "type-bytes", "type-int",
    "type-bracket", "unknown-type", "flip-data", "wrong-aad", "no-close", "space",
)

function damaged(enc: string, how: string, at: number): string {
    const m = ENC_RE.exec(enc)
    if (m === null) return enc
    const [, data = "", iv = "", tag = "", type = ""] = m
    const make = (d: string, i: string, t: string, ty: string, tail = "]") => `ENC[AES256_GCM,data:${d},iv:${i},tag:${t},type:${ty}${tail}`
    const put = (s: string, c: string) => {
        const i = at % s.length
        return s.slice(0, i) + c + s.slice(i + 1)
    }
    switch (how) {
        case "trailing": return enc + "x"
        case "trailing-fields": return enc + ",iv:AAAA,tag:BBBB,type:str]"
        case "comma-in-type": return make(data, iv, tag, type + ",x")
        case "fields-in-type": return make(data, iv, tag, `${type},iv:${iv},tag:${tag},type:${type}`)
        case "newline": return put(enc, "\n")
        case "cr": return make(data.length > 4 ? data.slice(0, 4) + "\r\n" + data.slice(4) : data, iv, tag, type)
        case "urlsafe": return make(put(data, "-"), iv, tag, type)
        case "bad-char": return make(data, put(iv, "*"), tag, type)
        case "pad-inside": return make(data.length > 8 ? put(data.slice(0, -4), "=") + data.slice(-4) : data, iv, tag, type)
        case "bits": return make(data.replace(/([A-Za-z0-9+/])(=+)$/, (_, c: string, p: string) => (c === "A" ? "B" : "A") + p), iv, tag, type)
        case "empty-data": return make("", iv, tag, type)
        case "empty-iv": return make(data, "", tag, type)
        case "short-tag": return make(data, iv, tag.slice(0, 20), type)
        case "long-tag": return make(data, iv, tag.slice(0, 22) + "AAAA", type)
        case "type-bytes": return make(data, iv, tag, "bytes")
        case "type-int": return make(data, iv, tag, "int")
        case "type-bracket": return make(data, iv, tag, type + "]x")
        case "unknown-type": return make(data, iv, tag, "weird")
        case "flip-data": return make(put(data, data[at % data.length] === "A" ? "B" : "A"), iv, tag, type)
        case "no-close": return make(data, iv, tag, type, "")
        case "space": return make(data, iv, " " + tag.slice(1), type)
        default: return enc
    }
}

describe("decryptValue's fast path against the reference", () => {
    it("gives the same value and stashed IV, or the same error, for well-formed and damaged ENC strings", () => {
        fc.assert(
            fc.property(plainValue, tricky, damage, fc.nat(), (v, aad, how, at) => {
                const fresh = encryptValue(v, KEY, aad)
                if (fresh === "") return
                const enc = damaged(fresh, how, at)
                const readAad = how === "wrong-aad" ? aad + "x" : aad
                expect(normal(actualDecrypt(enc, readAad))).toEqual(normal(referenceDecrypt(enc, readAad)))
            }),
            { numRuns: 2000 },
        )
    })

    it("a well-formed string in encryptValue's shape round-trips each type, ASCII or not", () => {
        for (const v of [
            { kind: "str", value: "plain ascii" },
            { kind: "str", value: "é😀\u2028" },
            { kind: "bytes", value: new Uint8Array([0xff, 0xfe, 0x00]) },
            { kind: "int", value: -42n },
            { kind: "bool", value: false },
            { kind: "comment", text: " a note" },
        ] satisfies Plain[]) {
            expect(normal({ value: decryptValue(encryptValue(v, KEY, "a:b:"), KEY, "a:b:"), iv: "" })).toEqual(normal({ value: v, iv: "" }))
        }
    })
})

describe("encryptValue's fast path against the reference", () => {
    it("with a given IV, writes the reference's ENC string byte for byte", () => {
        fc.assert(
            fc.property(plainValue, tricky, fc.uint8Array({ minLength: 32, maxLength: 32 }), (v, aad, iv) => {
                const ours = encryptValue(v, KEY, aad, iv)
                if (ours === "") return
                expect(ours).toBe(referenceEncrypt(v, aad, iv))
            }),
            { numRuns: 1000 },
        )
    })

    it("fresh IVs are 32 bytes, all different, across the random blocks they are cut from", () => {
        const ivs = new Set<string>()
        const n = 256 * 4 + 7 // past several blocks
        for (let i = 0; i < n; i++) {
            const enc = encryptValue({ kind: "str", value: "x" }, KEY, "k:")
            const iv = ENC_RE.exec(enc)?.[2] ?? ""
            expect(Buffer.from(iv, "base64")).toHaveLength(32)
            ivs.add(iv)
            // Each still decrypts under its own IV.
            if (i % 100 === 0) expect(decryptValue(enc, KEY, "k:")).toEqual({ kind: "str", value: "x" })
        }
        expect(ivs.size).toBe(n)
    })

    it("the same value encrypted twice gets two IVs (a used IV is never handed out again)", () => {
        const a = encryptValue({ kind: "str", value: "same" }, KEY, "k:")
        const b = encryptValue({ kind: "str", value: "same" }, KEY, "k:")
        expect(a).not.toBe(b)
    })
})

describe("the MAC over a value's text", () => {
    it("hashes the same bytes as the value's encoding (lone surrogates included)", () => {
        fc.assert(
            fc.property(fc.array(scalar, { maxLength: 10 }), fc.boolean(), (values, onlyEncrypted) => {
                const ours = new MacHasher(onlyEncrypted)
                const reference = createHash("sha512")
                if (onlyEncrypted) reference.update(createHash("sha256").update("sops").digest())
                for (const v of values) {
                    ours.add(valueToText(v))
                    const t = valueToText(v)
                    reference.update(typeof t === "string" ? new TextEncoder().encode(t) : t)
                }
                expect(ours.digest()).toBe(reference.digest("hex").toUpperCase())
            }),
            { numRuns: 500 },
        )
    })
})

describe("the walk's AADs, built one key at a time", () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("a", ":", "a:b", "", "sops_x", "😀"))
    const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
        node: fc.oneof(
            { depthSize: "small", withCrossShrink: true },
            scalar,
            fc.array(fc.tuple(key, tie("node")), { maxLength: 4 }).map(([...es]) => ({
                kind: "map" as const,
                items: es.map(([k, v]) => ({ kind: "entry" as const, key: k, value: v })),
            })),
            fc.array(tie("node"), { maxLength: 3 }).map((items) => ({ kind: "list" as const, items })),
        ),
    })).node

    /** Every ENC leaf with the AAD sops gives it: the whole path joined, as the walk did. */
    function leaves(n: Node, path: string[], out: [string, string][]): [string, string][] {
        if (n.kind === "map") for (const it of n.items) if (it.kind === "entry") leaves(it.value, [...path, it.key], out)
        if (n.kind === "list") for (const it of n.items) if (it.kind !== "comment") leaves(it, path, out)
        if (n.kind === "str" && n.value.startsWith("ENC[")) out.push([n.value, path.join(":") + ":"])
        return out
    }

    it("every encrypted leaf opens under its joined path, and the tree decrypts back", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(key, node), { minLength: 1, maxLength: 4 }), (entries) => {
                const doc: Branch = { kind: "map", items: entries.map(([k, v]) => ({ kind: "entry", key: k, value: v })) }
                const opts = { rule: {}, macOnlyEncrypted: false }
                const sealed = encryptBranches([doc], KEY, opts)
                for (const [enc, aad] of leaves(sealed.branches[0] as Node, [], [])) {
                    expect("value" in referenceDecrypt(enc, aad)).toBe(true)
                }
                const opened = decryptBranches(sealed.branches, KEY, opts)
                expect(opened.mac).toBe(sealed.mac)
            }),
            { numRuns: 300 },
        )
    })
})
