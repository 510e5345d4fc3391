import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { OpError } from "../../../src/integrations/op-errors.js"
import { formatOpReference, isOpReference, parseOpReference } from "../../../src/integrations/op-reference.js"
import { thrown } from "../../helpers/errors.js"

const TOO_FEW = "too few '/': secret references should have at least vault, item and field specified"
const TOO_MANY = "too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>"

describe("parseOpReference", () => {
    it.each([
        ["op://Prod/db/password", { vault: "Prod", item: "db", field: "password" }],
        ["op://Prod/db/creds/password", { vault: "Prod", item: "db", section: "creds", field: "password" }],
        ["op://My Vault/test ssh key/private key?ssh-format=openssh", { vault: "My Vault", item: "test ssh key", field: "private key", query: "ssh-format=openssh" }],
        ["op://v/i/s/f?attribute=otp", { vault: "v", item: "i", section: "s", field: "f", query: "attribute=otp" }],
        ["op://nnotgv5xwrhjbdj6bt3rugrijy/vwyt5in4gempt67i7d2mpao6c4/password", { vault: "nnotgv5xwrhjbdj6bt3rugrijy", item: "vwyt5in4gempt67i7d2mpao6c4", field: "password" }],
        // The query starts at the first '?': a '/' after it is not a segment separator.
        ["op://v/i/f?x=a/b/c", { vault: "v", item: "i", field: "f", query: "x=a/b/c" }],
        // An empty query is no query.
        ["op://v/i/f?", { vault: "v", item: "i", field: "f" }],
    ])("%s", (text, expected) => {
        expect(parseOpReference(text)).toEqual({ ...expected, text })
    })

    it.each([
        ["op://", TOO_FEW],
        ["op://Prod", TOO_FEW],
        ["op://Prod/db", TOO_FEW],
        ["op://a/b/c/d/e", TOO_MANY],
        ["op://a/b/c/d/e?x=1", TOO_MANY],
        ["op://a//c", "the item name is empty"],
        ["op:///b/c", "the vault name is empty"],
        ["op://a/b/c/", "the field name is empty"],
        ["op://a/b//d", "the section name is empty"],
    ])("%s is refused with op's own text", (text, why) => {
        const e = thrown(() => parseOpReference(text))
        expect(e).toBeInstanceOf(OpError)
        expect((e as OpError).kind).toBe("bad-reference")
        expect(e.message).toBe(`invalid secret reference '${text}': ${why}`)
    })

    it("never echoes a text that is not a reference (it may be a value)", () => {
        const e = thrown(() => parseOpReference("hunter2-secret"))
        expect((e as OpError).kind).toBe("bad-reference")
        expect(e.message).toBe("not a 1Password secret reference: it does not start with op://")
        expect(JSON.stringify([e.message, (e as OpError).hints])).not.toContain("hunter2")
    })

    it("refuses control characters without echoing them", () => {
        const e = thrown(() => parseOpReference("op://v/i/f\nsecond"))
        expect(e.message).toBe("invalid secret reference: it contains a control character (a newline?)")
    })
})

describe("isOpReference", () => {
    it.each([
        ["op://v/i/f", true],
        ["op://", true],
        ["OP://v/i/f", false],
        [" op://v/i/f", false],
        ["s3cr3t", false],
        ["", false],
    ])("%j → %s", (text, expected) => {
        expect(isOpReference(text)).toBe(expected)
    })
})

describe("formatOpReference", () => {
    it("writes the section and query only when present", () => {
        expect(formatOpReference({ vault: "V", item: "I", field: "F" })).toBe("op://V/I/F")
        expect(formatOpReference({ vault: "V", item: "I", section: "S", field: "F", query: "attr=otp" })).toBe("op://V/I/S/F?attr=otp")
    })

    const name = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,20}$/)
    const ref = fc.record(
        { vault: name, item: name, section: name, field: name, query: fc.stringMatching(/^[a-z-]{1,10}=[a-z/]{1,10}$/) },
        { requiredKeys: ["vault", "item", "field"] },
    )

    it("parse(format(r)) gives r back (property)", () => {
        fc.assert(
            fc.property(ref, (r) => {
                const text = formatOpReference(r)
                expect(parseOpReference(text)).toEqual({ ...r, text })
                expect(formatOpReference(parseOpReference(text))).toBe(text)
            }),
        )
    })
})
