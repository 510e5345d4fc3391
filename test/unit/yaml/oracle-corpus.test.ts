/**
 * Differential: every hand-written document of oracle-corpus.ts is read by our YAML
 * store and by go-yaml v3 through sops's store walk (test/oracle/go-yaml), and then
 * written back by both. Any difference fails, except the ones docs/format.md lists
 * as kept on purpose (KEPT below, each checked to still be a difference).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { askOracle, buildOracle, type OracleAnswer } from "../../oracle/go-yaml/oracle.js"
import { CORPUS } from "./oracle-corpus.js"
import { loadDifference, oracleSkipReason, roundtripDifference, titled } from "./oracle-helpers.js"

/**
 * Differences kept on purpose, with the reason docs/format.md gives: corners of YAML
 * syntax where the `yaml` package (YAML 1.2) and go-yaml's scanner (YAML 1.1 era)
 * disagree on whether the text is valid. None changes a value both accept.
 */
const KEPT: Readonly<Record<string, string>> = {
    "k: [!]\n": "go-yaml refuses an empty `!`-tagged node before `]`; we read null",
    "k: [-]\n": 'go-yaml reads a lone `-` in a flow sequence as the string "-"; we refuse it',
    "k: [:x]\n": 'go-yaml refuses `:x` in a flow sequence; we read the string ":x"',
    'a: "\\\n"\n': "go-yaml reads an escaped line break right before the closing quote; we refuse it",
    "a: 1\rb: 2\n": "go-yaml takes a lone CR as a line break (YAML 1.1); we refuse it",
    "a: \"\\'\"\n": "go-yaml reads the YAML 1.1 escape \\' in double quotes; YAML 1.2 and we refuse it",
    "k: >+\n     \n  # more\n": "go-yaml ends a block scalar whose leading blank line has more spaces than its first text line (that line is then read as more YAML); YAML 1.2 and we refuse it",
}

const skip = oracleSkipReason()

describe.skipIf(skip !== undefined)(titled("YAML reads and writes as go-yaml v3 through sops's store (oracle)", skip), () => {
    const answers = new Map<string, { load: OracleAnswer; roundtrip: OracleAnswer }>()
    beforeAll(async () => {
        const bin = await buildOracle()
        const texts = [...new Set([...Object.values(CORPUS).flat(), ...Object.keys(KEPT)])]
        const got = await askOracle(bin, texts.flatMap((yaml) => [{ op: "load" as const, yaml }, { op: "roundtrip" as const, yaml }]))
        texts.forEach((t, i) => answers.set(t, { load: got[2 * i] ?? {}, roundtrip: got[2 * i + 1] ?? {} }))
    }, 300_000)

    const differences = (t: string): string[] => {
        const a = answers.get(t)
        if (a === undefined) throw new Error(`no oracle answer for ${JSON.stringify(t)}`)
        return [loadDifference(t, a.load), roundtripDifference(t, a.roundtrip)].filter((d) => d !== undefined)
    }

    for (const [category, texts] of Object.entries(CORPUS)) {
        it(`${category} (${texts.length} documents)`, () => {
            expect(texts.filter((t) => !(t in KEPT)).flatMap(differences)).toEqual([])
        })
    }

    it("the differences kept on purpose are still differences", () => {
        for (const t of Object.keys(KEPT)) expect(differences(t), JSON.stringify(t)).not.toEqual([])
    })
})
