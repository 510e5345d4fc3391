import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    combineParts,
    DATA_KEY_SIZE,
    newDataKey,
    recoverDataKey,
    sortByDecryptionOrder,
    splitForGroups,
    type TryUnwrap,
} from "../../../src/core/datakey.js"
import type { KeyGroup, MasterKey } from "../../../src/core/metadata.js"
import { combineShares, splitSecret } from "../../../src/core/shamir.js"
import { entry, map, str } from "../../../src/core/tree.js"
import { ExitCode, FormatError, NoIdentityError, SecretsError } from "../../../src/errors.js"
import { INTEROP } from "./vectors.js"

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

describe("shamir", () => {
    test("split/combine round trip for any threshold-sized subset (property)", async () => {
        await fc.assert(
            fc.asyncProperty(
                fc.uint8Array({ minLength: 1, maxLength: 48 }),
                fc.integer({ min: 2, max: 8 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }))),
                fc.integer({ min: 0, max: 1000 }),
                async (secret, [n, t], seed) => {
                    const shares = await splitSecret(secret, n, t)
                    expect(shares).toHaveLength(n)
                    for (const s of shares) expect(s.length).toBe(secret.length + 1)
                    expect(new Set(shares.map((s) => s[secret.length])).size).toBe(n)
                    // A rotating window of t shares.
                    const pick = Array.from({ length: t }, (_, i) => shares[(seed + i) % n]!)
                    expect(hex(await combineShares(pick))).toBe(hex(secret))
                },
            ),
            { numRuns: 60 },
        )
    })

    test("fewer than threshold shares give a different secret", async () => {
        const secret = newDataKey()
        const shares = await splitSecret(secret, 3, 3)
        expect(hex(await combineShares(shares.slice(0, 2)))).not.toBe(hex(secret))
    })

    test("sops' bounds", async () => {
        const s = new Uint8Array(32)
        await expect(splitSecret(s, 2, 3)).rejects.toThrow(new FormatError("parts cannot be less than threshold"))
        await expect(splitSecret(s, 256, 2)).rejects.toThrow(new FormatError("parts cannot exceed 255"))
        await expect(splitSecret(s, 3, 1)).rejects.toThrow(new FormatError("threshold must be at least 2"))
        await expect(splitSecret(new Uint8Array(), 3, 2)).rejects.toThrow(new FormatError("cannot split an empty secret"))
        expect((await splitSecret(s, 255, 255)).length).toBe(255)
    })

    test("combine rejects <2 parts, unequal lengths, duplicate x", async () => {
        const [a, b] = await splitSecret(new Uint8Array(32).fill(1), 2, 2)
        await expect(combineShares([a!])).rejects.toThrow(FormatError)
        await expect(combineShares([a!, b!.subarray(1)])).rejects.toThrow(new FormatError("all parts must be the same length"))
        await expect(combineShares([a!, a!])).rejects.toThrow(new FormatError("duplicate part detected"))
        await expect(combineShares([Buffer.from(a!), Buffer.from(b!)])).resolves.toEqual(new Uint8Array(32).fill(1))
    })

    test("a real sops share (kartverket sopsFileWithShamir2.yaml, group 0) has the Vault layout", () => {
        const text = readFileSync(join(INTEROP, "kartverket-risc-backend/sopsFileWithShamir2.yaml"), "utf8")
        const armor = /-----BEGIN AGE ENCRYPTED FILE-----[^]*?-----END AGE ENCRYPTED FILE-----/.exec(text)?.[0]
        expect(armor).toBeDefined()
        const clean = armor!.split("\n").map((l) => l.trim()).join("\n") + "\n"
        const share = new Uint8Array(
            execFileSync("age", ["-d", "-i", join(INTEROP, "kartverket-risc-backend/keys.txt")], { input: clean }),
        )
        // 32 y bytes, then the x coordinate. sops (like Vault) draws x from a random
        // permutation of 1..255, so it is not the group index + 1: here it is 0x60.
        expect(share.length).toBe(33)
        expect(share[32]).toBe(0x60)
        expect(hex(share)).toBe("9366193a7b00420dc1dff49f687e614be2326fb8e89495e7ef959689cdbcdc1460")
    })
})

const age = (recipient: string): MasterKey => ({ type: "age", recipient, enc: `enc-${recipient}` })
const foreign = (type: "pgp" | "kms", id: string): MasterKey => ({ type, fields: map(entry("id", str(id))) })
const pgp = (id: string): MasterKey => foreign("pgp", id)
const kms = (id: string): MasterKey => foreign("kms", id)
const idOf = (k: MasterKey): string => {
    if (k.type === "age") return k.recipient
    const first = k.fields.items[0]
    return first?.kind === "entry" && first.value.kind === "str" ? first.value.value : ""
}

