/**
 * The YAML emitter writes a quiet plain scalar (printable ASCII without blanks:
 * every ENC value, most keys) in one piece instead of character by character
 * (issue 14, target 3). Held to the character walk it replaced: the same text for
 * generated trees of such scalars mixed with every other kind (spaces, breaks,
 * quoting, non-ASCII, comments, nesting, lists, each indentation).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MapItem, Node } from "../../../src/core/tree.js"
import { emitEvents } from "../../../src/stores/yaml-emitter.js"
import { documentEvents } from "../../../src/stores/yaml-events.js"

const quiet = fc.stringMatching(/^[\x21-\x7e]{1,12}$/)
const text = fc.oneof(
    { weight: 4, arbitrary: quiet },
    { weight: 1, arbitrary: fc.constantFrom("", " lead", "two words", "a\nb", "é€", "😀", "-", "?x", "#c", "a: b", "true", "null", "12", "ENC[AES256_GCM,data:QUJD,iv:AAAA,tag:BBBB,type:str]") },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
)
const comment = fc.constantFrom(" note", "", " two\n second")

const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        text.map((value): Node => ({ kind: "str", value })),
        fc.constantFrom<Node>({ kind: "int", value: 7n }, { kind: "bool", value: true }, { kind: "null" }),
        fc.array(fc.oneof({ weight: 4, arbitrary: fc.tuple(text, tie("node")) }, { weight: 1, arbitrary: comment }), { maxLength: 4 }).map(
            (xs): Node => ({
                kind: "map",
                items: xs.map((x): MapItem => (typeof x === "string" ? { kind: "comment", text: x } : { kind: "entry", key: x[0], value: x[1] })),
            }),
        ),
        fc.array(tie("node"), { maxLength: 3 }).map((items): Node => ({ kind: "list", items })),
    ),
})).node

describe("the emitter's bulk write of quiet plain scalars", () => {
    it("gives the character walk's text for generated documents at every indentation", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(text, node), { minLength: 1, maxLength: 5 }), fc.integer({ min: 2, max: 9 }), (entries, indent) => {
                const items: MapItem[] = entries.map(([key, value]) => ({ kind: "entry", key, value }))
                const events = documentEvents([items])
                expect(emitEvents(events, indent)).toBe(emitEvents(events, indent, true))
            }),
            { numRuns: 1500 },
        )
    })
})
