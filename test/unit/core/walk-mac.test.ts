import { createHash } from "node:crypto"
import { describe, expect, test } from "vitest"
import { decryptValue, encryptValue, parseEnc } from "../../../src/core/cipher.js"
import { formatLastModified, macAad, MAC_ONLY_ENCRYPTED_SEED, openMac, sealMac, verifyMac } from "../../../src/core/mac.js"
import { compilePolicy } from "../../../src/core/policy.js"
import { bool, comment, entry, float, int, list, map, nil, str, type Branch, type Mapping } from "../../../src/core/tree.js"
import { aadFor, computeMac, decryptBranches, encryptBranches, pathLabel } from "../../../src/core/walk.js"
import { ExitCode, FormatError, IntegrityError } from "../../../src/errors.js"
import { dataKey, encQueue, storedMac } from "./vectors.js"

function fileMac(name: string): string {
    const { mac, lastModified } = storedMac(name)
    return openMac(mac, dataKey(name), lastModified)
}

describe("getsops-sops/example.yaml (comments, list of bools, float, nesting, _unencrypted)", () => {
    const NAME = "getsops-sops/example.yaml"
    const key = dataKey(NAME)
    const e = encQueue(NAME)
    const encrypted: Mapping = map(
        entry("myapp1", str(e())),
        entry(
            "app2",
            map(entry("db", map(entry("user", str(e())), entry("password", str(e())), comment(e()))), entry("key", str(e()))),
        ),
        entry("number", str(e())),
        entry("an_array", list(str(e()), str(e()), str(e()), str(e()))),
        entry("somebooleans", list(str(e()), str(e()))),
        entry(
            "this",
            map(entry("is", map(entry("a", map(entry("nested", map(entry("value", str(e())), comment(e()), comment(e()), comment(e())))))))),
        ),
        entry(
            "somelist_unencrypted",
            list(str("all elements of this list"), str("remain in clear text"), str("because of the _encrypted suffix in the key")),
        ),
        entry("nested_unencrypted", map(entry("this", map(entry("is", map(entry("all", str("going to remain in clear text")))))))),
    )
    const opts = { rule: { unencryptedSuffix: "_unencrypted" }, macOnlyEncrypted: false }

    test("decrypts to the known plaintext and reproduces sops' MAC", () => {
        const r = decryptBranches([encrypted], key, opts)
        expect(r.mac).toBe(fileMac(NAME))
        const plain = r.branches[0]!
        expect(plain.items.slice(0, 5)).toEqual([
            entry("myapp1", str("t00m4nys3cr3tzupdated")),
            entry(
                "app2",
                map(
                    entry("db", map(entry("user", str("eve")), entry("password", str("c4r1b0u")), comment(" private key for secret operations in app2"))),
                    entry("key", str(expect.stringMatching(/^-----BEGIN RSA PRIVATE KEY-----\n[^]*\n-----END RSA PRIVATE KEY-----\n$/) as unknown as string)),
                ),
            ),
            entry("number", float(1234568000)),
            entry("an_array", list(str("secretuser1"), str("secretuser2"), str("somelongvalue" + "A".repeat(45)), str("some other value"))),
            entry("somebooleans", list(bool(true), bool(false))),
        ])
        expect(plain.items[5]).toEqual(
            entry(
                "this",
                map(
                    entry(
                        "is",
                        map(
                            entry(
                                "a",
                                map(
                                    entry(
                                        "nested",
                                        map(
                                            entry("value", str("with something secret in it")),
                                            comment(" sops supports unencrypted fields"),
                                            comment(" by adding the `_unencrypted` suffix"),
                                            comment(" to any key"),
                                        ),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        )
        expect(plain.items.slice(6)).toEqual(encrypted.items.slice(6))
    })

    test("re-encrypting with the stash gives back the file's exact ciphertexts", () => {
        const r = decryptBranches([encrypted], key, opts)
        expect(r.stash.size).toBe(16)
        const again = encryptBranches(r.branches, key, opts, r.stash)
        expect(again.branches).toEqual([encrypted])
        expect(again.mac).toBe(r.mac)
        expect(computeMac(r.branches, opts)).toBe(r.mac)
    })

    test("without the stash every value gets a new IV, the MAC stays", () => {
        const r = decryptBranches([encrypted], key, opts)
        const fresh = encryptBranches(r.branches, key, opts)
        expect(fresh.mac).toBe(r.mac)
        expect(fresh.branches).not.toEqual([encrypted])
        const first = fresh.branches[0]!.items[0]
        expect(first?.kind === "entry" && first.value.kind === "str" && parseEnc(first.value.value)?.iv.length).toBe(32)
    })

    test("swapping two encrypted list elements still decrypts, but the MAC catches it", () => {
        const items = [...encrypted.items]
        const arr = items[3]
        if (arr?.kind !== "entry" || arr.value.kind !== "list") throw new Error("fixture")
        const [a, b, ...rest] = arr.value.items
        items[3] = entry("an_array", list(b!, a!, ...rest) as never)
        const r = decryptBranches([map(...items)], key, opts)
        expect(r.mac).not.toBe(fileMac(NAME))
    })
})

describe("gibbz00-rops/age_mac_only_encrypted.yaml", () => {
    const NAME = "gibbz00-rops/age_mac_only_encrypted.yaml"
    const key = dataKey(NAME)
    const e = encQueue(NAME)
    const encrypted = map(
        entry("a_encrypted", str(e())),
        entry("b_unencrypted", map(entry("a", str("aaa")), entry("b", list(int(123), int(456))))),
        entry("c_encrypted", str(e())),
        entry("d_unencrypted", str("aaa")),
    )
    const opts = { rule: { unencryptedSuffix: "_unencrypted" }, macOnlyEncrypted: true }

    test("reproduces sops' MAC, seeded with sha256('sops') and covering encrypted values only", () => {
        expect(Buffer.from(MAC_ONLY_ENCRYPTED_SEED).toString("hex")).toBe("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69")
        const r = decryptBranches([encrypted], key, opts)
        expect(r.mac).toBe(fileMac(NAME))
        expect(r.branches[0]!.items).toEqual([
            entry("a_encrypted", str("xxx")),
            entry("b_unencrypted", map(entry("a", str("aaa")), entry("b", list(int(123), int(456))))),
            entry("c_encrypted", str("xxx")),
            entry("d_unencrypted", str("aaa")),
        ])
    })

    test("clear values can change without changing the MAC; not so without mac_only_encrypted", () => {
        const plain = decryptBranches([encrypted], key, opts).branches
        const edited = [map(...plain[0]!.items.slice(0, 3), entry("d_unencrypted", str("changed")))]
        expect(computeMac(edited, opts)).toBe(fileMac(NAME))
        const full = { ...opts, macOnlyEncrypted: false }
        expect(computeMac(edited, full)).not.toBe(computeMac(plain, full))
    })
})

describe("gibbz00-rops/age_encrypted_regex.yaml", () => {
    const NAME = "gibbz00-rops/age_encrypted_regex.yaml"
    const key = dataKey(NAME)
    const e = encQueue(NAME)
    const encrypted = map(
        entry("a", map(entry("encrypted_1", map(entry("a", str(e())), entry("b", str(e())))), entry("not_encrypted", str("aaa")))),
        entry("b", str("aaa")),
    )
    const opts = { rule: { encryptedRegex: "^encrypted" }, macOnlyEncrypted: false }

    test("reproduces sops' MAC and leaves unmatched paths clear", () => {
        const r = decryptBranches([encrypted], key, opts)
        expect(r.mac).toBe(fileMac(NAME))
        expect(r.branches).toEqual([
            map(
                entry("a", map(entry("encrypted_1", map(entry("a", str("xxx")), entry("b", str("xxx")))), entry("not_encrypted", str("aaa")))),
                entry("b", str("aaa")),
            ),
        ])
    })

    test("decrypting under the default rule instead fails on the clear value", () => {
        expect(() => decryptBranches([encrypted], key, { rule: {}, macOnlyEncrypted: false })).toThrow(
            "value does not match sops' data format at [\"a\"][\"not_encrypted\"]",
        )
    })
})

describe("walk rules", () => {
    const key = new Uint8Array(32).fill(4)
    const opts = { policy: compilePolicy({}), macOnlyEncrypted: false }

    test("AADs: top-level comment ':', list items use the list's path", () => {
        const tree: Branch = map(comment(" top", false), entry("a", map(entry("b", list(str("x"), comment(" in list"), str("y"))))))
        const out = encryptBranches([tree], key, opts).branches[0]!
        const top = out.items[0]
        expect(top?.kind).toBe("comment")
        expect(decryptValue(top?.kind === "comment" ? top.text : "", key, ":")).toEqual(comment(" top"))
        const a = out.items[1]
        if (a?.kind !== "entry" || a.value.kind !== "map") throw new Error("shape")
        const b = a.value.items[0]
        if (b?.kind !== "entry" || b.value.kind !== "list") throw new Error("shape")
        const [x, c, y] = b.value.items
        expect(decryptValue(x?.kind === "str" ? x.value : "", key, "a:b:")).toEqual(str("x"))
        expect(decryptValue(c?.kind === "comment" ? c.text : "", key, "a:b:")).toEqual(comment(" in list"))
        expect(decryptValue(y?.kind === "str" ? y.value : "", key, "a:b:")).toEqual(str("y"))
        expect(aadFor([])).toBe(":")
        expect(aadFor(["foo "])).toBe("foo :")
    })

    test("nulls are skipped, empty strings stay empty, neither changes the MAC", () => {
        const base = map(entry("a", str("v")), entry("n", int(1)))
        const withExtras = map(entry("a", str("v")), entry("z", nil), entry("e", str("")), entry("n", int(1)))
        const enc = encryptBranches([withExtras], key, opts)
        expect(enc.mac).toBe(computeMac([base], opts))
        expect(enc.branches[0]!.items[1]).toEqual(entry("z", nil))
        expect(enc.branches[0]!.items[2]).toEqual(entry("e", str("")))
        // Keys are not hashed either (sops #828).
        expect(computeMac([map(entry("renamed", str("v")), entry("n", int(1)))], opts)).toBe(enc.mac)
    })

    test("the MAC is SHA-512 over ToBytes in walk order, uppercase hex", () => {
        const expected = createHash("sha512").update("v").update("1").update("1.5").update("True").digest("hex").toUpperCase()
        const tree = map(entry("a", str("v")), comment(" not hashed"), entry("b", list(int(1), float(1.5))), entry("c", bool(true)))
        expect(computeMac([tree], opts)).toBe(expected)
        expect(expected).toMatch(/^[0-9A-F]{128}$/)
    })

    test("inline comments keep their flag through encrypt and decrypt", () => {
        const tree = map(comment(" note", true), entry("a", str("v")))
        const enc = encryptBranches([tree], key, opts)
        expect(enc.branches[0]!.items[0]).toMatchObject({ kind: "comment", inline: true })
        expect(decryptBranches(enc.branches, key, opts).branches[0]!.items[0]).toEqual(comment(" note", true))
    })

    test("a clear comment in an encrypted position is kept (files from old sops)", () => {
        const tree = map(comment(" plain old comment"), entry("a", str(encryptValue(str("v"), key, "a:"))))
        const r = decryptBranches([tree], key, opts)
        expect(r.branches[0]!.items).toEqual([comment(" plain old comment"), entry("a", str("v"))])
    })

    test("a selected non-string leaf is exit 25 naming the path, not the value", () => {
        const tree = map(entry("x", map(entry("port", int(8080)))))
        try {
            decryptBranches([tree], key, opts)
            expect.unreachable()
        } catch (err) {
            expect(err).toBeInstanceOf(FormatError)
            expect((err as FormatError).code).toBe(ExitCode.ErrorDecryptingTree)
            expect((err as Error).message).toBe('expected encrypted value as string at ["x"]["port"]')
        }
    })

    test("a value moved to another key fails authentication, naming the path", () => {
        const moved = map(entry("b", str(encryptValue(str("secret-value"), key, "a:"))))
        expect(() => decryptBranches([moved], key, opts)).toThrow(IntegrityError)
        expect(() => decryptBranches([moved], key, opts)).toThrow('at ["b"]')
        expect(() => decryptBranches([moved], key, opts)).not.toThrow("secret-value")
    })

    test("several documents are walked in order into one MAC", () => {
        const d1 = map(entry("a", str("1")))
        const d2 = map(entry("a", str("2")))
        const both = encryptBranches([d1, d2], key, opts)
        expect(both.branches).toHaveLength(2)
        expect(both.mac).toBe(computeMac([map(entry("x", str("1")), entry("y", str("2")))], opts))
        expect(decryptBranches(both.branches, key, opts).branches).toEqual([d1, d2])
    })

    test("pathLabel", () => {
        expect(pathLabel(["a", "b c"])).toBe('["a"]["b c"]')
        expect(pathLabel([])).toBe("the top level")
    })
})

describe("MAC sealing", () => {
    const key = new Uint8Array(32).fill(8)
    const hex = "AB".repeat(64)

    test("seal/open round trip with lastmodified as AAD", () => {
        const lm = "2026-05-22T20:16:23Z"
        const sealed = sealMac(hex, key, lm)
        expect(parseEnc(sealed)?.type).toBe("str")
        expect(decryptValue(sealed, key, lm)).toEqual(str(hex))
        expect(openMac(sealed, key, lm)).toBe(hex)
    })

    test("open normalises lastmodified as sops does", () => {
        expect(macAad("2026-05-22T20:16:23.123456Z")).toBe("2026-05-22T20:16:23Z")
        expect(macAad("2026-05-22T20:16:23+00:00")).toBe("2026-05-22T20:16:23Z")
        expect(macAad("2026-05-22T22:16:23+02:00")).toBe("2026-05-22T22:16:23+02:00")
        const sealed = sealMac(hex, key, "2026-05-22T20:16:23Z")
        expect(openMac(sealed, key, "2026-05-22T20:16:23.5+00:00")).toBe(hex)
        expect(() => openMac(sealed, key, "2026-05-22T20:16:24Z")).toThrow(new IntegrityError("cannot decrypt MAC"))
        expect(() => openMac("garbage", key, "2026-05-22T20:16:23Z")).toThrow(new IntegrityError("cannot decrypt MAC"))
        expect(openMac("", key, "2026-05-22T20:16:23Z")).toBe("")
    })

    test("verifyMac never prints either MAC", () => {
        expect(() => verifyMac(hex, hex)).not.toThrow()
        for (const stored of ["CD".repeat(64), "AB", ""]) {
            try {
                verifyMac(stored, hex)
                expect.unreachable()
            } catch (err) {
                expect(err).toBeInstanceOf(IntegrityError)
                expect((err as IntegrityError).code).toBe(ExitCode.MacMismatch)
                expect((err as Error).message).toMatch(/^MAC mismatch/)
                expect((err as Error).message).not.toContain("ABAB")
                expect((err as Error).message).not.toContain("CDCD")
            }
        }
    })

    test("formatLastModified is whole seconds in UTC", () => {
        expect(formatLastModified(new Date("2026-05-22T20:16:23.987Z"))).toBe("2026-05-22T20:16:23Z")
        expect(formatLastModified(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe("2024-01-02T03:04:05Z")
    })
})
