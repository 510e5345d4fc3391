import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Mapping, Node } from "../../../src/core/tree.js"
import { bool, bytes, comment, entry, float, int, list, map, nil, str } from "../../../src/core/tree.js"
import { FormatError } from "../../../src/errors.js"
import { createBinaryStore } from "../../../src/stores/binary.js"
import { flatten, goFormatG, unflatten } from "../../../src/stores/flatten.js"

describe("flatten", () => {
    it("flattens maps and lists, skips empty lists and nulls, sorts like Go", () => {
        const md = map(
            entry("version", str("3.13.2")),
            entry("key_groups", list(
                map(entry("age", list(map(entry("recipient", str("r0")), entry("enc", str("e0")))))),
                map(entry("kms", list()), entry("hc_vault", list()), entry("age", list(comment("x"), map(entry("enc", str("e1")))))),
            )),
            entry("shamir_threshold", int(2)),
            entry("mac_only_encrypted", bool(true)),
            entry("kms", nil),
            entry("kms_ctx", map(entry("b", str("2")), entry("a", str("1")))),
        )
        expect(flatten(md, "sops_")).toEqual([
            ["sops_key_groups__list_0__map_age__list_0__map_enc", "e0"],
            ["sops_key_groups__list_0__map_age__list_0__map_recipient", "r0"],
            ["sops_key_groups__list_1__map_age__list_0__map_enc", "e1"],
            ["sops_kms_ctx__map_a", "1"],
            ["sops_kms_ctx__map_b", "2"],
            ["sops_mac_only_encrypted", "true"],
            ["sops_shamir_threshold", "2"],
            ["sops_version", "3.13.2"],
        ])
    })
    it("sorts list indices as strings, as sops' sort.Strings does", () => {
        const items = Array.from({ length: 11 }, (_, i) => str(String(i)))
        expect(flatten(map(entry("l", list(...items)))).map(([k]) => k).slice(0, 3)).toEqual(["l__list_0", "l__list_1", "l__list_10"])
    })
})

describe("unflatten", () => {
    it("rebuilds nested maps (sorted) and complete lists", () => {
        expect(unflatten([
            ["version", "3"],
            ["age__list_1__map_enc", "e1"],
            ["age__list_0__map_recipient", "r0"],
            ["age__list_0__map_enc", "e0"],
            ["kms__list_0__map_context__map_z", "1"],
        ])).toEqual(map(
            entry("age", list(map(entry("enc", str("e0")), entry("recipient", str("r0"))), map(entry("enc", str("e1"))))),
            entry("kms", list(map(entry("context", map(entry("z", str("1"))))))),
            entry("version", str("3")),
        ))
    })
    it("rejects gaps and conflicts", () => {
        expect(() => unflatten([["age__list_1__map_enc", "x"]])).toThrow(/^metadata list "age" is missing element 0$/)
        expect(() => unflatten([["a", "x"], ["a__map_b", "y"]])).toThrow(FormatError)
        expect(() => unflatten([["a__list_x", "y"]])).toThrow(FormatError)
    })
    it("inverts flatten for string trees", () => {
        const leaf = fc.string({ maxLength: 5 }).map(str)
        const key = fc.stringMatching(/^[a-z]{1,4}$/)
        const { node } = fc.letrec<{ node: Node }>((tie) => ({
            node: fc.oneof({ depthSize: "small" },
                leaf,
                fc.uniqueArray(fc.tuple(key, tie("node")), { selector: ([k]) => k, minLength: 1, maxLength: 3 })
                    .map((kv): Node => map(...[...kv].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => entry(k, v)))),
                fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((items): Node => list(...items)),
            ),
        }))
        const tree = fc.uniqueArray(fc.tuple(key, node), { selector: ([k]) => k, minLength: 1, maxLength: 4 })
            .map((kv): Mapping => map(...[...kv].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => entry(k, v))))
        fc.assert(fc.property(tree, (m) => {
            expect(unflatten(flatten(m))).toEqual(m)
        }), { numRuns: 300 })
    })
})

describe("goFormatG (strconv 'G', shortest)", () => {
    const table: [number, string][] = [
        [1, "1"], [1.5, "1.5"], [100000, "100000"], [1e6, "1E+06"], [1234567, "1.234567E+06"],
        [0.0001, "0.0001"], [0.00001, "1E-05"], [-2.5e-10, "-2.5E-10"], [1e21, "1E+21"], [1e100, "1E+100"],
        [123.456, "123.456"], [-0, "-0"], [NaN, "NaN"], [Infinity, "+Inf"], [-Infinity, "-Inf"],
    ]
    for (const [x, want] of table) it(want, () => expect(goFormatG(x)).toBe(want))
    it("float(1) in a flattened value gets .0", () => expect(flatten(map(entry("f", float(1))))).toEqual([["f", "1.0"]]))
})

describe("binary store", () => {
    const store = createBinaryStore()
    it("reads the whole input as one bytes value under data, and writes it back raw", () => {
        const input = new Uint8Array([0xff, 0x00, 0x0a, 0x61])
        const branches = store.parsePlain(input)
        expect(branches).toEqual([map(entry("data", bytes(input)))])
        expect(Array.from(store.emitPlain(branches))).toEqual([0xff, 0x00, 0x0a, 0x61])
        expect(new TextDecoder().decode(store.emitPlain([map(entry("data", str("héllo")))]))).toBe("héllo")
    })
    it("fails with a hint when there is no data string", () => {
        for (const b of [map(entry("other", str("x"))), map(entry("data", int(1)))]) {
            try {
                store.emitPlain([b])
            } catch (e) {
                expect(e).toBeInstanceOf(FormatError)
                expect((e as FormatError).message).toBe("error emitting binary store")
                expect((e as FormatError).hints.length).toBe(1)
            }
        }
        expect.assertions(6)
    })
    it("encrypted form is JSON with a tab indent by default", () => {
        const out = store.emitEncrypted({ branches: [map(entry("data", str("ENC[x]")))], metadata: map(entry("version", str("3.13.2"))) })
        expect(new TextDecoder().decode(out)).toBe("{\n\t\"data\": \"ENC[x]\",\n\t\"sops\": {\n\t\t\"version\": \"3.13.2\"\n\t}\n}\n")
    })
    it("round-trips any bytes through emitPlain/parsePlain", () => {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
            expect(Array.from(store.emitPlain(store.parsePlain(b)))).toEqual(Array.from(b))
        }))
    })
})
