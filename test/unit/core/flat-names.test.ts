/**
 * One flattening for `run --flatten`, `export` and the Node API: the same names,
 * the AAD path each value was encrypted under, and a refusal when two key paths
 * give one name. `run --flatten` had its own walk, which let the later of
 * `a__b: x` and `a: {b: y}` win silently.
 */
import { describe, expect, it } from "vitest"
import { flatLeaves } from "../../../src/core/flat-names.js"
import { comment, entry, int, list, map, nil, str } from "../../../src/core/tree.js"
import type { OpenedFile } from "../../../src/engine/open.js"
import { SecretsError } from "../../../src/errors.js"
import { fileVariables } from "../../../src/run/file-variables.js"

const doc = map(
    entry("db", map(entry("user", str("u")), comment("# c"), entry("port", int(5432)))),
    entry("hosts", list(str("a"), comment("# c"), str("b"))),
    entry("empty", map()),
    entry("gone", nil),
)

describe("flatLeaves", () => {
    it("names leaves by key path joined with __, list items by position (comments not counted)", () => {
        expect(flatLeaves(doc).map((l) => [l.name, l.path, l.aadPath])).toEqual([
            ["db__user", ["db", "user"], ["db", "user"]],
            ["db__port", ["db", "port"], ["db", "port"]],
            // sops leaves list positions out of a value's AAD.
            ["hosts__0", ["hosts", 0], ["hosts"]],
            ["hosts__1", ["hosts", 1], ["hosts"]],
            ["empty", ["empty"], ["empty"]],
            ["gone", ["gone"], ["gone"]],
        ])
        expect(flatLeaves(doc).find((l) => l.name === "empty")?.node).toEqual(map())
    })

    it("refuses two key paths that give one name, naming both and no value", () => {
        const clash = map(entry("a__b", str("first-secret")), entry("a", map(entry("b", str("second-secret")))))
        const e = (() => {
            try {
                flatLeaves(clash, "the hint")
            } catch (err) {
                return err as SecretsError
            }
            throw new Error("no error")
        })()
        expect(e).toBeInstanceOf(SecretsError)
        expect(e.message).toBe('["a__b"] and ["a"]["b"] both flatten to the name "a__b"')
        expect(e.hints).toEqual(["the hint"])
        expect(e.message + e.hints.join("")).not.toContain("secret")
    })

    it("secrets run --flatten refuses the clash too, instead of letting the later key win", () => {
        const clash = map(entry("a__b", str("x")), entry("a", map(entry("b", str("y")))))
        const opened = { branches: [clash] } as unknown as OpenedFile
        expect(() => fileVariables(opened, { flatten: true, dangerous: () => undefined, onSkip: () => undefined })).toThrow(/both flatten to the name "a__b"/)
    })
})
