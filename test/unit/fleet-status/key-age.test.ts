import { describe, expect, it } from "vitest"
import type { Metadata } from "../../../src/core/metadata.js"
import { encBlocks, introducingIndex, lastModifiedDate, shareBlock } from "../../../src/fleet/key-age.js"

const s = (...xs: string[]) => new Set(xs)

function meta(blocks: [string, string][], lastModified = "2030-01-01T00:00:00Z"): Metadata {
    return {
        keyGroups: [blocks.map(([recipient, enc]) => ({ type: "age" as const, recipient, enc }))],
        shamirThreshold: 0,
        lastModified,
        mac: "ENC[x]",
        rule: {},
        macOnlyEncrypted: false,
        version: "3.13.2",
    }
}

describe("introducingIndex (history newest first)", () => {
    it("a re-wrap keeps the key: blocks of staying recipients survive, so the walk goes on", () => {
        // newest: host added (a, b, c); before: a, b; first: a only. One data key throughout.
        expect(introducingIndex(s("A", "B", "C"), [s("A", "B", "C"), s("A", "B"), s("A")])).toBe(2)
    })

    it("a rotation breaks the chain: no block in common", () => {
        // newest two share blocks X; the one before has the old key's blocks.
        expect(introducingIndex(s("X1", "X2"), [s("X1", "X2"), s("X1", "X2"), s("A1", "A2"), s("A1")])).toBe(1)
    })

    it("the working copy rotated and not committed: undefined (use lastmodified)", () => {
        expect(introducingIndex(s("N"), [s("A"), s("A")])).toBeUndefined()
        expect(introducingIndex(s("N"), [])).toBeUndefined()
    })

    it("a version that could not be read ends the walk at the last readable one", () => {
        expect(introducingIndex(s("A"), [s("A"), s("A"), undefined, s("A")])).toBe(1)
    })

    it("a recipient removed then the key rotated: the key dates from the rotation", () => {
        expect(introducingIndex(s("R1"), [s("R1"), s("R1", "R2"), s("O1", "O2"), s("O1", "O2", "O3")])).toBe(1)
    })
})

describe("encBlocks / shareBlock / lastModifiedDate", () => {
    it("age enc blocks, trimmed, across groups; foreign keys ignored", () => {
        const m: Metadata = {
            ...meta([["age1a", "-----BEGIN AGE ENCRYPTED FILE-----\nA\n"]]),
            keyGroups: [
                [{ type: "age", recipient: "age1a", enc: "-----BEGIN AGE ENCRYPTED FILE-----\nA\n" }],
                [
                    { type: "pgp", fields: { kind: "map", items: [] } },
                    { type: "age", recipient: "age1b", enc: "B" },
                ],
            ],
        }
        expect(encBlocks(m)).toEqual(s("-----BEGIN AGE ENCRYPTED FILE-----\nA", "B"))
        expect(shareBlock(s("a", "b"), s("b"))).toBe(true)
        expect(shareBlock(s("a"), s("b"))).toBe(false)
    })

    it("lastmodified parsed, or undefined when absent or not a date", () => {
        expect(lastModifiedDate(meta([]))?.toISOString()).toBe("2030-01-01T00:00:00.000Z")
        expect(lastModifiedDate(meta([], ""))).toBeUndefined()
        expect(lastModifiedDate(meta([], "yesterday"))).toBeUndefined()
    })
})
