/**
 * The canonical-YAML fast path of fleet re-keys (src/stores/yaml-canonical.ts)
 * against the YAML store's general parser and emitter, byte for byte:
 * - whatever it writes is what the store's emitter writes for the same tree;
 * - whatever text it accepts, it reads as the store's parseEncrypted does, and the
 *   values part followed by new metadata is exactly emitEncrypted's output;
 * - on the trees sops files are made of it does accept the emitter's text (else
 *   the fast path would silently never run);
 * - non-canonical inputs (comments, other styles, indentation, CRLF, several
 *   documents, mutated canonical text) are either refused or read exactly.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { encryptNew } from "../../../src/engine/seal.js"
import type { ListItem, MapItem, Mapping, Node } from "../../../src/core/tree.js"
import { emitCanonical, readCanonical, withCanonicalMetadata } from "../../../src/stores/yaml-canonical.js"
import type { EncryptedDocument } from "../../../src/stores/store.js"
import { stringStyle } from "../../../src/stores/yaml-events.js"
import { parseYaml } from "../../../src/stores/yaml-parse.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { documentText, tree } from "../yaml/oracle-generators.js"

const enc = new TextEncoder()
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const entry = (key: string, value: Node): MapItem => ({ kind: "entry", key, value })
const s = (value: string): Node => ({ kind: "str", value })

const b64 = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("base64"))
const encValue = fc
    .tuple(b64(0, 40), b64(32, 32), b64(16, 16), fc.constantFrom("str", "int", "float", "bool", "comment"))
    .map(([d, iv, tag, type]) => `ENC[AES256_GCM,data:${d},iv:${iv},tag:${tag},type:${type}]`)
/** An armored age file as sops stores it: 64-column base64 lines between BEGIN and END. */
const armor = b64(150, 400).map((b) => `-----BEGIN AGE ENCRYPTED FILE-----\n${(b.match(/.{1,64}/g) ?? []).join("\n")}\n-----END AGE ENCRYPTED FILE-----\n`)

/** Keys the emitter writes plain (the fast path's keys), and a few it does not. */
const plainKey = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,8}$/).filter((k) => k !== "sops" && stringStyle(k) === "plain")
const oddKey = fc.constantFrom("yes", "null", "1", "", "a b", "k:v", "#x", "é", "x".repeat(130), "<<", "-a", "true", "sops")

/** Scalars of sops files: encrypted values, armor, words, numbers, and strings the emitter quotes or writes as blocks. */
const domainScalar: fc.Arbitrary<Node> = fc.oneof(
    encValue.map(s),
    armor.map(s),
    fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).map(s),
    fc.constantFrom("123", "true", "2030-01-01T00:00:00Z", "3.13.2", "", "a\n\nb\n", "a\nb", "line one\nline two\n", "_unencrypted", "x y").map(s),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Node => ({ kind: "int", value })),
    fc.boolean().map((value): Node => ({ kind: "bool", value })),
    fc.constant<Node>({ kind: "null" }),
)

/** Trees inside the fast path's domain: non-empty block collections, unique plain keys, no comments. */
const { domainNode, domainMap } = fc.letrec<{ domainNode: Node; domainMap: Node; domainList: Node }>((tie) => ({
    domainNode: fc.oneof({ depthSize: "small", withCrossShrink: true }, domainScalar, tie("domainMap"), tie("domainList")),
    domainMap: fc
        .uniqueArray(fc.tuple(plainKey, tie("domainNode")), { minLength: 1, maxLength: 4, selector: ([k]) => k })
        .map((es): Node => ({ kind: "map", items: es.map(([k, v]) => entry(k, v)) })),
    domainList: fc.array(tie("domainNode"), { minLength: 1, maxLength: 3 }).map((items): Node => ({ kind: "list", items: items as ListItem[] })),
}))

/** A `sops` block shaped like the ones sops writes, with an optional extra field. */
const metadata: fc.Arbitrary<Mapping> = fc
    .record({
        recipients: fc.array(fc.tuple(armor, fc.stringMatching(/^age1[0-9a-z]{58}$/)), { minLength: 1, maxLength: 4 }),
        mac: encValue,
        lastmodified: fc.constantFrom("2030-01-01T00:00:00Z", "2024-05-06T07:08:09Z"),
        extra: fc.option(fc.constantFrom<[string, Node]>(["shamir_threshold", { kind: "int", value: 2n }], ["mac_only_encrypted", { kind: "bool", value: true }], ["encrypted_regex", s("^(data|stringData)$")])),
    })
    .map(({ recipients, mac, lastmodified, extra }) => ({
        kind: "map" as const,
        items: [
            entry("age", { kind: "list", items: recipients.map(([e, r]) => ({ kind: "map" as const, items: [entry("enc", s(e)), entry("recipient", s(r))] })) }),
            entry("lastmodified", s(lastmodified)),
            entry("mac", s(mac)),
            ...(extra === null ? [] : [entry(extra[0], extra[1])]),
            entry("unencrypted_suffix", s("_unencrypted")),
            entry("version", s("3.13.2")),
        ],
    }))

