/**
 * Bounded work on hostile YAML (issue 10, points 10 and 12): alias expansion is
 * capped by go-yaml v3's rule, nesting by MAX_NESTING_DEPTH, with one clear error
 * and never a stack overflow. The full-size "billion laughs" file runs through the
 * binary in cli-bounds.test.ts, in a child process with a memory ceiling; here a
 * smaller bomb shows the same rule in process.
 */
import { describe, expect, test } from "vitest"
import { AliasBudget, allowedAliasRatio, InputLimitError, MAX_NESTING_DEPTH } from "../../../src/core/input-limits.js"
import type { Node } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"

const store = createYamlStore()
const enc = new TextEncoder()
const parse = (text: string) => store.parsePlain(enc.encode(text))

/** The error `parse` throws, or undefined. */
function parseError(text: string): unknown {
    try {
        parse(text)
    } catch (e) {
        return e
    }
    return undefined
}

/** `levels` anchors, each a list of `width` aliases of the one before: width^levels leaves. */
function laughs(levels: number, width = 9): string {
    const lines = [`a0: &a0 [${Array(width).fill('"lol"').join(", ")}]`]
    for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(", ")}]`)
    return lines.join("\n") + "\n"
}

/** How deep a parsed value nests (the top-level mapping is level 1). */
function depthOf(n: Node): number {
    let depth = 0
    let level: Node[] = [n]
    while (level.length > 0) {
        const next: Node[] = []
        for (const x of level) {
            if (x.kind === "map") for (const it of x.items) if (it.kind === "entry") next.push(it.value)
            if (x.kind === "list") for (const it of x.items) if (it.kind !== "comment") next.push(it)
        }
        if (level.some((x) => x.kind === "map" || x.kind === "list")) depth++
        level = next
    }
    return depth
}

describe("go-yaml's alias budget", () => {
    test("allowedAliasRatio is go-yaml's: 99% up to 400,000 decodes, 10% from 4,000,000, linear between", () => {
        expect(allowedAliasRatio(1)).toBe(0.99)
        expect(allowedAliasRatio(400_000)).toBe(0.99)
        expect(allowedAliasRatio(2_200_000)).toBeCloseTo(0.545, 12)
        expect(allowedAliasRatio(4_000_000)).toBe(0.1)
        expect(allowedAliasRatio(9_000_000)).toBe(0.1)
    })

    test("the check trips exactly where go-yaml's does: more than 100 aliased, more than 1,000 decodes, ratio above", () => {
        const budget = (plain: number, aliased: number): AliasBudget => {
            const b = new AliasBudget()
            for (let i = 0; i < plain; i++) b.count(false)
            for (let i = 0; i < aliased; i++) b.count(true)
            return b
        }
        // 1,000 decodes is not "more than 1,000", whatever the ratio.
        expect(() => budget(10, 990)).not.toThrow()
        // 1,001 decodes with 991 aliased: 0.99001 > 0.99.
        expect(() => budget(10, 991)).toThrow(InputLimitError)
        // 1,001 decodes with 990 aliased: 0.98901, allowed.
        expect(() => budget(11, 990)).not.toThrow()
        // 100 aliased is not "more than 100".
        expect(() => budget(0, 100)).not.toThrow()
    })

    test("a five-level bomb (59,049 leaves from 300 bytes) is refused with one clear error", () => {
        const e = parseError(laughs(5))
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as InputLimitError).message).toBe("excessive aliasing in YAML: its aliases expand to far more than the file itself holds")
        expect((e as InputLimitError).hints[0]).toMatch(/billion laughs/)
    })

    test("ordinary anchors are expanded as before: one anchor used 200 times, merge-like maps", () => {
        const uses = Array.from({ length: 200 }, (_, i) => `  s${i}: *common`).join("\n")
        const [doc] = parse(`defaults: &common {user: app, port: 5432, tls: true}\nservices:\n${uses}\n`)
        const services = doc?.items[1]
        expect(services?.kind === "entry" && services.value.kind === "map" ? services.value.items.length : 0).toBe(200)
        const first = services?.kind === "entry" && services.value.kind === "map" ? services.value.items[0] : undefined
        expect(first?.kind === "entry" ? first.value : undefined).toEqual({
            kind: "map",
            items: [
                { kind: "entry", key: "user", value: { kind: "str", value: "app" } },
                { kind: "entry", key: "port", value: { kind: "int", value: 5432n } },
                { kind: "entry", key: "tls", value: { kind: "bool", value: true } },
            ],
        })
    })

    test("an anchor that contains an alias of itself is an error, as in yaml.v3", () => {
        const e = parseError("a: 1\nb: &loop [x, *loop]\n")
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as Error).message).toBe("the anchor at line 2 contains an alias of itself")
    })
})

describe("nesting depth", () => {
    // Documents whose values nest `d` levels deep, the top-level mapping included.
    const shapes: [string, (d: number) => string][] = [
        ["flow sequences", (d) => `a: ${"[".repeat(d - 1)}1${"]".repeat(d - 1)}\n`],
        ["flow mappings", (d) => `a: ${"{a: ".repeat(d - 1)}1${"}".repeat(d - 1)}\n`],
        ["block mappings", (d) => Array.from({ length: d }, (_, i) => `${" ".repeat(i)}a:`).join("\n") + " 1\n"],
        ["block sequences", (d) => "a:\n" + Array.from({ length: d - 1 }, (_, i) => `${" ".repeat(2 * i)}-`).join("\n") + " 1\n"],
        ["compact sequences", (d) => `a:\n  ${"- ".repeat(d - 1)}1\n`],
        ["anchored and tagged flow sequences", (d) => `a: ${Array.from({ length: d - 1 }, (_, i) => `&x${i} !!seq [`).join("")}1${"]".repeat(d - 1)}\n`],
        ["block scalars at the bottom", (d) => Array.from({ length: d }, (_, i) => `${" ".repeat(i)}a:`).join("\n") + ` |\n${" ".repeat(d + 1)}text\n`],
    ]

    test.each(shapes)(`%s: ${MAX_NESTING_DEPTH} levels parse, one more is a clear error`, (_name, make) => {
        const [doc] = parse(make(MAX_NESTING_DEPTH))
        expect(doc === undefined ? 0 : depthOf(doc)).toBe(MAX_NESTING_DEPTH)
        const e = parseError(make(MAX_NESTING_DEPTH + 1))
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as Error).message).toMatch(/^YAML nested too deeply at line \d+ \(more than 500 levels of mappings and lists\)$/)
    })

    test("a document at the limit is written and read back unchanged", () => {
        for (const [, make] of shapes) {
            const branches = parse(make(MAX_NESTING_DEPTH))
            expect(store.parsePlain(store.emitPlain(branches))).toEqual(branches)
        }
    })

    test("a megabyte of [ is a clear error, not a stack overflow", () => {
        const e = parseError(`a: ${"[".repeat(1_000_000)}`)
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as Error).message).toBe("YAML nested too deeply at line 1 (more than 500 levels of mappings and lists)")
    })

    test("nesting made by expanding aliases counts too", () => {
        // Each anchor is 300 levels deep and holds the one before at its bottom: 1,200
        // levels once expanded, from a file that never nests more than 301.
        const lines = [`a0: &a0 ${"[".repeat(300)}1${"]".repeat(300)}`]
        for (let i = 1; i <= 3; i++) lines.push(`a${i}: &a${i} ${"[".repeat(300)}*a${i - 1}${"]".repeat(300)}`)
        const e = parseError(lines.join("\n") + "\n")
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as Error).message).toBe(
            "YAML nested too deeply at line 1 once its aliases are expanded (more than 500 levels of mappings and lists)",
        )
    })
})
