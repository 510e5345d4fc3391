import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { FormatError } from "../../../src/errors.js"
import { describeReference, locationOf, parseTemplate, referenceKey, templateText, type TemplateReference } from "../../../src/delivery/template.js"
import { thrown } from "../../helpers/errors.js"

/** Render with each reference's value given by `value(ref)`. */
function renderWith(text: string, value: (ref: TemplateReference) => string): string {
    const t = parseTemplate(text, "t.tmpl")
    return t.render(new Map(t.references.map((r) => [referenceKey(r), value(r)])))
}

const placeholderOf = (ref: TemplateReference) => describeReference(ref)

describe("parseTemplate: placeholders", () => {
    it("finds file and op placeholders, with or without spaces, and keeps the rest literal", () => {
        const text = 'user={{op://Prod/db/username}}\npass={{ secrets/app.yaml#["db"]["password"] }}\nport: {{\tsecrets/app.yaml#["db"]["port"]\t}} # {not} {a} }} }\n'
        const t = parseTemplate(text, "app.conf.tmpl")
        expect(t.references).toEqual([
            { kind: "op", reference: "op://Prod/db/username", at: { source: "app.conf.tmpl", line: 1, column: 6 } },
            { kind: "file", file: "secrets/app.yaml", path: '["db"]["password"]', steps: ["db", "password"], at: { source: "app.conf.tmpl", line: 2, column: 6 } },
            { kind: "file", file: "secrets/app.yaml", path: '["db"]["port"]', steps: ["db", "port"], at: { source: "app.conf.tmpl", line: 3, column: 7 } },
        ])
        const values = new Map([
            [referenceKey(t.references[0]!), "app"],
            [referenceKey(t.references[1]!), "hunter2"],
            [referenceKey(t.references[2]!), "5432"],
        ])
        expect(t.render(values)).toBe("user=app\npass=hunter2\nport: 5432 # {not} {a} }} }\n")
    })

    it("lists a value named twice once, however it is spaced or quoted, and fills both places", () => {
        const text = `a={{ f.yaml#["k"][0] }} b={{f.yaml#[ 'k' ][ 0 ]}} c={{ op://v/i/f }} d={{op://v/i/f}}`
        const t = parseTemplate(text, "t")
        expect(t.references.map(placeholderOf)).toEqual([`{{ f.yaml#["k"][0] }}`, "{{ op://v/i/f }}"])
        expect(renderWith(text, (r) => (r.kind === "op" ? "O" : "F"))).toBe("a=F b=F c=O d=O")
    })

    it("keeps different paths apart even when they print alike", () => {
        // One key named `a"]["b` against two keys a and b.
        const t = parseTemplate(`{{ f#['a"]["b'] }}{{ f#["a"]["b"] }}`, "t")
        expect(t.references.map((r) => (r.kind === "file" ? r.steps : []))).toEqual([['a"]["b'], ["a", "b"]])
        expect(new Set(t.references.map(referenceKey)).size).toBe(2)
    })

    it("reads a key path whose quoted keys hold }}, # and {{", () => {
        const t = parseTemplate(`x{{ f.yaml#["a}}b"]['c#{{d'] }}y`, "t")
        expect(t.references.map((r) => (r.kind === "file" ? r.steps : []))).toEqual([["a}}b", "c#{{d"]])
        expect(renderWith(`x{{ f.yaml#["a}}b"]['c#{{d'] }}y`, () => "V")).toBe("xVy")
    })

    it("keeps an op reference's query and its spaces inside names", () => {
        const t = parseTemplate("{{ op://My Vault/ssh key/private key?ssh-format=openssh }}", "t")
        expect(t.references).toEqual([{ kind: "op", reference: "op://My Vault/ssh key/private key?ssh-format=openssh", at: { source: "t", line: 1, column: 1 } }])
    })

    it('writes {{ "text" }} as text, with \\" and \\\\ unescaped', () => {
        expect(renderWith('{{ "{{ $labels.instance }}" }} and {{"say \\"hi\\" \\\\ \\n"}}', () => "")).toBe('{{ $labels.instance }} and say "hi" \\ \\n')
        expect(parseTemplate('{{ "{{ op://a/b/c }}" }}', "t").references).toEqual([])
    })

    it("counts columns in characters and lines on \\n", () => {
        const t = parseTemplate("é😀\r\nab😀c{{ op://v/i/f }}", "t")
        expect(locationOf(t.references[0]!)).toBe("t:2:5")
    })

    it("returns text without {{ unchanged, with no references (property)", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary" }).filter((s) => !s.includes("{{")), (s) => {
                const t = parseTemplate(s, "t")
                expect(t.references).toEqual([])
                expect(t.render(new Map())).toBe(s)
            }),
        )
    })

    it("substitutes once: a value that holds placeholders is written as it is (property)", () => {
        const tricky = fc.constantFrom("{{ op://x/y/z }}", '{{ f.yaml#["k"] }}', "{{", "}}", '{{ "a" }}', "{{ op://x/y/z")
        const value = fc.array(fc.oneof(tricky, fc.string()), { maxLength: 6 }).map((xs) => xs.join(""))
        fc.assert(
            fc.property(value, value, (a, b) => {
                const out = renderWith('A={{ op://v/i/a }};B={{ f.yaml#["b"] }};', (r) => (r.kind === "op" ? a : b))
                expect(out).toBe(`A=${a};B=${b};`)
            }),
        )
    })

    it('any one-line text survives the {{ "…" }} escape (property)', () => {
        const line = fc.string({ unit: "binary" }).filter((s) => !/[\r\n]/.test(s))
        fc.assert(
            fc.property(line, (s) => {
                const escaped = s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')
                expect(renderWith(`<{{ "${escaped}" }}>`, () => "never")).toBe(`<${s}>`)
            }),
        )
    })

    it("refuses to render with a value missing, naming the placeholder", () => {
        const t = parseTemplate('x\n {{ f.yaml#["k"] }}', "t")
        expect(thrown(() => t.render(new Map())).message).toBe('t:2:2: {{ f.yaml#["k"] }} was not resolved')
    })
})