const values = fc.oneof(
    domainMap.map((m) => (m as Mapping).items),
    tree.filter((t): t is Mapping => t.kind === "map").map((m) => m.items),
    fc.uniqueArray(fc.tuple(fc.oneof(plainKey, oddKey), domainNode), { maxLength: 3, selector: ([k]) => k }).map((es) => es.map(([k, v]) => entry(k, v))),
)

const generalEmit = (items: readonly MapItem[], md: Mapping, indent: number): string =>
    dec(createYamlStore({ indent }).emitEncrypted({ branches: [{ kind: "map", items: [...items] }], metadata: md }))

/**
 * Parse with the general path (the `yaml` package and yaml-parse.ts, then the
 * store's split of the `sops` entry), or undefined when it refuses the text. Not
 * through the store's parseEncrypted, which may itself take the canonical reader.
 */
function generalParse(text: string): EncryptedDocument | undefined {
    let docs
    try {
        docs = parseYaml(new TextDecoder("utf-8", { fatal: true }).decode(enc.encode(text)))
    } catch {
        return undefined
    }
    const metadata = docs[0]?.items.find((it) => it.kind === "entry" && it.key === "sops")
    if (metadata?.kind !== "entry" || metadata.value.kind !== "map") return undefined
    return { branches: docs.map((d) => ({ kind: "map", items: d.items.filter((it) => !(it.kind === "entry" && it.key === "sops")) })), metadata: metadata.value }
}

/** The claim of the module for one text: refused, or read and re-keyed exactly as the general path does. */
function checkExact(text: string, indent: number, next: Mapping): boolean {
    const r = readCanonical(text, indent)
    if (r === undefined) return false
    const general = generalParse(text)
    expect(general).toBeDefined()
    expect(r.doc).toEqual(general)
    expect(text.startsWith(r.values)).toBe(true)
    const fast = withCanonicalMetadata(r.values, next, indent)
    if (fast !== undefined) expect(fast).toBe(dec(createYamlStore({ indent }).emitEncrypted({ branches: general!.branches, metadata: next })))
    return true
}

describe("canonical YAML: writing", () => {
    it("writes the store emitter's bytes for every tree it accepts, and accepts every tree of the domain (property)", () => {
        fc.assert(
            fc.property(values, metadata, fc.constantFrom(4, 4, 2, 3), (items, md, indent) => {
                const fast = emitCanonical(items, md, indent)
                if (fast !== undefined) expect(fast).toBe(generalEmit(items, md, indent))
            }),
            { numRuns: 150 },
        )
        fc.assert(
            fc.property(domainMap, metadata, fc.constantFrom(4, 2), (m, md, indent) => {
                const fast = emitCanonical((m as Mapping).items, md, indent)
                expect(fast).toBe(generalEmit((m as Mapping).items, md, indent))
            }),
            { numRuns: 80 },
        )
    })

    it("refuses comments, empty collections, floats, timestamps and keys the emitter quotes", () => {
        const md = { kind: "map" as const, items: [entry("version", s("3.13.2"))] }
        expect(emitCanonical([entry("a", s("x"))], md, 4)).toBe("a: x\nsops:\n    version: 3.13.2\n")
        for (const items of [
            [{ kind: "comment", text: " c" } as MapItem, entry("a", s("x"))],
            [entry("a", { kind: "map", items: [] })],
            [entry("a", { kind: "list", items: [] })],
            [entry("a", { kind: "float", value: 1.5 })],
            [entry("a", { kind: "time", value: "2001-12-14T00:00:00Z" })],
            [entry("yes", s("x"))],
            [entry("sops", s("x"))],
            [entry("a", s("x")), entry("a", s("y"))],
            [entry("a", s("é\n"))],
        ]) {
            expect(emitCanonical(items, md, 4)).toBeUndefined()
        }
    })
})

