/**
 * The 3-way merge of encrypted files (src/engine/merge-files.ts), for the git merge
 * driver of issue 15: files made and edited the way `secrets set` does (open,
 * change, seal with the IV stash) under real age keys (one from the Debian
 * age-keygen), merged, then opened again with the MAC checked. The claims: the
 * merged file differs from ours only where theirs changed (plus mac and
 * lastmodified), a key changed on both sides conflicts, and a rotated data key is
 * never undone.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { setAt, unsetAt } from "../../../src/core/tree-path.js"
import { comment, entry, int, list, map, str, type Branch } from "../../../src/core/tree.js"
import { mergeEncryptedFiles, mergeOpenedFiles } from "../../../src/engine/merge-files.js"
import { openEncrypted, recoverFileKey, type OpenedFile } from "../../../src/engine/open.js"
import { rotateDataKey } from "../../../src/engine/rekey.js"
import { encryptNew, seal } from "../../../src/engine/seal.js"
import { IntegrityError } from "../../../src/errors.js"
import { generateX25519Identity, type KeyPair } from "../../../src/keys/age.js"
import { loadStore } from "../../../src/stores/index.js"
import type { Store } from "../../../src/stores/store.js"
import { treeToJs } from "../../helpers/tree-to-js.js"
import { ageKeygen, tempDir } from "../keys/helpers.js"

const T0 = new Date("2026-12-01T10:00:00Z")
const T1 = new Date("2026-12-02T10:00:00Z")
const T2 = new Date("2026-12-03T10:00:00Z")
const MERGED_AT = new Date("2026-12-06T15:00:00Z")

let store: Store
let alice: KeyPair // from age-keygen
let bob: KeyPair

beforeAll(async () => {
    store = await loadStore("yaml")
    bob = await generateX25519Identity()
})

function aliceKey(): KeyPair {
    if (alice === undefined) {
        const k = ageKeygen(tempDir())
        alice = { identity: k.identity, recipient: k.recipient }
    }
    return alice
}

const BASE_TREE: Branch = map(
    entry("user", str("app")),
    comment(" rotated by hand"), // sops encrypts comments: its ENC string must stay too
    entry("password", str("old-password")),
    entry("db", map(entry("host", str("db1.internal")), entry("port", int(5432)))),
    entry("hosts", list(str("web1"), str("web2"))),
    entry("note_unencrypted", str("visible")),
)

async function newBase(): Promise<Uint8Array> {
    const k = aliceKey()
    return encryptNew([BASE_TREE], store, { groups: [[k.recipient, bob.recipient]] }, T0)
}

async function open(bytes: Uint8Array): Promise<OpenedFile> {
    return openEncrypted(bytes, store, [aliceKey().identity]) // MAC verified
}

/** What `secrets set` does: change the tree, seal with the same key and IV stash. */
async function edit(bytes: Uint8Array, change: (b: Branch) => Branch, at: Date): Promise<Uint8Array> {
    const o = await open(bytes)
    return seal([change(o.branches[0]!)], store, o.metadata, o.dataKey, o.stash, at)
}

const set = (path: string[], value: Parameters<typeof setAt>[2]) => (b: Branch) => setAt(b, path, value)

function lines(bytes: Uint8Array): string[] {
    return Buffer.from(bytes).toString("utf8").split("\n")
}

/** The lines of `a` that differ from `b`, with their first word; both must have as many lines. */
function changedLines(a: Uint8Array, b: Uint8Array): string[] {
    const la = lines(a)
    const lb = lines(b)
    expect(la.length).toBe(lb.length)
    return la.flatMap((l, i) => (l === lb[i] ? [] : [l.trim().split(":")[0]!]))
}

async function plain(bytes: Uint8Array): Promise<unknown> {
    return treeToJs((await open(bytes)).branches[0]!)
}

