import { describe, expect, it } from "vitest"
import { getAt, parseTreePath, setAt, unsetAt } from "../../../src/core/tree-path.js"
import { comment, entry, int, list, map, str } from "../../../src/core/tree.js"
import { SecretsError } from "../../../src/errors.js"

describe("parseTreePath", () => {
    it.each([
        [`["a"]`, ["a"]],
        [`['a']["b"][0]`, ["a", "b", 0]],
        [`[ "spaced key" ][12]`, ["spaced key", 12]],
        [`["a\\"]`, ["a\\"]], // no unescaping, as in sops
        [`[""]`, [""]],
    ])("%s", (text, want) => {
        expect(parseTreePath(text)).toEqual(want)
    })

    it.each([``, `a`, `["a"`, `[a]`, `["a"]x`, `[-1]`])("rejects %j with exit 91", (text) => {
        try {
            parseTreePath(text)
            expect.unreachable()
        } catch (e) {
            expect(e).toBeInstanceOf(SecretsError)
            expect((e as SecretsError).code).toBe(91)
        }
    })
})

const doc = map(comment(" top"), entry("db", map(entry("hosts", list(comment(" first"), str("a"), str("b"))), entry("port", int(5432)))))

describe("getAt / setAt / unsetAt", () => {
    it("reads through maps and lists, skipping comments in list indices", () => {
        expect(getAt(doc, ["db", "hosts", 1])).toEqual(str("b"))
        expect(getAt(doc, ["db", "port"])).toEqual(int(5432))
        expect(getAt(doc, ["db", "nope"])).toBeUndefined()
        expect(getAt(doc, ["db", "hosts", 5])).toBeUndefined()
    })

    it("replaces in place, keeping order and comments", () => {
        const out = setAt(doc, ["db", "port"], int(6543))
        expect(out).toEqual(map(comment(" top"), entry("db", map(entry("hosts", list(comment(" first"), str("a"), str("b"))), entry("port", int(6543))))))
    })

    it("creates missing mappings and appends one past the end of a list", () => {
        expect(getAt(setAt(doc, ["new", "deep", "key"], str("v")), ["new", "deep", "key"])).toEqual(str("v"))
        expect(getAt(setAt(doc, ["db", "hosts", 2], str("c")), ["db", "hosts", 2])).toEqual(str("c"))
        // Further past the end appends too, as sops' set() does for position >= len.
        expect(getAt(setAt(doc, ["db", "hosts", 9], str("c")), ["db", "hosts", 2])).toEqual(str("c"))
        expect(() => setAt(doc, ["db", "port", "x"], str("c"))).toThrow(/not a mapping/)
    })

    it("removes an entry or a list element, and says undefined when absent", () => {
        expect(getAt(unsetAt(doc, ["db", "port"])!, ["db", "port"])).toBeUndefined()
        expect(getAt(unsetAt(doc, ["db", "hosts", 0])!, ["db", "hosts", 0])).toEqual(str("b"))
        expect(unsetAt(doc, ["db", "missing"])).toBeUndefined()
        expect(unsetAt(doc, ["db", "hosts", 7])).toBeUndefined()
    })
})
