import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    bytesToValue,
    decryptValue,
    encryptValue,
    formatEnc,
    IvStash,
    parseEnc,
    typeTag,
    valueToBytes,
    type Plain,
} from "../../../src/core/cipher.js"
import { openMac } from "../../../src/core/mac.js"
import { FormatError, IntegrityError, SecretsError } from "../../../src/errors.js"
import { dataKey, encStrings, storedMac } from "./vectors.js"

const EXAMPLE = "getsops-sops/example.yaml"
const key = dataKey(EXAMPLE)
const enc = encStrings(EXAMPLE)
const at = (i: number): string => enc[i] ?? ""
const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8")

describe("real sops ciphertexts (getsops-sops/example.yaml)", () => {
    test("a top-level string with AAD 'myapp1:'", () => {
        expect(decryptValue(at(0), key, "myapp1:")).toEqual({ kind: "str", value: "t00m4nys3cr3tzupdated" })
    })

    test("nested strings use the joined path", () => {
        expect(decryptValue(at(1), key, "app2:db:user:")).toEqual({ kind: "str", value: "eve" })
        expect(decryptValue(at(2), key, "app2:db:password:")).toEqual({ kind: "str", value: "c4r1b0u" })
    })

    test("a comment inside app2.db has the mapping's path as AAD", () => {
        expect(decryptValue(at(3), key, "app2:db:")).toEqual({
            kind: "comment",
            text: " private key for secret operations in app2",
        })
    })

    test("a float decrypts from Go 'f' text", () => {
        const v = decryptValue(at(5), key, "number:")
        expect(v).toEqual({ kind: "float", value: 1234568000 })
        expect(text(valueToBytes(v))).toBe("1234568000")
    })

    test("booleans in a list share the list's AAD", () => {
        expect(decryptValue(at(10), key, "somebooleans:")).toEqual({ kind: "bool", value: true })
        expect(decryptValue(at(11), key, "somebooleans:")).toEqual({ kind: "bool", value: false })
    })

    test("the wrong AAD fails authentication", () => {
        expect(() => decryptValue(at(0), key, "myapp2:")).toThrow(IntegrityError)
        expect(() => decryptValue(at(10), key, "somebooleans:0:")).toThrow(IntegrityError)
    })

    test("the MAC opens with lastmodified as AAD", () => {
        const { mac, lastModified } = storedMac(EXAMPLE)
        expect(lastModified).toBe("2022-03-15T22:11:15Z")
        expect(openMac(mac, key, lastModified)).toBe(
            "82187187F7F09465600C3C74AAAD50CACD0A9E9DEA376ECDB25002015714C5C0E79BD0D275F0B0CCDEF1587FB8FDB5C186FA9D33A816C0F5B7F0E5B96BCE5502",
        )
    })

    test("parse/format of a real ENC string is the identity", () => {
        for (const s of enc) {
            const p = parseEnc(s)
            expect(p).not.toBeNull()
            expect(formatEnc(p!)).toBe(s)
            expect(p!.iv.length).toBe(32)
            expect(p!.tag.length).toBe(16)
        }
    })
})