describe("canonical YAML: reading", () => {
    it("reads the emitter's text of any tree exactly as parseEncrypted does, or refuses it; domain trees are always read (property)", () => {
        let read = 0
        fc.assert(
            fc.property(values, metadata, metadata, fc.constantFrom(4, 4, 2), (items, md, next, indent) => {
                let text: string
                try {
                    text = generalEmit(items, md, indent)
                } catch {
                    return
                }
                if (checkExact(text, indent, next)) read++
            }),
            { numRuns: 120 },
        )
        expect(read).toBeGreaterThan(25)
        fc.assert(
            fc.property(domainMap, metadata, metadata, fc.constantFrom(4, 2), (m, md, next, indent) => {
                expect(checkExact(generalEmit((m as Mapping).items, md, indent), indent, next)).toBe(true)
            }),
            { numRuns: 60 },
        )
    })

    it("hand-written YAML in every style, with a canonical sops block after it: refused or read exactly (property)", () => {
        fc.assert(
            fc.property(documentText(true), documentText(false), fc.boolean(), metadata, metadata, (withComments, plain, comments, md, next) => {
                const body = comments ? withComments : plain
                // The generator indents by two: read with 2 and with 4.
                for (const indent of [2, 4]) {
                    checkExact(`${body.endsWith("\n") ? body : body + "\n"}${generalEmit([], md, indent)}`, indent, next)
                }
            }),
            { numRuns: 150 },
        )
    })

    it("canonical text changed in one place: refused or read exactly (property)", () => {
        let read = 0
        const mutation = fc.record({ kind: fc.integer({ min: 0, max: 8 }), at: fc.nat(), extra: fc.constantFrom(" ", "\t", "#", '"', "'", "-", ":", "\n", "é", "- ") })
        fc.assert(
            fc.property(domainMap, metadata, metadata, mutation, (m, md, next, { kind, at, extra }) => {
                const text = generalEmit((m as Mapping).items, md, 4)
                const lines = text.split("\n")
                const li = at % Math.max(1, lines.length - 1)
                const pos = at % text.length
                let changed: string
                switch (kind) {
                    case 0: changed = text.slice(0, pos) + extra + text.slice(pos); break
                    case 1: changed = text.slice(0, pos) + text.slice(pos + 1); break
                    case 2: changed = text.replaceAll("\n", "\r\n"); break
                    case 3: lines.splice(li, 0, "# note"); changed = lines.join("\n"); break
                    case 4: lines[li] = (lines[li] ?? "").replace(/^ {2}/, ""); changed = lines.join("\n"); break
                    case 5: lines.splice(li, 0, lines[li] ?? ""); changed = lines.join("\n"); break
                    case 6: changed = `${text}---\nsecond: 2\n${generalEmit([], md, 4)}`; break
                    case 7: changed = text.replace(/: (\S)/, ': "$1'); break
                    default: changed = text.slice(0, -1)
                }
                if (checkExact(changed, 4, next)) read++
            }),
            { numRuns: 300 },
        )
        // Some changes keep the text canonical (a base64 digit, a word): those must be read exactly.
        expect(read).toBeGreaterThan(10)
    })

    it("accepts only the emitter's spelling", () => {
        const sops = "sops:\n    version: 3.13.2\n"
        const next: Mapping = { kind: "map", items: [entry("version", s("3.13.2")), entry("mac", s("m"))] }
        for (const ok of ["a: x\n", "a:\n    - x\n    - k: v\n      j: 1\n", "a: |\n    x\n    y\n", ""]) expect(checkExact(ok + sops, 4, next)).toBe(true)
        for (const bad of [
            "a: x # c\n", "# c\na: x\n", "a:  x\n", "a: 'x'\n", 'a: "x"\n', "a:\n  b: x\n", "a:\n- x\n", "a: 0x10\n", "a: x\r\n",
            "a: 1.0\n", "a: x\na: y\n", "a: {}\n", "a: &x y\n", "? a\n: x\n", "a: |+\n    x\n\n", "a: >\n    x\n",
        ]) {
            expect(readCanonical(bad + sops, 4)).toBeUndefined()
        }
        expect(readCanonical("a: x\n" + sops + "---\nb: y\n" + sops, 4)).toBeUndefined()
        expect(readCanonical(sops + "a: x\n", 4)).toBeUndefined()
        expect(readCanonical("a: x\nsops: 1\n", 4)).toBeUndefined()
        expect(readCanonical("a: x\n" + sops.slice(0, -1), 4)).toBeUndefined()
    })

    it("reads a file sops's way of encrypting writes, and puts new metadata after its values unchanged", async () => {
        const store = createYamlStore()
        const plain = store.parsePlain(enc.encode("db:\n    user: svc\n    password: pw\nlist:\n    - a\n    - b: 1\n      c: true\napi_key: k\nport: 5000\nempty_unencrypted: ''\n"))
        const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
        const text = dec(await encryptNew(plain, store, { groups: [[recipient]] }, new Date("2030-01-01T00:00:00Z")))
        const r = readCanonical(text, 4)
        expect(r).toBeDefined()
        expect(r!.doc).toEqual(generalParse(text))
        expect(withCanonicalMetadata(r!.values, r!.doc.metadata, 4)).toBe(text)
    })
})
