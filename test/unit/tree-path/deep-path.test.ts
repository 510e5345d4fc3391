/**
 * A tree path deeper than any file may be (found by the soak campaign: `set FILE
 * '["a"]["b"]…'` with 2,000 steps built a 2,000-deep mapping that the YAML emitter
 * recursed into until the stack ran out: "internal error (RangeError)").
 */
import { describe, expect, it } from "vitest"
import { parseTreePath } from "../../../src/core/tree-path.js"
import { ExitCode, SecretsError } from "../../../src/errors.js"

const path = (n: number) => `["a"]${'["b"]'.repeat(n - 1)}`

describe("parseTreePath depth", () => {
    it("takes a path as deep as a file may be nested (500 levels)", () => {
        expect(parseTreePath(path(500))).toHaveLength(500)
    })

    it("refuses a deeper one with exit 91 (invalid tree path), naming the bound", () => {
        let err: unknown
        try {
            parseTreePath(path(2000))
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).code).toBe(ExitCode.InvalidTreePathFormat)
        expect((err as SecretsError).message).toBe("invalid tree path: more than 500 steps")
    })
})