describe("encryptValue", () => {
    const k = new Uint8Array(32).fill(7)
    const iv = new Uint8Array(32).fill(1)

    test("is deterministic for a fixed IV and decrypts back", () => {
        const a = encryptValue({ kind: "str", value: "hello" }, k, "a:b:", iv)
        const b = encryptValue({ kind: "str", value: "hello" }, k, "a:b:", iv)
        expect(a).toBe(b)
        expect(a).toMatch(/^ENC\[AES256_GCM,data:[A-Za-z0-9+/]{7}=,iv:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,tag:[A-Za-z0-9+/]{22}==,type:str\]$/)
        expect(decryptValue(a, k, "a:b:")).toEqual({ kind: "str", value: "hello" })
    })

    test("random IVs are 32 bytes and differ", () => {
        const a = parseEnc(encryptValue({ kind: "int", value: 5n }, k, "x:"))!
        const b = parseEnc(encryptValue({ kind: "int", value: 5n }, k, "x:"))!
        expect(a.iv.length).toBe(32)
        expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false)
        expect(a.type).toBe("int")
    })

    test("empty strings, bytes and comments are never encrypted", () => {
        expect(encryptValue({ kind: "str", value: "" }, k, "x:")).toBe("")
        expect(encryptValue({ kind: "bytes", value: new Uint8Array() }, k, "x:")).toBe("")
        expect(encryptValue({ kind: "comment", text: "" }, k, "x:")).toBe("")
        expect(decryptValue("", k, "x:")).toEqual({ kind: "str", value: "" })
    })

    test("type tags and plaintext bytes follow sops' ToBytes", () => {
        const cases: [Plain, string, string][] = [
            [{ kind: "str", value: "héllo" }, "str", "héllo"],
            [{ kind: "bytes", value: new Uint8Array([0xff, 0x00]) }, "str", "\uFFFD\u0000"],
            [{ kind: "int", value: -12n }, "int", "-12"],
            [{ kind: "int", value: 9223372036854775807n }, "int", "9223372036854775807"],
            [{ kind: "float", value: 1.5 }, "float", "1.5"],
            [{ kind: "float", value: 1e21 }, "float", "1000000000000000000000"],
            [{ kind: "bool", value: true }, "bool", "True"],
            [{ kind: "bool", value: false }, "bool", "False"],
            [{ kind: "time", value: "2024-01-01T00:00:00Z" }, "time", "2024-01-01T00:00:00Z"],
            [{ kind: "comment", text: " note" }, "comment", " note"],
        ]
        for (const [v, tag, bytes] of cases) {
            expect(typeTag(v)).toBe(tag)
            expect(text(valueToBytes(v))).toBe(bytes)
            const e = encryptValue(v, k, "p:", iv)
            expect(parseEnc(e)?.type).toBe(tag)
        }
    })

    test("a flipped tag byte is an IntegrityError", () => {
        const e = parseEnc(encryptValue({ kind: "str", value: "secret" }, k, "x:"))!
        const tag = new Uint8Array(e.tag)
        tag[0] = (tag[0] ?? 0) ^ 1
        expect(() => decryptValue(formatEnc({ ...e, tag }), k, "x:")).toThrow(IntegrityError)
        const data = new Uint8Array(e.data)
        data[0] = (data[0] ?? 0) ^ 1
        expect(() => decryptValue(formatEnc({ ...e, data }), k, "x:")).toThrow(IntegrityError)
    })

    test("a wrong data key is an IntegrityError that names nothing secret", () => {
        const e = encryptValue({ kind: "str", value: "hunter2" }, k, "x:")
        try {
            decryptValue(e, new Uint8Array(32), "x:")
            expect.unreachable()
        } catch (err) {
            expect(err).toBeInstanceOf(IntegrityError)
            expect((err as Error).message).not.toContain("hunter2")
            expect((err as Error).message).not.toContain("ENC[")
        }
    })
})

describe("malformed ENC strings", () => {
    const k = new Uint8Array(32)
    const bad = [
        "hunter2-plaintext",
        "ENC[AES256_GCM,data:abc,iv:def,tag:ghi]",
        "ENC[AES256_GCM,data:@@@@,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
        "ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:AAAA,type:str]",
        "ENC[AES256_GCM,data:QUJD,iv:AAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
        "enc[AES256_GCM,data:QUJD,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
        " ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
    ]
    test.each(bad)("%s is a FormatError that does not echo the input", (s) => {
        try {
            decryptValue(s, k, "x:")
            expect.unreachable()
        } catch (err) {
            expect(err).toBeInstanceOf(FormatError)
            expect((err as Error).message).toBe("value does not match sops' data format")
        }
    })

    test("the regex is greedy and not end-anchored, like Go's", () => {
        const p = parseEnc("ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:AAAA,type:str]xyz]tail")
        expect(p?.type).toBe("str]xyz")
        expect(parseEnc("ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:AAAA,type:str] trailing")?.type).toBe("str")
    })

    test("an unknown type is a FormatError after authentication", () => {
        const k2 = new Uint8Array(32).fill(3)
        const e = parseEnc(encryptValue({ kind: "str", value: "v" }, k2, "x:"))!
        // The type tag is not authenticated by sops either, only the ciphertext is.
        expect(() => decryptValue(formatEnc({ ...e, type: "int64x" }), k2, "x:")).toThrow("unknown datatype int64x")
        expect(() => decryptValue(formatEnc({ ...e, type: "int" }), k2, "x:")).toThrow(FormatError)
    })
})

