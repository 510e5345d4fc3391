/**
 * fast-check generators for the go-yaml differential tests: YAML documents written in
 * every style (block scalars with each chomping and indentation indicator, at the end
 * of the file with or without a line break, quoted and plain special scalars, flow
 * collections, anchors and aliases, comments) and trees of every scalar type.
 */
import fc from "fast-check"
import { bool, float, int, nil, str, time, type Branch, type ListItem, type MapItem, type Node } from "../../../src/core/tree.js"

// ---- YAML text ----

const SPECIAL_PLAIN = [
    "yes", "no", "on", "off", "y", "true", "False", "~", "null", "NULL", "0", "-0", "007", "08", "0o17", "0x1F", "-0b101", "1_000",
    "9223372036854775807", "-9223372036854775808", "1e3", "1.", ".5", "-.5", ".5_0", "1_0.5", "1e-400", ".inf", "-.Inf", ".nan",
    "1:20", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "2001-12-14T21:59:43,5Z", "2001-12-14T21:59:43.1234567891Z",
    "2001-02-29", "<<", "=", "a#b", "x!y", "é😀", "-x", "?x", ".", "+",
]
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,5}( [a-z0-9]{1,4})?$/)
const plainText = fc.oneof(fc.constantFrom(...SPECIAL_PLAIN), word)
const anyText = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom(...SPECIAL_PLAIN, "", " lead", "trail ", "a'b", 'q"q', "back\\slash", "tab\there", "é😀", "#"),
)
const single = (s: string): string => `'${s.replaceAll("'", "''")}'`
// JSON's escapes are all YAML 1.1 escapes (\u for control characters, no \/).
const double = (s: string): string => JSON.stringify(s)

/** A scalar written on the line of its key or `-`. */
const inlineScalar = fc.oneof(plainText, anyText.map(single), anyText.map(double), fc.constant(""))

const CHOMP = ["", "-", "+"]
const blockLine = fc.oneof(word, fc.constantFrom("", "", "   ", " lead", "  more", "tail  ", "# not a comment"))
/** A block scalar: header indicators and body lines, written at `indent`. */
const blockScalar = fc.record({
    style: fc.constantFrom("|", ">"),
    chomp: fc.constantFrom(...CHOMP),
    explicit: fc.constantFrom(0, 0, 1, 2),
    lines: fc.array(blockLine, { minLength: 1, maxLength: 5 }),
    trailing: fc.constantFrom(0, 0, 1, 2),
    comment: fc.boolean(),
})
type BlockScalar = typeof blockScalar extends fc.Arbitrary<infer T> ? T : never

type Gen =
    | { t: "scalar"; text: string }
    | { t: "block"; b: BlockScalar }
    | { t: "flow"; text: string }
    | { t: "map"; entries: { key: string; value: Gen; head?: string; inline?: string }[] }
    | { t: "seq"; items: { value: Gen; inline?: string }[]; indentless: boolean }

