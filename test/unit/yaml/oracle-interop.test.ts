/**
 * Differential on real files: every YAML file of the interop vectors (plaintexts and
 * the files sops, sops-nix, rops and others wrote) is read and written back by our
 * store and by go-yaml through sops's store walk (test/oracle/go-yaml), alike.
 */
import { readFileSync, readdirSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { askOracle, buildOracle, type OracleAnswer } from "../../oracle/go-yaml/oracle.js"
import { loadDifference, oracleSkipReason, roundtripDifference, titled } from "./oracle-helpers.js"

const ROOT = join(import.meta.dirname, "../../fixtures/interop")

function yamlFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) return yamlFiles(p)
        return /\.ya?ml$/.test(name) ? [relative(ROOT, p)] : []
    })
}

const files = yamlFiles(ROOT).sort()
const skip = oracleSkipReason()

describe.skipIf(skip !== undefined)(titled("the interop YAML files read and write as go-yaml through sops's store (oracle)", skip), () => {
    const texts = files.map((f) => readFileSync(join(ROOT, f), "utf8"))
    let answers: OracleAnswer[] = []
    beforeAll(async () => {
        answers = await askOracle(
            await buildOracle(),
            texts.flatMap((yaml) => [{ op: "load" as const, yaml }, { op: "roundtrip" as const, yaml, indent: 4 }, { op: "roundtrip" as const, yaml, indent: 2 }]),
        )
    }, 300_000)

    it("finds the files", () => expect(files.length).toBeGreaterThanOrEqual(30))

    files.forEach((f, i) => {
        it(f, () => {
            const t = texts[i] ?? ""
            const differences = [
                loadDifference(t, answers[3 * i] ?? {}),
                roundtripDifference(t, answers[3 * i + 1] ?? {}, 4),
                roundtripDifference(t, answers[3 * i + 2] ?? {}, 2),
            ]
            expect(differences.filter((d) => d !== undefined)).toEqual([])
            // Every interop file is one that sops reads.
            expect(answers[3 * i]?.error).toBeUndefined()
        })
    })
})