describe("mergeEncryptedFiles", () => {
    it("merges edits to different keys with no conflict; the file differs from ours only at theirs' change, mac and lastmodified", async () => {
        const base = await newBase()
        const ours = await edit(base, set(["password"], str("ours-password")), T1)
        const theirs = await edit(base, set(["db", "host"], str("db2.internal")), T2)
        const r = await mergeEncryptedFiles({ base, ours, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(r.conflicts).toEqual([])
        expect(r.keyFrom).toBe("ours")
        expect(r.base).toBe("opened")
        // Every ENC string theirs did not change is ours' byte for byte (password included:
        // ours' edit; the comment too, which is encrypted).
        expect(Buffer.from(r.output).toString("utf8")).toMatch(/^#ENC\[AES256_GCM,/m)
        expect(changedLines(r.output, ours).sort()).toEqual(["host", "lastmodified", "mac"])
        expect(await plain(r.output)).toEqual({
            user: "app",
            password: "ours-password",
            db: { host: "db2.internal", port: 5432 },
            hosts: ["web1", "web2"],
            note_unencrypted: "visible",
        })
        const opened = await open(r.output) // throws unless the MAC verifies
        expect(opened.metadata.lastModified).toBe("2026-12-06T15:00:00Z")
        expect(opened.metadata.keyGroups).toEqual((await open(ours)).metadata.keyGroups)
        // And the other identity (Bob's, the second recipient) reads it too.
        expect(treeToJs((await openEncrypted(r.output, store, [bob.identity])).branches[0]!)).toEqual(await plain(r.output))
    })

    it("merges a deletion on one side with an addition on the other", async () => {
        const base = await newBase()
        const ours = await edit(base, (b) => unsetAt(b, ["user"])!, T1)
        const theirs = await edit(base, set(["api_token"], str("tok")), T2)
        const r = await mergeEncryptedFiles({ base, ours, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(r.conflicts).toEqual([])
        expect(await plain(r.output)).toMatchObject({ api_token: "tok" })
        expect(await plain(r.output)).not.toHaveProperty("user")
    })

    it("reports a key changed differently on both sides, and still seals a valid file holding ours' value there", async () => {
        const base = await newBase()
        const ours = await edit(await edit(base, set(["password"], str("p-ours")), T1), set(["user"], str("svc")), T1)
        const theirs = await edit(await edit(base, set(["password"], str("p-theirs")), T2), set(["db", "port"], int(6432)), T2)
        const r = await mergeEncryptedFiles({ base, ours, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(r.conflicts).toEqual(['["password"]'])
        const text = Buffer.from(r.output).toString("utf8")
        expect(text).not.toContain("p-ours")
        expect(text).not.toContain("p-theirs")
        expect(await plain(r.output)).toMatchObject({ user: "svc", password: "p-ours", db: { port: 6432 } })
    })

    it("keeps theirs' data key when theirs rotated it since the base: the old key never comes back", async () => {
        const base = await newBase()
        const baseKey = (await open(base)).dataKey
        const ours = await edit(base, set(["password"], str("ours-password")), T1)
        const rotated = await rotateDataKey(await open(base), store, T2)
        const theirs = await edit(rotated.output, set(["db", "host"], str("db2.internal")), T2)
        for (const [o, t] of [
            [ours, theirs],
            [theirs, ours],
        ] as const) {
            const r = await mergeEncryptedFiles({ base, ours: o, theirs: t }, store, [aliceKey().identity], MERGED_AT)
            expect(r.conflicts).toEqual([])
            expect(r.keyFrom).toBe(o === ours ? "theirs" : "ours")
            const merged = await open(r.output)
            expect(merged.dataKey).toEqual(rotated.dataKey)
            expect(merged.dataKey).not.toEqual(baseKey)
            expect(await recoverFileKey(merged.metadata, [bob.identity])).toEqual(rotated.dataKey)
            expect(treeToJs(merged.branches[0]!)).toMatchObject({ password: "ours-password", db: { host: "db2.internal" } })
            // The rotated side's unchanged ENC strings are kept: the file differs from it only where the other side changed.
            expect(changedLines(r.output, theirs).sort()).toEqual(["lastmodified", "mac", "password"])
        }
    })

    it("keeps ours' data key when both sides rotated", async () => {
        const base = await newBase()
        const ours = await rotateDataKey(await open(base), store, T1)
        const theirsRotated = await rotateDataKey(await open(base), store, T2)
        const theirs = await edit(theirsRotated.output, set(["user"], str("svc")), T2)
        const r = await mergeEncryptedFiles({ base, ours: ours.output, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(r.keyFrom).toBe("ours")
        const merged = await open(r.output)
        expect(merged.dataKey).toEqual(ours.dataKey)
        expect(treeToJs(merged.branches[0]!)).toMatchObject({ user: "svc" })
        expect(changedLines(r.output, ours.output).sort()).toEqual(["lastmodified", "mac", "user"])
    })

    it("refuses a side whose MAC does not verify, and merges with an empty base when the base cannot be read", async () => {
        const base = await newBase()
        const ours = await edit(base, set(["password"], str("x")), T1)
        const theirs = await edit(base, set(["user"], str("y")), T2)
        // Theirs with ours' MAC: every value decrypts, the MAC does not match.
        const macLine = lines(ours).find((l) => l.trimStart().startsWith("mac:"))!
        const forged = Buffer.from(lines(theirs).map((l) => (l.trimStart().startsWith("mac:") ? macLine : l)).join("\n"))
        const lmLine = lines(ours).find((l) => l.trimStart().startsWith("lastmodified:"))!
        const forgedBoth = Buffer.from(lines(forged).map((l) => (l.trimStart().startsWith("lastmodified:") ? lmLine : l)).join("\n"))
        await expect(mergeEncryptedFiles({ base, ours, theirs: forgedBoth }, store, [aliceKey().identity], MERGED_AT)).rejects.toBeInstanceOf(IntegrityError)

        // A base encrypted to someone else: merged as empty, so values both sides hold differently conflict.
        const stranger = await generateX25519Identity()
        const foreignBase = await encryptNew([BASE_TREE], store, { groups: [[stranger.recipient]] }, T0)
        const r = await mergeEncryptedFiles({ base: foreignBase, ours, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(r.base).toBe("unreadable")
        expect(r.conflicts.sort()).toEqual(['["password"]', '["user"]'])
        expect(r.rotationUnknown).toBe(false)
        // A base that was still plaintext (the file was encrypted on both branches since).
        const plaintextBase = Buffer.from("user: app\npassword: old-password\n")
        expect((await mergeEncryptedFiles({ base: plaintextBase, ours, theirs }, store, [aliceKey().identity], MERGED_AT)).base).toBe("unreadable")
        const absent = await mergeEncryptedFiles({ base: new Uint8Array(0), ours, theirs }, store, [aliceKey().identity], MERGED_AT)
        expect(absent.base).toBe("absent")
    })
})

describe("mergeOpenedFiles", () => {
    it("keeps ours' key without a base, and says the rotation is unknown when the keys differ", async () => {
        const base = await newBase()
        const ours = await open(await edit(base, set(["user"], str("a")), T1))
        const theirs = await open((await rotateDataKey(await open(base), store, T2)).output)
        const r = mergeOpenedFiles({ base: undefined, ours, theirs }, store, MERGED_AT)
        expect(r.keyFrom).toBe("ours")
        expect(r.rotationUnknown).toBe(true)
        expect((await open(r.output)).dataKey).toEqual(ours.dataKey)
    })
})

describe("mergeEncryptedFiles in the other formats", () => {
    const cases: [string, Branch][] = [
        ["json", map(entry("a", str("1")), entry("b", str("2")), entry("c", map(entry("d", str("3")))))],
        ["dotenv", map(entry("A", str("1")), entry("B", str("2")), entry("C", str("3")))],
        ["ini", map(entry("sec", map(entry("a", str("1")), entry("b", str("2")))), entry("other", map(entry("c", str("3")))))],
    ]
    for (const [format, tree] of cases) {
        it(`${format}: merges disjoint edits keeping ours' other ENC strings, and conflicts on a shared one`, async () => {
            const st = await loadStore(format as "json")
            const k = aliceKey()
            const ids = [k.identity]
            const reopen = (b: Uint8Array) => openEncrypted(b, st, ids)
            const change = async (b: Uint8Array, path: string[], v: string, at: Date) => {
                const o = await reopen(b)
                return seal([setAt(o.branches[0]!, path, str(v))], st, o.metadata, o.dataKey, o.stash, at)
            }
            const leaves = format === "dotenv" ? [["A"], ["C"]] : format === "ini" ? [["sec", "a"], ["other", "c"]] : [["a"], ["c", "d"]]
            const base = await encryptNew([tree], st, { groups: [[k.recipient]] }, T0)
            const ours = await change(base, leaves[0]!, "ours", T1)
            const theirs = await change(base, leaves[1]!, "theirs", T2)
            const r = await mergeEncryptedFiles({ base, ours, theirs }, st, ids, MERGED_AT)
            expect(r.conflicts).toEqual([])
            const merged = await reopen(r.output)
            const js = treeToJs(merged.branches[0]!) as Record<string, unknown>
            expect(JSON.stringify(js)).toContain('"ours"')
            expect(JSON.stringify(js)).toContain('"theirs"')
            // Only theirs' value, the MAC and lastmodified differ from ours (dotenv and INI flatten the sops block).
            expect(changedLines(r.output, ours).length).toBe(3)
            const clash = await change(base, leaves[0]!, "other", T2)
            expect((await mergeEncryptedFiles({ base, ours, theirs: clash }, st, ids, MERGED_AT)).conflicts).toEqual([
                leaves[0]!.map((s) => `["${s}"]`).join(""),
            ])
        })
    }

    it("binary: the one value merges as a whole", async () => {
        const st = await loadStore("binary")
        const k = aliceKey()
        const ids = [k.identity]
        const withData = async (b: Uint8Array, text: string, at: Date) => {
            const o = await openEncrypted(b, st, ids)
            return seal([map(entry("data", str(text)))], st, o.metadata, o.dataKey, o.stash, at)
        }
        const base = await encryptNew([map(entry("data", str("base\n")))], st, { groups: [[k.recipient]] }, T0)
        const ours = await withData(base, "ours\n", T1)
        const one = await mergeEncryptedFiles({ base, ours, theirs: base }, st, ids, MERGED_AT)
        expect(one.conflicts).toEqual([])
        expect(Buffer.from(st.emitPlain((await openEncrypted(one.output, st, ids)).branches)).toString()).toBe("ours\n")
        const both = await mergeEncryptedFiles({ base, ours, theirs: await withData(base, "theirs\n", T2) }, st, ids, MERGED_AT)
        expect(both.conflicts).toEqual(['["data"]'])
    })
})
