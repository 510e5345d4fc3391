/**
 * Differential, generated: YAML documents and trees from oracle-generators.ts; our
 * store and go-yaml through sops's store walk (test/oracle/go-yaml) must read, write
 * and round-trip them alike. A fixed seed and a bounded number of runs keep it
 * reproducible and quick; all samples go to the oracle in one batch.
 */
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"
import { isDeepStrictEqual } from "node:util"
import { askOracle, buildOracle, type OracleAnswer, type OracleRequest } from "../../oracle/go-yaml/oracle.js"
import type { Node } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { branches, documentText, tree } from "./oracle-generators.js"
import { docsToOracle, loadDifference, oracleLoad, oracleSkipReason, ourEmit, ourLoad, roundtripDifference, titled, toOracle } from "./oracle-helpers.js"

const SEED = 20261206
const DOCUMENTS = 400
const TREES = 300

const skip = oracleSkipReason()

/** A tree without its comments: what the values, keys, order and types are. */
function withoutComments(n: Node): Node {
    if (n.kind === "map") return { kind: "map", items: n.items.flatMap((it) => (it.kind === "comment" ? [] : [{ ...it, value: withoutComments(it.value) }])) }
    if (n.kind === "list") return { kind: "list", items: n.items.flatMap((it) => (it.kind === "comment" ? [] : [withoutComments(it)])) }
    return n
}

describe.skipIf(skip !== undefined)(titled("generated YAML and trees agree with go-yaml through sops's store (oracle)", skip), () => {
    const plain = fc.sample(documentText(false), { seed: SEED, numRuns: DOCUMENTS })
    const commented = fc.sample(documentText(true), { seed: SEED + 2, numRuns: DOCUMENTS / 2 })
    const trees = fc.sample(fc.tuple(branches, fc.integer({ min: 2, max: 9 })), { seed: SEED, numRuns: TREES })
    const values = fc.sample(tree, { seed: SEED + 1, numRuns: TREES / 3 })
    let answers: OracleAnswer[] = []
    const at = { commented: 2 * plain.length, trees: 2 * plain.length + commented.length, values: 2 * plain.length + commented.length + trees.length }

    beforeAll(async () => {
        const bin = await buildOracle()
        const requests: OracleRequest[] = [
            ...plain.flatMap((yaml): OracleRequest[] => [{ op: "load", yaml }, { op: "roundtrip", yaml }]),
            ...commented.map((yaml): OracleRequest => ({ op: "load", yaml })),
            ...trees.map(([docs, indent]): OracleRequest => ({ op: "emit", docs: docsToOracle(docs), indent })),
            ...values.map((v): OracleRequest => ({ op: "emitValue", value: toOracle(v) })),
        ]
        answers = await askOracle(bin, requests)
    }, 300_000)

    it(`${DOCUMENTS} generated documents without comments read and round-trip alike`, () => {
        const differences = plain.flatMap((t, i) => [loadDifference(t, answers[2 * i] ?? {}), roundtripDifference(t, answers[2 * i + 1] ?? {})])
        expect(differences.filter((d) => d !== undefined)).toEqual([])
        // The generator must mostly write valid YAML, or the comparison says little.
        expect(plain.filter((_, i) => answers[2 * i]?.docs !== undefined).length).toBeGreaterThan(DOCUMENTS * 0.6)
    })

    it(`${DOCUMENTS / 2} generated documents with comments give the same values (comment placement: docs/format.md)`, () => {
        const differences = commented.flatMap((t, i) => {
            const theirs = oracleLoad(answers[at.commented + i] ?? {})
            const ours = ourLoad(t)
            if ("docs" in theirs && "docs" in ours) {
                const [a, b] = [theirs.docs.map(withoutComments), ours.docs.map(withoutComments)]
                return isDeepStrictEqual(a, b) ? [] : [`${JSON.stringify(t)}: the values differ`]
            }
            return !("docs" in theirs) && "error" in ours ? [] : [`${JSON.stringify(t)}: ${JSON.stringify(theirs).slice(0, 200)} / ${JSON.stringify(ours).slice(0, 200)}`]
        })
        expect(differences).toEqual([])
    })

    it(`${TREES} generated trees with comments are written alike (indent 2..9)`, () => {
        const differences = trees.flatMap(([docs, indent], i) => {
            const theirs = answers[at.trees + i]
            const ours = ourEmit(docs, indent)
            return theirs?.yaml === ours ? [] : [`indent ${indent}:\n  go-yaml: ${JSON.stringify(theirs)}\n  ours:    ${JSON.stringify(ours)}`]
        })
        expect(differences).toEqual([])
    })

    it(`${values.length} generated values are written alike by emitValue (decrypt --extract)`, () => {
        const store = createYamlStore()
        const differences = values.flatMap((v, i) => {
            const theirs = answers[at.values + i]
            const ours = new TextDecoder().decode(store.emitValue(v))
            return theirs?.yaml === ours ? [] : [`go-yaml: ${JSON.stringify(theirs)}\n  ours:    ${JSON.stringify(ours)}`]
        })
        expect(differences).toEqual([])
    })
})
