/**
 * Bounded work on hostile JSON and `.sops.yaml` (issue 10, points 10 and 12): the
 * same "nested too deeply" error as YAML, and the config under go-yaml's alias
 * budget, as sops reads it with yaml.Unmarshal.
 */
import { describe, expect, test } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import { InputLimitError, MAX_NESTING_DEPTH } from "../../../src/core/input-limits.js"
import { ConfigError, ExitCode, SecretsError } from "../../../src/errors.js"
import { parseJsonValue } from "../../../src/cli/json-value.js"
import { createJsonStore } from "../../../src/stores/json.js"

const store = createJsonStore()
const enc = new TextEncoder()

function thrown(f: () => unknown): unknown {
    try {
        f()
    } catch (e) {
        return e
    }
    return undefined
}

/** An object nesting `d` levels deep (the top-level object is level 1), arrays below the first. */
const deepJson = (d: number): string => `{"a": ${"[".repeat(d - 1)}1${"]".repeat(d - 1)}}`
const deepObjects = (d: number): string => `${'{"a": '.repeat(d)}1${"}".repeat(d)}`

describe("JSON nesting", () => {
    test.each([
        ["arrays", deepJson],
        ["objects", deepObjects],
    ])(`%s: ${MAX_NESTING_DEPTH} levels parse and write back unchanged, one more is a clear error`, (_name, make) => {
        const branches = store.parsePlain(enc.encode(make(MAX_NESTING_DEPTH)))
        expect(store.parsePlain(store.emitPlain(branches))).toEqual(branches)
        const e = thrown(() => store.parsePlain(enc.encode(make(MAX_NESTING_DEPTH + 1))))
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as Error).message).toMatch(/^JSON nested too deeply at line 1, column \d+ \(more than 500 levels of mappings and lists\)$/)
    })

    test("5,000 levels (where the recursive parser used to overflow) and a megabyte of [ give the same error", () => {
        for (const text of [deepJson(5000), `{"a": ${"[".repeat(1_000_000)}`]) {
            const e = thrown(() => store.parsePlain(enc.encode(text)))
            expect(e).toBeInstanceOf(InputLimitError)
            // Column 506: the 501st opening bracket, after `{"a": ` and 499 others.
            expect((e as Error).message).toBe("JSON nested too deeply at line 1, column 506 (more than 500 levels of mappings and lists)")
        }
    })

    test("a value given to set is held to the same bound: the usual invalid-value error, exit 7", () => {
        const e = thrown(() => parseJsonValue(`${"[".repeat(5000)}${"]".repeat(5000)}`))
        expect(e).toBeInstanceOf(SecretsError)
        expect((e as SecretsError).code).toBe(ExitCode.InvalidSetFormat)
    })
})

describe(".sops.yaml", () => {
    const laughs = (levels: number): string => {
        const lines = [`keys:\n  - &k0 [${Array(9).fill("age1x").join(", ")}]`]
        for (let i = 1; i <= levels; i++) lines.push(`  - &k${i} [${Array(9).fill(`*k${i - 1}`).join(", ")}]`)
        return lines.join("\n") + "\ncreation_rules:\n  - age: *k" + levels + "\n"
    }

    test("a billion laughs config is refused as go-yaml refuses it, naming the file", () => {
        const e = thrown(() => parseConfig(laughs(9), "/repo/.sops.yaml"))
        expect(e).toBeInstanceOf(ConfigError)
        expect((e as ConfigError).message).toBe("/repo/.sops.yaml: excessive aliasing in YAML: its aliases expand to far more than the file itself holds")
    })

    test("a config nested too deeply is a ConfigError, not a parse failure of the yaml package", () => {
        const e = thrown(() => parseConfig(`creation_rules: ${"[".repeat(100_000)}`, ".sops.yaml"))
        expect(e).toBeInstanceOf(ConfigError)
        expect((e as ConfigError).message).toBe(".sops.yaml: YAML nested too deeply at line 1 (more than 500 levels of mappings and lists)")
    })

    test("an anchor containing an alias of itself is refused before anything expands it", () => {
        const e = thrown(() => parseConfig("keys:\n  - &loop [age1x, *loop]\ncreation_rules:\n  - age: age1x\n", ".sops.yaml"))
        expect(e).toBeInstanceOf(ConfigError)
        expect((e as ConfigError).message).toBe(".sops.yaml: the anchor at line 2 contains an alias of itself")
    })

    test("sops-nix shapes stay readable: 300 rules each naming 5 anchored keys", () => {
        const keys = Array.from({ length: 5 }, (_, i) => `  - &host${i} age1host${i}`).join("\n")
        const rules = Array.from({ length: 300 }, (_, i) => `  - path_regex: h${i}/\n    key_groups:\n      - age: [*host0, *host1, *host2, *host3, *host4]`).join("\n")
        const config = parseConfig(`keys:\n${keys}\ncreation_rules:\n${rules}\n`, ".sops.yaml")
        expect(config.creation_rules).toHaveLength(300)
        expect(config.creation_rules?.[299]?.key_groups?.[0]?.age).toEqual(["age1host0", "age1host1", "age1host2", "age1host3", "age1host4"])
    })
})
