/**
 * rekey: re-wrapping the same data key for new groups (updatekeys, groups) and
 * rotating to a new one, with real age keys (typage), Shamir splits and the
 * sops-nix vector's PGP keys.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { ForeignKey, KeyGroup, Metadata } from "../../../src/core/metadata.js"
import { entry, map, str } from "../../../src/core/tree.js"
import { decryptWithDataKey, openEncrypted, recoverFileKey } from "../../../src/engine/open.js"
import { diffGroups, hasChanges, rewrapGroups, rotateDataKey } from "../../../src/engine/rekey.js"
import { encryptNew, wrapGroups } from "../../../src/engine/seal.js"
import { NoIdentityError, SecretsError } from "../../../src/errors.js"
import { generateX25519Identity, unwrapDataKey, type KeyPair } from "../../../src/keys/age.js"
import { metadataFromTree } from "../../../src/stores/metadata.js"
import { loadStore } from "../../../src/stores/index.js"

const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1)
const FIXTURES = join(import.meta.dirname, "../../fixtures/interop")

async function pairs(n: number): Promise<KeyPair[]> {
    return Promise.all(Array.from({ length: n }, () => generateX25519Identity()))
}

async function metadataFor(groups: string[][], threshold = 0): Promise<Metadata> {
    const { splitForGroups } = await import("../../../src/core/datakey.js")
    return {
        keyGroups: await wrapGroups(groups, await splitForGroups(KEY, groups.length, threshold)),
        shamirThreshold: threshold,
        lastModified: "2024-01-01T00:00:00Z",
        mac: "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
        rule: { unencryptedSuffix: "_unencrypted" },
        macOnlyEncrypted: false,
        version: "3.13.2",
    }
}

const PGP: ForeignKey = {
    type: "pgp",
    fields: map(entry("fp", str("ABCDEF"))),
}

function encOf(group: KeyGroup | undefined, recipient: string): string | undefined {
    const k = group?.find((m) => m.type === "age" && m.recipient === recipient)
    return k?.type === "age" ? k.enc : undefined
}

async function recoverWith(md: Metadata, ids: KeyPair[]): Promise<Uint8Array> {
    return recoverFileKey(md, ids.map((p) => p.identity))
}

describe("diffGroups", () => {
    it("lists added and removed age recipients per group index, foreign keys ignored", async () => {
        const [a, b, c] = await pairs(3)
        const md = await metadataFor([[a!.recipient, b!.recipient]])
        const current: KeyGroup[] = [[PGP, ...md.keyGroups[0]!]]
        expect(diffGroups(current, [[b!.recipient, c!.recipient], [a!.recipient]])).toEqual([
            { group: 0, added: [c!.recipient], removed: [a!.recipient] },
            { group: 1, added: [a!.recipient], removed: [] },
        ])
        expect(hasChanges(diffGroups(current, [[b!.recipient, a!.recipient]]))).toBe(false)
        expect(diffGroups(md.keyGroups, [])).toEqual([{ group: 0, added: [], removed: [a!.recipient, b!.recipient] }])
    })
})

describe("rewrapGroups, one group", () => {
    it("keeps the enc block of every staying recipient byte for byte and wraps the same key for a new one", async () => {
        const [a, b, c] = await pairs(3)
        const md = await metadataFor([[a!.recipient, b!.recipient]])
        const r = await rewrapGroups(md, KEY, [[c!.recipient, a!.recipient, b!.recipient]], 0)
        expect(r.resplit).toBe(false)
        expect(r.diff).toEqual([{ group: 0, added: [c!.recipient], removed: [] }])
        const g = r.metadata.keyGroups[0]!
        // Kept ones first in file order, then the new one: the smallest diff.
        expect(g.map((k) => (k.type === "age" ? k.recipient : k.type))).toEqual([a!.recipient, b!.recipient, c!.recipient])
        expect(encOf(g, a!.recipient)).toBe(encOf(md.keyGroups[0], a!.recipient))
        expect(encOf(g, b!.recipient)).toBe(encOf(md.keyGroups[0], b!.recipient))
        expect(await unwrapDataKey(encOf(g, c!.recipient)!, [c!.identity])).toEqual(KEY)
        expect({ ...r.metadata, keyGroups: [] }).toEqual({ ...md, keyGroups: [] })
    })

    it("removing a recipient drops only its block", async () => {
        const [a, b] = await pairs(2)
        const md = await metadataFor([[a!.recipient, b!.recipient]])
        const r = await rewrapGroups(md, KEY, [[a!.recipient]], 0)
        expect(r.diff).toEqual([{ group: 0, added: [], removed: [b!.recipient] }])
        expect(r.metadata.keyGroups).toEqual([[md.keyGroups[0]![0]]])
        await expect(recoverWith(r.metadata, [b!])).rejects.toBeInstanceOf(NoIdentityError)
        expect(await recoverWith(r.metadata, [a!])).toEqual(KEY)
    })

    it("keeps foreign keys in their group while age recipients change", async () => {
        const [a, b] = await pairs(2)
        const md0 = await metadataFor([[a!.recipient]])
        const md = { ...md0, keyGroups: [[PGP, ...md0.keyGroups[0]!]] }
        const r = await rewrapGroups(md, KEY, [[b!.recipient]], 0)
        expect(r.metadata.keyGroups[0]![0]).toBe(PGP)
        expect(r.metadata.keyGroups[0]!.map((k) => k.type)).toEqual(["pgp", "age"])
        expect(await recoverWith(r.metadata, [b!])).toEqual(KEY)
    })

    it("refuses to split a file with foreign keys, or to drop a group that holds them", async () => {
        const [a, b] = await pairs(2)
        const md0 = await metadataFor([[a!.recipient]])
        const md = { ...md0, keyGroups: [[PGP, ...md0.keyGroups[0]!]] }
        const split = rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient]], 2)
        await expect(split).rejects.toThrow(
            "cannot change the keys: the data key would have to be split again for the new key groups, and the file also has pgp keys that secrets cannot encrypt to",
        )
        const two = await metadataFor([[a!.recipient], [b!.recipient]])
        const withPgp = { ...two, keyGroups: [two.keyGroups[0]!, [PGP, ...two.keyGroups[1]!]] }
        await expect(rewrapGroups(withPgp, KEY, [[a!.recipient]], 0)).rejects.toThrow("key group 1 would be removed with its pgp keys")
    })

    it("refuses a layout nobody could open", async () => {
        const [a, b] = await pairs(2)
        const md = await metadataFor([[a!.recipient]])
        await expect(rewrapGroups(md, KEY, [[]], 0)).rejects.toThrow("no recipient would be left to decrypt the file")
        await expect(rewrapGroups(md, KEY, [], 0)).rejects.toThrow("no recipient would be left to decrypt the file")
        await expect(rewrapGroups(md, KEY, [[a!.recipient], []], 0)).rejects.toThrow("key group 1 would have no keys")
        await expect(rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient]], 3)).rejects.toThrow(
            "the Shamir threshold 3 cannot be met with 2 key groups",
        )
        await expect(rewrapGroups(md, KEY, [[a!.recipient]], 2)).rejects.toThrow("the Shamir threshold 2 cannot be met with 1 key group")
        await expect(rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient]], 1)).rejects.toThrow(
            "the Shamir threshold must be at least 2 with several key groups",
        )
    })
})

describe("rewrapGroups, Shamir", () => {
    it("one group -> three groups 2-of-3: re-split, any two groups open the same key, one does not", async () => {
        const [a, b, c] = await pairs(3)
        const md = await metadataFor([[a!.recipient]])
        const r = await rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient], [c!.recipient]], 2)
        expect(r.resplit).toBe(true)
        expect(r.metadata.shamirThreshold).toBe(2)
        // The kept recipient's block is new: it now wraps a share, not the key.
        expect(encOf(r.metadata.keyGroups[0], a!.recipient)).not.toBe(encOf(md.keyGroups[0], a!.recipient))
        expect((await unwrapDataKey(encOf(r.metadata.keyGroups[0], a!.recipient)!, [a!.identity]))!.length).toBe(33)
        for (const two of [[a!, b!], [a!, c!], [b!, c!]]) expect(await recoverWith(r.metadata, two)).toEqual(KEY)
        for (const one of [a!, b!, c!]) await expect(recoverWith(r.metadata, [one])).rejects.toThrow("1 of 3 key groups opened, 2 needed")
    })

    it("a new split with threshold 0 writes the group count, as sops does", async () => {
        const [a, b] = await pairs(2)
        const md = await metadataFor([[a!.recipient]])
        const r = await rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient]], 0)
        expect(r.metadata.shamirThreshold).toBe(2)
        await expect(recoverWith(r.metadata, [a!])).rejects.toThrow("1 of 2 key groups opened, 2 needed")
        expect(await recoverWith(r.metadata, [a!, b!])).toEqual(KEY)
    })

    it("adding a recipient to one of several groups re-splits every group", async () => {
        const [a, b, c, d] = await pairs(4)
        const md = await metadataFor([[a!.recipient], [b!.recipient], [c!.recipient]], 2)
        const r = await rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient, d!.recipient], [c!.recipient]], 2)
        expect(r.resplit).toBe(true)
        for (const [i, p] of [a!, b!, c!].entries()) {
            expect(encOf(r.metadata.keyGroups[i], p.recipient)).not.toBe(encOf(md.keyGroups[i], p.recipient))
        }
        expect(await recoverWith(r.metadata, [a!, d!])).toEqual(KEY)
        // Mixing an old share with a new one yields no key: the old blocks are useless.
        const mixed = { ...r.metadata, keyGroups: [md.keyGroups[0]!, r.metadata.keyGroups[1]!, [] as KeyGroup] }
        expect(await recoverWith(mixed, [a!, d!]).catch(() => null)).not.toEqual(KEY)
    })

    it("removal only, same groups and threshold: blocks kept, no re-split", async () => {
        const [a, b, c, d] = await pairs(4)
        const md = await metadataFor([[a!.recipient, d!.recipient], [b!.recipient], [c!.recipient]], 2)
        const r = await rewrapGroups(md, KEY, [[a!.recipient], [b!.recipient], [c!.recipient]], 2)
        expect(r.resplit).toBe(false)
        expect(r.metadata.keyGroups).toEqual([[md.keyGroups[0]![0]], md.keyGroups[1], md.keyGroups[2]])
        expect(await recoverWith(r.metadata, [b!, c!])).toEqual(KEY)
    })

    it("three groups -> two (groups delete): re-split with the new threshold", async () => {
        const [a, b, c] = await pairs(3)
        const md = await metadataFor([[a!.recipient], [b!.recipient], [c!.recipient]], 2)
        const r = await rewrapGroups(md, KEY, [[a!.recipient], [c!.recipient]], 2)
        expect(r.resplit).toBe(true)
        expect(r.diff).toEqual([
            { group: 0, added: [], removed: [] },
            { group: 1, added: [c!.recipient], removed: [b!.recipient] },
            { group: 2, added: [], removed: [c!.recipient] },
        ])
        expect(await recoverWith(r.metadata, [a!, c!])).toEqual(KEY)
        await expect(recoverWith(r.metadata, [a!, b!])).rejects.toBeInstanceOf(NoIdentityError)
        // Back to one group: the single group wraps the key itself again.
        const one = await rewrapGroups(r.metadata, KEY, [[a!.recipient]], 0)
        expect(await unwrapDataKey(encOf(one.metadata.keyGroups[0], a!.recipient)!, [a!.identity])).toEqual(KEY)
    })
})

describe("rotateDataKey", () => {
    const PLAIN = "db:\n    user: admin\n    password: hunter2\nport: 5432\nlist:\n    - one\n    - two\n"

    it("new key, every value re-encrypted, add to group 0 and remove everywhere, version kept", async () => {
        const [a, b, c] = await pairs(3)
        const store = await loadStore("yaml")
        const file = await encryptNew(store.parsePlain(Buffer.from(PLAIN)), store, { groups: [[a!.recipient, b!.recipient]] }, new Date("2024-01-01T00:00:00Z"))
        const opened = await openEncrypted(file, store, [a!.identity])
        const old = { ...opened, metadata: { ...opened.metadata, version: "3.9.0" } }
        const rotated = await rotateDataKey(old, store, new Date("2025-02-03T04:05:06Z"), { add: [c!.recipient], remove: [b!.recipient] })
        expect(rotated.dataKey).not.toEqual(opened.dataKey)
        expect(rotated.diff).toEqual([{ group: 0, added: [c!.recipient], removed: [b!.recipient] }])
        const text = Buffer.from(rotated.output).toString()
        const encs = (s: string) => s.match(/ENC\[[^\]]*\]/g) ?? []
        const before = encs(Buffer.from(file).toString())
        expect(encs(text)).toHaveLength(before.length)
        for (const e of encs(text)) expect(before).not.toContain(e)
        expect(text).toContain('lastmodified: "2025-02-03T04:05:06Z"')
        expect(text).toContain("version: 3.9.0")

        const reopened = await openEncrypted(rotated.output, store, [c!.identity])
        expect(Buffer.from(store.emitPlain(reopened.branches)).toString()).toBe(PLAIN)
        expect(reopened.dataKey).toEqual(rotated.dataKey)
        await expect(openEncrypted(rotated.output, store, [b!.identity])).rejects.toBeInstanceOf(NoIdentityError)
    })

    it("keeps the Shamir layout: 2-of-3 groups after rotation", async () => {
        const [a, b, c] = await pairs(3)
        const store = await loadStore("json")
        const plan = { groups: [[a!.recipient], [b!.recipient], [c!.recipient]], shamirThreshold: 2 }
        const file = await encryptNew(store.parsePlain(Buffer.from('{"k": "v"}')), store, plan, new Date())
        const opened = await openEncrypted(file, store, [a!.identity, b!.identity])
        const rotated = await rotateDataKey(opened, store, new Date())
        expect(rotated.metadata.shamirThreshold).toBe(2)
        for (const two of [[b!, c!], [a!, c!]]) {
            const o = await openEncrypted(rotated.output, store, two.map((p) => p.identity))
            expect(o.dataKey).toEqual(rotated.dataKey)
        }
        await expect(openEncrypted(rotated.output, store, [c!.identity])).rejects.toBeInstanceOf(NoIdentityError)
    })

    it("refuses when nothing would be left, and on a file with PGP keys (sops-nix vector)", async () => {
        const [a] = await pairs(1)
        const store = await loadStore("yaml")
        const file = await encryptNew(store.parsePlain(Buffer.from(PLAIN)), store, { groups: [[a!.recipient]] }, new Date())
        const opened = await openEncrypted(file, store, [a!.identity])
        await expect(rotateDataKey(opened, store, new Date(), { remove: [a!.recipient] })).rejects.toThrow(
            "no recipient would be left to decrypt the file",
        )

        const nix = readFileSync(join(FIXTURES, "sops-nix/HEAD/secrets.yaml"))
        const keys = JSON.parse(readFileSync(join(FIXTURES, "_derived/datakeys.json"), "utf8")) as Record<string, { datakey_hex: string }>
        const doc = store.parseEncrypted(nix)
        const md = metadataFromTree(doc.metadata)
        const nixOpened = decryptWithDataKey(doc.branches, md, Buffer.from(keys["sops-nix/HEAD/secrets.yaml"]!.datakey_hex, "hex"), false)
        const err = await rotateDataKey(nixOpened, store, new Date()).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).message).toBe("cannot rotate the data key: the file also has pgp keys, which secrets cannot encrypt to")
        expect((err as SecretsError).hints[0]).toContain("rotate with sops")
    })
})
