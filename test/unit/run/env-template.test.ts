/**
 * Env templates of `secrets run --env-file` and placeholder variables
 * (src/run/env-template.ts): what is a variable, what is a placeholder, and
 * errors that name the template's own line and column.
 */
import { describe, expect, it } from "vitest"
import { referenceKey } from "../../../src/delivery/template.js"
import { environmentTemplates, parseEnvTemplate } from "../../../src/run/env-template.js"
import { FormatError } from "../../../src/errors.js"

const render = (v: ReturnType<typeof parseEnvTemplate>[number], values: Record<string, string> = {}) => {
    const map = new Map(v.template.references.map((r) => [referenceKey(r), values[r.kind === "file" ? r.path : r.reference] ?? "?"]))
    return v.template.render(map).slice(v.skip)
}

describe("env templates", () => {
    it("reads NAME=VALUE lines: comments, export, quotes; placeholders resolved, plain text kept", () => {
        const vars = parseEnvTemplate(`# c\n\nexport A=plain value\nB="x{{ f.yaml#["k"] }}y"\nC='{{ op://V/I/f }}'\n`, "t.env")
        expect(vars.map((v) => v.name)).toEqual(["A", "B", "C"])
        expect(render(vars[0]!)).toBe("plain value")
        expect(render(vars[1]!, { '["k"]': "SECRET" })).toBe("xSECRETy")
        expect(render(vars[2]!, { "op://V/I/f": "OP" })).toBe("OP")
    })

    it("names the template's own line and column in a placeholder error", () => {
        expect(() => parseEnvTemplate(`A=1\n\nB="ab{{ f.yaml }}"\n`, "t.env")).toThrow(/^t\.env:3:6: /)
        expect(() => parseEnvTemplate(`A=1\nnot a line\n`, "t.env")).toThrow(FormatError)
        expect(() => parseEnvTemplate(`1A=x\n`, "t.env")).toThrow(/t\.env:1: "1A" is not a variable name/)
        expect(() => parseEnvTemplate(`A="open\n`, "t.env")).toThrow(/t\.env:1: unclosed double quote/)
    })

    it("resolves only variables whose whole value is a placeholder or an op:// reference", () => {
        const vars = environmentTemplates({ A: "op://V/I/f", B: '{{ s.yaml#["k"] }}', C: "hello {{ name }} world", D: "plain" })
        expect(vars.map((v) => v.name)).toEqual(["A", "B"])
    })
})
