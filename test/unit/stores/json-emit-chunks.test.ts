/**
 * JSON output is encoded chunk by chunk as the walk makes it (issue 14, target 3:
 * the walk's small strings no longer live until the file is written). The bytes must
 * be the whole text's UTF-8 whatever falls on a chunk boundary: multi-byte and
 * astral characters, escapes, a value large enough to be encoded on its own.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MapItem, Node } from "../../../src/core/tree.js"
import { emitJson, emitJsonBytes } from "../../../src/stores/json-emit.js"
import { goJsonQuote } from "../../../src/stores/go-json-string.js"

const dec = (b: Uint8Array): string => new TextDecoder("utf-8", { ignoreBOM: true }).decode(b)

const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom("é€ café", "😀", "\u2028<&>", "\"\\", "ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:BBBB,type:str]"),
    fc.integer({ min: 1, max: 3 }).map((n) => "é".repeat(n * 30_000)), // up to ~90K: some alone, some joined
)

describe("JSON bytes emitted chunk by chunk", () => {
    it("are the UTF-8 of the text emitted in one piece, with the trailing newline", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6 }), value), { minLength: 1, maxLength: 60 }), fc.integer({ min: 200, max: 1500 }), (entries, repeat) => {
                const items: MapItem[] = []
                // Enough entries to cross several 64K chunk boundaries at varying offsets.
                for (let i = 0; i < repeat; i++) {
                    const [k, v] = entries[i % entries.length] ?? ["", ""]
                    items.push({ kind: "entry", key: `${k}${i}`, value: { kind: "str", value: v } })
                }
                const node: Node = { kind: "map", items: [...items, { kind: "entry", key: "list", value: { kind: "list", items: [{ kind: "int", value: 1n }, { kind: "null" }] } }] }
                const bytes = emitJsonBytes(node, -1, true)
                const text = emitJson(node) + "\n"
                expect(bytes.length).toBe(Buffer.byteLength(text, "utf8"))
                expect(dec(bytes) === text).toBe(true)
            }),
            { numRuns: 12 },
        )
    })

    it("quote each string as Go does, across chunks (spot check against goJsonQuote)", () => {
        const items: MapItem[] = []
        for (let i = 0; i < 5000; i++) items.push({ kind: "entry", key: `k${i}`, value: { kind: "str", value: i % 3 === 0 ? "é😀<" : `v${i}` } })
        const text = dec(emitJsonBytes({ kind: "map", items }, 2, false))
        expect(text).toBe("{\n" + items.map((it) => (it.kind === "entry" && it.value.kind === "str" ? `  ${goJsonQuote(it.key)}: ${goJsonQuote(it.value.value)}` : "")).join(",\n") + "\n}")
    })
})
