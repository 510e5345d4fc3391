/**
 * The YAML store's parseEncrypted reads a file in the emitter's own shape with the
 * canonical reader (src/stores/yaml-canonical.ts) and never the `yaml` package
 * (issue 14 target 2). This holds a whole decrypt through it to the general path:
 * for random trees of every scalar type the format types (int, float, bool, str,
 * null, multi-line and unicode strings), encrypted for real, the document, the
 * decrypted tree and the plaintext bytes are the same whichever reader parsed the
 * file, and the same as the plaintext emitted before encrypting. Files outside the
 * canonical shape (comments, odd keys) take the general path.
 */
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"

import type { ListItem, MapItem, Node } from "../../../src/core/tree.js"
import { openDocument } from "../../../src/engine/open.js"
import { encryptNew } from "../../../src/engine/seal.js"
import { generateX25519Identity, type KeyPair } from "../../../src/keys/age.js"
import { readCanonical } from "../../../src/stores/yaml-canonical.js"
import { createYamlStore, parseEncryptedYaml } from "../../../src/stores/yaml.js"
import { tree } from "../yaml/oracle-generators.js"

const enc = new TextEncoder()
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const entry = (key: string, value: Node): MapItem => ({ kind: "entry", key, value })

/** Strings of every kind: words, YAML-looking words, multi-line, unicode (astral too), control characters. */
const text = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9 ._-]{0,10}$/),
    fc.constantFrom("", "true", "no", "null", "~", "123", "0x1F", "1.5", ".inf", "2030-01-01", "a: b", "- x", "#x", "x #y", "'q'", '"d"'),
    fc.constantFrom("line one\nline two\n", "a\nb", "a\n\nb\n", "\nlead", "trail\n\n", " x\n y", "tab\tin", "\u0085", "é\nü\n"),
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 8 }),
)
const scalar: fc.Arbitrary<Node> = fc.oneof(
    text.map((value): Node => ({ kind: "str", value })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Node => ({ kind: "int", value })),
    fc.double().map((value): Node => ({ kind: "float", value })),
    fc.boolean().map((value): Node => ({ kind: "bool", value })),
    fc.constant<Node>({ kind: "null" }),
)
/** Mostly keys the emitter writes plain; sometimes one it quotes (that file takes the general path). */
const key = fc.oneof(
    { weight: 29, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).filter((k) => k !== "sops") },
    { weight: 1, arbitrary: fc.constantFrom("é", "a b", "yes", "1", "x_unencrypted") },
)
const { map } = fc.letrec<{ node: Node; map: Node; list: Node }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("map"), tie("list")),
    map: fc
        .uniqueArray(fc.tuple(key, tie("node")), { minLength: 1, maxLength: 4, selector: ([k]) => k })
        .map((es): Node => ({ kind: "map", items: es.map(([k, v]) => entry(k, v)) })),
    list: fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((items): Node => ({ kind: "list", items: items as ListItem[] })),
}))

/**
 * Whether `node` holds, in clear (under an `_unencrypted` key), a multi-line string
 * that starts with a space or a line break. go-yaml writes such a string in a list
 * item as a block scalar it cannot read back, and so do we (docs/format.md, "a flaw
 * we share with sops"): neither reader can open that file, which is not what this
 * test is about.
 */
function clearUnreadableBlock(node: Node, clear = false): boolean {
    if (node.kind === "str") return clear && node.value.includes("\n") && /^[ \n]/.test(node.value)
    if (node.kind === "map") return node.items.some((i) => i.kind === "entry" && clearUnreadableBlock(i.value, clear || i.key.endsWith("_unencrypted")))
    if (node.kind === "list") return node.items.some((i) => i.kind !== "comment" && clearUnreadableBlock(i as Node, clear))
    return false
}

let pair: KeyPair
beforeAll(async () => {
    pair = await generateX25519Identity()
})

/**
 * Encrypt `items`, decrypt the file through the store and through the general
 * parser; both must give the same document, tree and plaintext, and the plaintext
 * must be what the store emitted for `items` before encrypting. True when the
 * canonical reader took the file.
 */