describe("bytesToValue", () => {
    const b = (s: string): Uint8Array => new TextEncoder().encode(s)
    test("Go parse rules", () => {
        expect(bytesToValue("int", b("+42"))).toEqual({ kind: "int", value: 42n })
        expect(bytesToValue("int", b("-9223372036854775808"))).toEqual({ kind: "int", value: -(2n ** 63n) })
        expect(() => bytesToValue("int", b("9223372036854775808"))).toThrow(FormatError)
        expect(() => bytesToValue("int", b("1_000"))).toThrow(FormatError)
        expect(() => bytesToValue("int", b("0x10"))).toThrow(FormatError)
        expect(bytesToValue("float", b("1e3"))).toEqual({ kind: "float", value: 1000 })
        expect(bytesToValue("float", b("-Inf"))).toEqual({ kind: "float", value: -Infinity })
        expect(() => bytesToValue("float", b("1e400"))).toThrow(FormatError)
        for (const t of ["1", "t", "T", "TRUE", "true", "True"]) expect(bytesToValue("bool", b(t))).toEqual({ kind: "bool", value: true })
        for (const f of ["0", "f", "F", "FALSE", "false", "False"]) expect(bytesToValue("bool", b(f))).toEqual({ kind: "bool", value: false })
        expect(() => bytesToValue("bool", b("yes"))).toThrow(FormatError)
        expect(bytesToValue("time", b("2006-01-02T15:04:05.500+00:00"))).toEqual({ kind: "time", value: "2006-01-02T15:04:05.5Z" })
        expect(bytesToValue("time", b("2006-01-02T15:04:05+07:06"))).toEqual({ kind: "time", value: "2006-01-02T15:04:05+07:06" })
        expect(() => bytesToValue("time", b("2006-02-30T15:04:05Z"))).toThrow(FormatError)
        expect(bytesToValue("str", new Uint8Array([0xff]))).toEqual({ kind: "bytes", value: new Uint8Array([0xff]) })
        expect(bytesToValue("bytes", b("x"))).toEqual({ kind: "bytes", value: b("x") })
    })
})

describe("IV stash", () => {
    const k = new Uint8Array(32).fill(9)

    test("an unchanged value at the same path re-encrypts byte-identically", () => {
        const values: [Plain, string][] = [
            [{ kind: "str", value: "s" }, "a:"],
            [{ kind: "int", value: 3n }, "a:b:"],
            [{ kind: "float", value: 0.1 }, "c:"],
            [{ kind: "bool", value: false }, "d:"],
            [{ kind: "comment", text: " c" }, ":"],
        ]
        const encs = values.map(([v, aad]) => encryptValue(v, k, aad))
        const stash = new IvStash()
        values.forEach(([, aad], i) => decryptValue(encs[i] ?? "", k, aad, stash))
        expect(stash.size).toBe(5)
        values.forEach(([v, aad], i) => expect(encryptValue(v, k, aad, undefined, stash)).toBe(encs[i]))
    })

    test("a changed value, path or type gets a fresh IV", () => {
        const stash = new IvStash()
        const e = encryptValue({ kind: "str", value: "1" }, k, "a:")
        decryptValue(e, k, "a:", stash)
        const iv = (s: string): string => Buffer.from(parseEnc(s)!.iv).toString("hex")
        const old = iv(e)
        expect(iv(encryptValue({ kind: "str", value: "2" }, k, "a:", undefined, stash))).not.toBe(old)
        expect(iv(encryptValue({ kind: "str", value: "1" }, k, "b:", undefined, stash))).not.toBe(old)
        expect(iv(encryptValue({ kind: "int", value: 1n }, k, "a:", undefined, stash))).not.toBe(old)
    })

    test("real vector: decrypting then re-encrypting gives the file's exact ENC string", () => {
        const stash = new IvStash()
        const v = decryptValue(at(0), key, "myapp1:", stash)
        expect(encryptValue(v, key, "myapp1:", undefined, stash)).toBe(at(0))
    })
})

describe("round trip (property)", () => {
    const k = new Uint8Array(32).fill(5)
    const plain: fc.Arbitrary<Plain> = fc.oneof(
        fc.string({ minLength: 1, unit: "grapheme" }).map((value): Plain => ({ kind: "str", value })),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Plain => ({ kind: "int", value })),
        fc.double().filter((d) => !Number.isNaN(d)).map((value): Plain => ({ kind: "float", value })),
        fc.boolean().map((value): Plain => ({ kind: "bool", value })),
        fc.string({ minLength: 1 }).map((text): Plain => ({ kind: "comment", text })),
        fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }).map(
            (d): Plain => ({ kind: "time", value: d.toISOString().replace(/(\.\d*?)0+Z$/, "$1Z").replace(/\.Z$/, "Z") }),
        ),
    )
    test("decrypt(encrypt(v)) = v", () => {
        fc.assert(
            fc.property(plain, fc.string(), (v, aad) => {
                const e = encryptValue(v, k, aad)
                expect(decryptValue(e, k, aad)).toEqual(v)
            }),
        )
    })
    test("NaN survives", () => {
        const v = decryptValue(encryptValue({ kind: "float", value: NaN }, k, "n:"), k, "n:")
        expect(v.kind === "float" && Number.isNaN(v.value)).toBe(true)
    })
    test("errors are SecretsErrors", () => {
        expect(() => decryptValue("nope", k, "x:")).toThrow(SecretsError)
    })
})