describe("parseTemplate: malformed placeholders", () => {
    const HINT = 'a placeholder is {{ FILE#["key"] }} or {{ op://vault/item/field }}; write {{ "{{" }} for a literal {{'
    it.each([
        ["a {{ op://v/i/f", 'tpl:1:3: unclosed placeholder: no "}}" after "{{" on the same line'],
        ["ok\n  {{ f.yaml#[\"k\"]\n}}", 'tpl:2:3: unclosed placeholder: no "}}" after "{{" on the same line'],
        ["{{", 'tpl:1:1: unclosed placeholder: no "}}" after "{{" on the same line'],
        ["x {{  }} y", "tpl:1:3: empty placeholder"],
        ["{{}}", "tpl:1:1: empty placeholder"],
        ["{{ $labels.instance }}", 'tpl:1:1: "$labels.instance" is not a placeholder: expected FILE#["key"] or op://vault/item/field'],
        ['{{ secrets/app.yaml["db"] }}', 'tpl:1:1: "secrets/app.yaml[\\"db\\"]" is not a placeholder: expected FILE#["key"] or op://vault/item/field'],
        ["{{{ op://v/i/f }}}", 'tpl:1:1: "{ op://v/i/f" is not a placeholder: expected FILE#["key"] or op://vault/item/field'],
        ['{{ {{ f#["k"] }}', 'tpl:1:1: "{{" inside a placeholder'],
        ['{{ #["k"] }}', 'tpl:1:1: no file before "#"'],
        ["{{ f.yaml# }}", 'tpl:1:1: no key path after "#"'],
        ["{{ f.yaml#db.password }}", 'tpl:1:1: invalid tree path: expected ["key"] or [index] at "db.password"'],
        ['{{ f.yaml#["db" }}', "tpl:1:1: invalid tree path: expected [\"key\"] or [index] at \"[\"db\"\""],
        ['{{ f.yaml#["db] }}', "tpl:1:1: unclosed quote in the key path of a placeholder"],
        ["{{ op://v/i }}", "tpl:1:1: invalid secret reference 'op://v/i': too few '/': secret references should have at least vault, item and field specified"],
        ["{{ op://v//f }}", "tpl:1:1: invalid secret reference 'op://v//f': the item name is empty"],
        ["{{ op://$VAULT/i/f }}", 'tpl:1:1: "op://$VAULT/i/f": variables ($VAR) are not expanded in references'],
        ['{{ "abc }}', `tpl:1:1: unclosed quoted text in a placeholder: no closing '"' on the same line`],
        ['{{ "abc" x }}', 'tpl:1:1: expected "}}" after the quoted text'],
    ])("%j", (text, message) => {
        const e = thrown(() => parseTemplate(text, "tpl"))
        expect(e).toBeInstanceOf(FormatError)
        expect(e.message).toBe(message)
    })

    it("hints at the syntax and at the literal escape", () => {
        const e = thrown(() => parseTemplate("{{ nope }}", "t")) as FormatError
        expect(e.hints).toEqual([HINT])
    })

    it("stops at the first malformed placeholder, after well-formed ones", () => {
        expect(thrown(() => parseTemplate("{{ op://a/b/c }}\n{{ op://a/b/c }} {{ x }}", "t")).message).toMatch(/^t:2:18: /)
    })

    // Linear-time scanning: each of these would take minutes with a backtracking
    // regex or a rescan from every '{{' (100,000² steps). No clock is read: a
    // quadratic scanner would hit the test timeout.
    it.each([
        ["{{".repeat(100_000)],
        ["{{ f#[\"" + "a".repeat(200_000)],
        ["{{ f#[" + "1".repeat(200_000) + "x }}"],
        ["{{ " + "a".repeat(200_000)],
        ["{{ op://" + "a/".repeat(100_000)],
    ])("a hostile template fails in one pass (%#)", (text) => {
        expect(thrown(() => parseTemplate(text, "t"))).toBeInstanceOf(FormatError)
    })

    it("a template with 50,000 placeholders parses and renders", () => {
        const text = '{{ f.yaml#["k"] }}.{{ op://v/i/f }}\n'.repeat(25_000)
        expect(renderWith(text, (r) => (r.kind === "op" ? "o" : "f"))).toBe("f.o\n".repeat(25_000))
    })
})

describe("templateText (render and deploy read template files through it)", () => {
    it("decodes UTF-8 and refuses bytes that are not text, naming the file, instead of rendering U+FFFD", () => {
        expect(templateText(new TextEncoder().encode("pw={{ op://v/i/f }} é\n"), "t.tmpl")).toBe("pw={{ op://v/i/f }} é\n")
        expect(() => templateText(new Uint8Array([0x61, 0xff, 0x62]), "t.tmpl")).toThrow('"t.tmpl" is not UTF-8 text')
    })
})