async function decryptBothWays(items: MapItem[]): Promise<boolean> {
    const store = createYamlStore()
    const plainBefore = dec(store.emitPlain([{ kind: "map", items }]))
    const file = await encryptNew([{ kind: "map", items }], store, { groups: [[pair.recipient]] }, new Date("2030-01-01T00:00:00Z"))
    const canonical = readCanonical(dec(file), 4) !== undefined

    const docStore = store.parseEncrypted(file)
    const docGeneral = parseEncryptedYaml(dec(file))
    expect(docStore).toEqual(docGeneral)
    const openedStore = await openDocument(docStore, store, [pair.identity])
    const openedGeneral = await openDocument(docGeneral, store, [pair.identity])
    expect(openedStore.branches).toEqual(openedGeneral.branches)
    const out = dec(store.emitPlain(openedStore.branches))
    expect(out).toBe(dec(store.emitPlain(openedGeneral.branches)))
    expect(out).toBe(plainBefore)
    return canonical
}

describe("YAML decrypt through the canonical reader", () => {
    it("gives the general path's document and plaintext for random trees of every scalar type (property)", async () => {
        let canonical = 0
        let runs = 0
        await fc.assert(
            fc.asyncProperty(map.filter((m) => !clearUnreadableBlock(m)), async (m) => {
                runs++
                if (await decryptBothWays((m as { items: MapItem[] }).items)) canonical++
            }),
            { numRuns: 120 },
        )
        // Most of these files are in the emitter's shape: else the fast path was never tested.
        expect(canonical).toBeGreaterThan(runs / 2)
    }, 120_000)

    it("the oracle's trees (comments, timestamps, any keys): same document and plaintext either way (property)", async () => {
        await fc.assert(
            fc.asyncProperty(tree.filter((t) => t.kind === "map" && t.items.some((i) => i.kind === "entry")), async (t) => {
                const store = createYamlStore()
                const items = (t as { items: MapItem[] }).items
                let file: Uint8Array
                try {
                    file = await encryptNew(store.parsePlain(store.emitPlain([{ kind: "map", items }])), store, { groups: [[pair.recipient]] }, new Date("2030-01-01T00:00:00Z"))
                } catch {
                    return // a tree the format cannot hold (the encrypt path's own tests cover those)
                }
                const docStore = store.parseEncrypted(file)
                expect(docStore).toEqual(parseEncryptedYaml(dec(file)))
                const opened = await openDocument(docStore, store, [pair.identity])
                const general = await openDocument(parseEncryptedYaml(dec(file)), store, [pair.identity])
                expect(dec(store.emitPlain(opened.branches))).toBe(dec(store.emitPlain(general.branches)))
            }),
            { numRuns: 60 },
        )
    }, 120_000)

    it("a file with a comment, a file at another indentation: not canonical, read by the general path to the same plaintext", async () => {
        const store = createYamlStore()
        const plain = "db:\n    user: admin\n    port: 5432\n    ratio: 1.5\nlist:\n    - true\n    - null\n    - |\n        two\n        lines\n"
        const branches = store.parsePlain(enc.encode(plain))
        const emitted = dec(store.emitPlain(branches))
        const file = dec(await encryptNew(branches, store, { groups: [[pair.recipient]] }, new Date("2030-01-01T00:00:00Z")))
        expect(readCanonical(file, 4)).toBeDefined()
        for (const variant of [`# a comment\n${file}`, dec(createYamlStore({ indent: 2 }).emitEncrypted(store.parseEncrypted(enc.encode(file))))]) {
            expect(readCanonical(variant, 4)).toBeUndefined()
            const doc = store.parseEncrypted(enc.encode(variant))
            expect(doc).toEqual(parseEncryptedYaml(variant))
            const opened = await openDocument(doc, store, [pair.identity])
            expect(dec(store.emitPlain(opened.branches))).toBe(variant.startsWith("#") ? `# a comment\n${emitted}` : emitted)
        }
    })
})
