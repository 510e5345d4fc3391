/**
 * argv -> options for rotate, updatekeys and groups, with the run functions
 * replaced by a recorder (the dispatch seam of src/cli/context.ts).
 */
import { beforeEach, describe, expect, it } from "vitest"
import type { Dispatch } from "../../../src/cli/context.js"
import { quietIo, recorder, type Call } from "../../helpers/wiring.js"
import { main } from "../../../src/main.js"

let calls: Call[] = []
let record: Dispatch
beforeEach(() => {
    const r = recorder()
    calls = r.calls
    record = r.dispatch
})
const io = quietIo

const cases: [string[], string, unknown, Record<string, unknown>][] = [
    [["rotate", "f.yaml"], "rotate", "f.yaml", {}],
    [["rotate", "-i", "--add-age", "age1a,age1b", "--rm-age", "age1c", "f.yaml"], "rotate", "f.yaml", { inPlace: true, addAge: "age1a,age1b", rmAge: "age1c" }],
    [
        ["rotate", "--output", "o.json", "--input-type", "yaml", "--output-type", "json", "--ignore-mac", "f"],
        "rotate",
        "f",
        { output: "o.json", inputType: "yaml", outputType: "json", ignoreMac: true },
    ],
    [["updatekeys", "-y", "a.yaml", "b.yaml"], "updatekeys", ["a.yaml", "b.yaml"], { yes: true }],
    [["updatekeys", "--yes", "--dry-run", "--input-type", "json", "a"], "updatekeys", ["a"], { yes: true, dryRun: true, inputType: "json" }],
    [["--config", "c.yaml", "updatekeys", "--shamir-secret-sharing-threshold", "2", "a.yaml"], "updatekeys", ["a.yaml"], { config: "c.yaml", shamirSecretSharingThreshold: 2 }],
    [
        ["groups", "add", "--file", "f.yaml", "--age", "age1a", "--age", "age1b,age1c", "--shamir-secret-sharing-threshold", "2", "-i"],
        "groups add",
        undefined,
        { file: "f.yaml", age: ["age1a", "age1b,age1c"], shamirSecretSharingThreshold: 2, inPlace: true },
    ],
    [["groups", "delete", "-f", "f.yaml", "1"], "groups delete", 1, { file: "f.yaml" }],
    [["groups", "delete", "--in-place", "--file", "f.json", "0"], "groups delete", 0, { file: "f.json", inPlace: true }],
]

describe("argv -> options", () => {
    it.each(cases)("%j", async (argv, command, first, want) => {
        const i = io()
        expect(await main(argv, i, record)).toBe(0)
        expect(i.err()).toBe("")
        expect(calls).toHaveLength(1)
        expect(calls[0]!.command).toBe(command)
        expect(calls[0]!.args[0]).toEqual(first)
        expect(calls[0]!.opts).toMatchObject(want)
    })

    it("groups take SOPS_DECRYPTION_ORDER but not SOPS_AGE_RECIPIENTS; updatekeys takes SOPS_CONFIG", async () => {
        const env = { SOPS_DECRYPTION_ORDER: "age", SOPS_AGE_RECIPIENTS: "age1env", SOPS_CONFIG: "env.yaml" }
        expect(await main(["groups", "delete", "-f", "f.yaml", "0"], io(env), record)).toBe(0)
        expect(calls[0]!.opts.decryptionOrder).toBe("age")
        expect(calls[0]!.opts.age).toBeUndefined()
        expect(await main(["updatekeys", "f.yaml"], io(env), record)).toBe(0)
        expect(calls[1]!.opts.config).toBe("env.yaml")
    })

    it.each([
        [["groups", "delete", "1"], /required option '-f, --file <file>' not specified/],
        [["groups", "delete", "-f", "f.yaml", "one"], /must be a group index/],
        [["groups", "add", "--file"], /argument missing/],
        [["updatekeys"], /missing required argument 'files'/],
        [["rotate"], /missing required argument 'file'/],
        [["updatekeys", "--shamir-secret-sharing-threshold", "0", "f"], /must be a positive integer/],
    ])("rejects %j with exit 1 and no call", async (argv, message) => {
        const i = io()
        expect(await main(argv, i, record)).toBe(1)
        expect(i.err()).toMatch(message)
        expect(i.err()).toMatch(/^secrets: error: /)
        expect(calls).toEqual([])
    })
})