describe("data key groups", () => {
    test("newDataKey is 32 random bytes", () => {
        const a = newDataKey()
        expect(a.length).toBe(DATA_KEY_SIZE)
        expect(hex(a)).not.toBe(hex(newDataKey()))
    })

    test("one group gets the key itself; N groups get shares", async () => {
        const key = newDataKey()
        expect(await splitForGroups(key, 1, 0)).toEqual([key])
        const parts = await splitForGroups(key, 3, 0)
        expect(parts.map((p) => p.length)).toEqual([33, 33, 33])
        expect(hex(await combineParts(parts, 0, 3))).toBe(hex(key))
        const two = await splitForGroups(key, 3, 2)
        expect(hex(await combineParts([two[2]!, two[0]!], 2, 3))).toBe(hex(key))
        await expect(combineParts([two[1]!], 2, 3)).rejects.toThrow(NoIdentityError)
        await expect(splitForGroups(key, 0, 0)).rejects.toThrow(FormatError)
        await expect(splitForGroups(key, 2, 3)).rejects.toThrow(FormatError)
    })

    test("decryption order: age, pgp, then the rest in file order; duplicates are exit 112", () => {
        const group: KeyGroup = [kms("k1"), pgp("p1"), age("a1"), kms("k2"), age("a2")]
        expect(sortByDecryptionOrder(group).map(idOf)).toEqual(["a1", "a2", "p1", "k1", "k2"])
        expect(sortByDecryptionOrder(group, ["kms"]).map(idOf)).toEqual(["k1", "k2", "p1", "a1", "a2"])
        expect(sortByDecryptionOrder(group, []).map(idOf)).toEqual(["k1", "p1", "a1", "k2", "a2"])
        try {
            sortByDecryptionOrder(group, ["age", "pgp", "age"])
            expect.unreachable()
        } catch (e) {
            expect(e).toBeInstanceOf(SecretsError)
            expect((e as SecretsError).code).toBe(ExitCode.DuplicateDecryptionKeyType)
        }
    })

    test("recover from one group: tries keys in order, stops at the first that opens", async () => {
        const key = newDataKey()
        const tried: string[] = []
        const unwrap: TryUnwrap = async (k) => {
            tried.push(idOf(k))
            return idOf(k) === "a2" ? key : null
        }
        const got = await recoverDataKey([[pgp("p1"), age("a1"), age("a2"), age("a3")]], 0, unwrap)
        expect(hex(got)).toBe(hex(key))
        expect(tried).toEqual(["a1", "a2"])
    })

    test("recover across Shamir groups with a threshold, skipping groups we cannot open", async () => {
        const key = newDataKey()
        const parts = await splitForGroups(key, 3, 2)
        const groups: KeyGroup[] = [[age("g0")], [age("g1")], [age("g2")]]
        const tried: number[] = []
        const unwrap: TryUnwrap = async (_k, i) => {
            tried.push(i)
            return i === 0 ? null : parts[i]!
        }
        expect(hex(await recoverDataKey(groups, 2, unwrap))).toBe(hex(key))
        expect(tried).toEqual([0, 1, 2])
    })

    test("too few groups opened is NoIdentityError (exit 128) with counts, thrown errors as hints", async () => {
        const groups: KeyGroup[] = [[age("g0")], [age("g1")], [age("g2")]]
        const unwrap: TryUnwrap = async (k, i) => {
            if (i === 1) throw new FormatError(`age stanza for ${idOf(k)} is malformed`)
            return i === 0 ? new Uint8Array(33).fill(1) : null
        }
        try {
            await recoverDataKey(groups, 3, unwrap)
            expect.unreachable()
        } catch (e) {
            expect(e).toBeInstanceOf(NoIdentityError)
            expect((e as NoIdentityError).code).toBe(ExitCode.CouldNotRetrieveKey)
            expect((e as Error).message).toBe("could not recover the data key: 1 of 3 key groups opened, 3 needed")
            expect((e as NoIdentityError).hints).toEqual(["age stanza for g1 is malformed"])
        }
        await expect(recoverDataKey([[age("only")]], 0, async () => null)).rejects.toThrow(
            new NoIdentityError("could not recover the data key: the key group could not be opened"),
        )
    })

    test("non-SecretsError failures propagate", async () => {
        await expect(
            recoverDataKey([[age("x")]], 0, async () => {
                throw new TypeError("bug")
            }),
        ).rejects.toThrow(TypeError)
    })
})
