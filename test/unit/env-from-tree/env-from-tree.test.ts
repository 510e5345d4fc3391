/**
 * Top-level keys -> environment variables for exec-env (sops-format.md §10): the
 * values as sops' ValueToString prints them, and every refusal naming the key
 * but never the value.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bool, comment, entry, float, int, list, map, nil, str, time, bytes } from "../../../src/core/tree.js"
import { childEnvironment, envFromBranch } from "../../../src/files/env-from-tree.js"
import { dangerousFamily } from "../../../src/files/env-denylist.js"
import { SecretsError } from "../../../src/errors.js"

const SECRET = "s3cr3t-value-never-shown"

function refusal(f: () => unknown): SecretsError {
    try {
        f()
    } catch (e) {
        expect(e).toBeInstanceOf(SecretsError)
        return e as SecretsError
    }
    throw new Error("expected a SecretsError")
}

describe("envFromBranch", () => {
    it("turns every scalar type into sops' text, in file order, skipping comments", () => {
        const branch = map(
            comment(" database"),
            entry("password", str(SECRET)),
            entry("port", int(5432)),
            entry("big", int(9223372036854775807n)),
            entry("ratio", float(1)),
            entry("half", float(0.5)),
            entry("huge", float(1234567)),
            entry("on", bool(true)),
            entry("off", bool(false)),
            entry("when", time("2024-01-01T00:00:00Z")),
            entry("nothing", nil),
            entry("raw", bytes(new TextEncoder().encode("abc"))),
            entry("empty", str("")),
            entry("spaced", str("a b\nc")),
        )
        expect(envFromBranch(branch)).toEqual([
            ["password", SECRET],
            ["port", "5432"],
            ["big", "9223372036854775807"],
            ["ratio", "1.0"],
            ["half", "0.5"],
            ["huge", "1.234567E+06"],
            ["on", "true"],
            ["off", "false"],
            ["when", "2024-01-01T00:00:00Z"],
            // null is left out (env-safety.test.ts), where sops exports "".
            ["raw", "abc"],
            ["empty", ""],
            ["spaced", "a b\nc"],
        ])
    })

    it("gives nothing for an empty document", () => {
        expect(envFromBranch(map())).toEqual([])
        expect(envFromBranch(map(comment(" only a comment")))).toEqual([])
    })

    it("refuses a nested mapping, naming the key and not the values", () => {
        const e = refusal(() => envFromBranch(map(entry("ok", str("x")), entry("db", map(entry("password", str(SECRET)))))))
        expect(e.code).toBe(1)
        expect(e.message).toBe(`the value of "db" is a mapping; only top-level scalar values can be environment variables`)
        expect(e.hints).toEqual(["move nested values to the top level, or use exec-file to pass the whole file"])
        expect(JSON.stringify([e.message, e.hints])).not.toContain(SECRET)
    })

    it("refuses a list, naming the key", () => {
        const e = refusal(() => envFromBranch(map(entry("hosts", list(str(SECRET), str("b"))))))
        expect(e.code).toBe(1)
        expect(e.message).toBe(`the value of "hosts" is a list; only top-level scalar values can be environment variables`)
        expect(e.message).not.toContain(SECRET)
    })

    it("refuses a key containing '=' (libc would split it into another name and value)", () => {
        const e = refusal(() => envFromBranch(map(entry("A=B", str(SECRET)))))
        expect(e.code).toBe(1)
        expect(e.message).toBe(`the key "A=B" contains "=" and cannot be an environment variable name`)
        expect(e.message).not.toContain(SECRET)
    })

    it("refuses what execve cannot carry: an empty key, NUL in a key or a value", () => {
        expect(refusal(() => envFromBranch(map(entry("", str("v"))))).message).toBe("an empty key cannot be an environment variable name")
        expect(refusal(() => envFromBranch(map(entry("a\0b", str("v"))))).message).toBe(
            `the key "a\\u0000b" contains a NUL character and cannot be an environment variable name`,
        )
        const e = refusal(() => envFromBranch(map(entry("k", str(`${SECRET}\0x`)))))
        expect(e.message).toBe(`the value of "k" contains a NUL character and cannot be put into the environment`)
        expect(e.message).not.toContain(SECRET)
    })

    it("keeps any other key and string value as they are (property)", () => {
        // Names such as PATH need a decrypted value (env-safety.test.ts).
        const key = fc.string({ minLength: 1 }).filter((k) => !k.includes("=") && !k.includes("\0") && dangerousFamily(k) === undefined)
        const value = fc.string().filter((v) => !v.includes("\0"))
        fc.assert(
            fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: (t) => t[0] }), (pairs) => {
                const branch = map(...pairs.map(([k, v]) => entry(k, str(v))))
                expect(envFromBranch(branch)).toEqual(pairs)
            }),
        )
    })
})

describe("childEnvironment", () => {
    const ours = { PATH: "/usr/bin", HOME: "/home/me", password: "inherited", UNSET: undefined }

    it("puts the file's variables on top of ours, the file winning", () => {
        const env = childEnvironment(ours, [["password", SECRET], ["port", "1"]], false)
        expect({ ...env }).toEqual({ PATH: "/usr/bin", HOME: "/home/me", password: SECRET, port: "1" })
    })

    it("with pristine keeps only the file's variables", () => {
        expect({ ...childEnvironment(ours, [["password", SECRET]], true) }).toEqual({ password: SECRET })
        expect({ ...childEnvironment(ours, [], true) }).toEqual({})
    })

    it("treats a key named __proto__ as a plain variable", () => {
        const env = childEnvironment({}, [["__proto__", "x"]], true)
        expect(Object.keys(env)).toEqual(["__proto__"])
        expect(env["__proto__"]).toBe("x")
    })
})