// No `<<` key: sops writes one it cannot read back, where we quote it (oracle-known.test.ts).
const keyText = fc.oneof(word.filter((w) => !SPECIAL_PLAIN.includes(w)), word.map(single), word.map(double), fc.constantFrom("'1'", '"true"'))
const flowScalar = fc.oneof(word, fc.constantFrom("1", "0x1F", "~", "true", ".inf", "2001-12-14"), anyText.map(single), anyText.map(double))
const flowText = fc.oneof(
    fc.array(flowScalar, { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
    fc.uniqueArray(fc.tuple(word, flowScalar), { maxLength: 3, selector: ([k]) => k }).map((es) => `{${es.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
)
const commentText = fc.oneof(word, fc.constant(""))

const pad = (n: number): string => " ".repeat(n)

/** The text after `key:` or `-`, and the lines below it; `col` is the column of the collection holding it. */
function renderValue(g: Gen, col: number, inline: string | undefined, prefix: string, withComments: boolean): { head: string; lines: string[] } {
    const tail = inline !== undefined ? ` #${inline}` : ""
    switch (g.t) {
        case "scalar":
            return { head: `${prefix}${g.text === "" ? "" : " " + g.text}${tail}`, lines: [] }
        case "flow":
            return { head: `${prefix} ${g.text}${tail}`, lines: [] }
        case "block": {
            const { b } = g
            const header = `${b.style}${b.explicit || ""}${b.chomp}${b.comment && withComments ? " # header" : ""}`
            const ind = col + (b.explicit || 2)
            const body = b.lines.map((l) => (l === "" ? "" : pad(ind) + l))
            for (let i = 0; i < b.trailing; i++) body.push("")
            return { head: `${prefix} ${header}`, lines: body }
        }
        case "map":
            return { head: `${prefix}${tail}`, lines: renderMap(g, col + 2, withComments) }
        case "seq":
            return { head: `${prefix}${tail}`, lines: renderSeq(g, g.indentless && prefix.endsWith(":") ? col : col + 2, withComments) }
    }
}

function renderMap(g: Extract<Gen, { t: "map" }>, col: number, withComments: boolean): string[] {
    const out: string[] = []
    for (const e of g.entries) {
        if (e.head !== undefined) out.push(`${pad(col)}#${e.head}`)
        const v = renderValue(e.value, col, e.inline, `${pad(col)}${e.key}:`, withComments)
        out.push(v.head, ...v.lines)
    }
    return out
}

function renderSeq(g: Extract<Gen, { t: "seq" }>, col: number, withComments: boolean): string[] {
    const out: string[] = []
    for (const it of g.items) {
        const v = renderValue(it.value, col, it.inline, `${pad(col)}-`, withComments)
        out.push(v.head, ...v.lines)
    }
    return out
}

/**
 * YAML documents; `withComments` false leaves out every comment (the block scalar
 * header's too), for the tests that compare whole files byte for byte.
 */
export function documentText(withComments: boolean): fc.Arbitrary<string> {
    const comment = withComments ? fc.option(commentText, { nil: undefined }) : fc.constant(undefined)
    const { node } = fc.letrec<{ node: Gen; map: Gen; seq: Gen }>((tie) => ({
        node: fc.oneof(
            { depthSize: "small", withCrossShrink: true },
            inlineScalar.map((text): Gen => ({ t: "scalar", text })),
            blockScalar.map((b): Gen => ({ t: "block", b })),
            flowText.map((text): Gen => ({ t: "flow", text })),
            tie("map"),
            tie("seq"),
        ),
        map: fc
            .uniqueArray(
                fc.record({ key: keyText, value: tie("node"), head: comment, inline: comment }),
                { minLength: 1, maxLength: 4, selector: (e) => e.key },
            )
            .map((entries): Gen => ({ t: "map", entries })),
        seq: fc
            .record({ items: fc.array(fc.record({ value: tie("node"), inline: comment }), { minLength: 1, maxLength: 3 }), indentless: fc.boolean() })
            .map(({ items, indentless }): Gen => ({ t: "seq", items, indentless })),
    }))

    return fc
        .record({
            root: fc.uniqueArray(fc.record({ key: keyText, value: node, head: comment, inline: comment }), {
                minLength: 1,
                maxLength: 4,
                selector: (e) => e.key,
            }),
            anchor: fc.boolean(),
            footer: comment,
            finalNewline: fc.boolean(),
            secondDocument: fc.boolean(),
        })
        .map(({ root, anchor, footer, finalNewline, secondDocument }) => {
            const lines = renderMap({ t: "map", entries: root }, 0, withComments)
            // An anchor on the first entry's value and an alias of it at the end.
            if (anchor) {
                lines[lines.findIndex((l) => !l.startsWith("#"))] = lines.find((l) => !l.startsWith("#"))!.replace(/^([^:]*:)( ?)/, "$1 &a0$2")
                lines.push("copy: *a0")
            }
            if (footer !== undefined) lines.push(`#${footer}`)
            if (secondDocument) lines.push("---", "second: 2")
            const text = lines.join("\n")
            return finalNewline ? text + "\n" : text
        })
}

// ---- trees ----

const scalarNode: fc.Arbitrary<Node> = fc.oneof(
    anyText.map(str),
    fc.constantFrom(...SPECIAL_PLAIN, "multi\nline", "multi\nline\n", "\nlead", "trail\n\n", " x\n y", "<<", "\u0085", "tab\tin").map(str),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
    fc.double({ noNaN: false }).map(float),
    fc.boolean().map(bool),
    fc.constantFrom("2001-12-14T21:59:43.1Z", "2001-12-14T00:00:00Z", "2001-12-14T21:59:43+05:30").map(time),
    fc.constant(nil),
)
const comments = fc.array(fc.record({ text: commentText, inline: fc.boolean() }), { maxLength: 2 })

export const { tree } = fc.letrec<{ value: Node; tree: Node }>((tie) => ({
    value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarNode, tie("tree")),
    tree: fc.oneof(
        fc
            .uniqueArray(fc.tuple(fc.oneof(word, anyText).filter((k) => k !== "<<"), tie("value"), comments), { maxLength: 4, selector: ([k]) => k })
            .map((es): Node => ({ kind: "map", items: es.flatMap(([key, value, cs]): MapItem[] => [...cs.map((c) => ({ kind: "comment" as const, ...c })), { kind: "entry", key, value }]) })),
        fc
            .array(fc.tuple(tie("value"), comments), { maxLength: 3 })
            .map((xs): Node => ({ kind: "list", items: xs.flatMap(([v, cs]): ListItem[] => [...cs.map((c) => ({ kind: "comment" as const, ...c })), v]) })),
    ),
}))
export const branches = fc.array(tree.filter((t): t is Branch => t.kind === "map"), { minLength: 1, maxLength: 2 })

