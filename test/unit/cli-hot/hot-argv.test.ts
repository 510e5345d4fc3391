/**
 * The fast path's argv reader (src/cli/hot/argv.ts) against commander: whatever
 * command line it takes, the full program must reach the same command with the
 * same arguments and options (seen through the dispatch seam, as the wiring tests
 * do), and every line it does not fully understand must be left to the program.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { hotPlan, type HotPlan } from "../../../src/cli/hot/argv.js"
import { main } from "../../../src/main.js"
import { quietIo, recorder } from "../../helpers/wiring.js"

/** What the program's dispatch sees for `argv`, or undefined when it dispatched nothing (a usage error, help). */
async function programCall(argv: string[]) {
    const r = recorder()
    await main(argv, quietIo(), r.dispatch)
    expect(r.calls.length).toBeLessThanOrEqual(1)
    return r.calls[0]
}

function expected(plan: HotPlan) {
    const args = plan.command === "exec-env" ? [plan.file, plan.shellCommand] : [plan.file]
    return { command: plan.command, args, opts: plan.opts }
}

describe("hotPlan", () => {
    it.each([
        [["decrypt", "f.yaml"], { command: "decrypt", file: "f.yaml", opts: {} }],
        [["view", "f.yaml"], { command: "view", file: "f.yaml", opts: {} }],
        [["decrypt", "--extract", '["a"][0]', "--ignore-mac", "f.yaml"], { command: "decrypt", file: "f.yaml", opts: { extract: '["a"][0]', ignoreMac: true } }],
        [["decrypt", "f.json", "--output-type", "yaml", "--input-type", "json"], { command: "decrypt", file: "f.json", opts: { outputType: "yaml", inputType: "json" } }],
        [["filestatus", "--input-type", "json", "f"], { command: "filestatus", file: "f", opts: { inputType: "json" } }],
        [["exec-env", "f.env", "echo $A"], { command: "exec-env", file: "f.env", shellCommand: "echo $A", opts: {} }],
        [["exec-env", "--pristine", "f.env", "env"], { command: "exec-env", file: "f.env", shellCommand: "env", opts: { pristine: true } }],
    ])("takes %j", async (argv, plan) => {
        expect(hotPlan(argv)).toEqual(plan)
        expect(await programCall(argv)).toEqual(expected(plan as HotPlan))
    })

    it.each([
        [[]],
        [["--version"]],
        [["--verbose", "decrypt", "f.yaml"]],
        [["--config", "c.yaml", "decrypt", "f.yaml"]],
        [["decrypt"]],
        [["decrypt", "--help"]],
        [["decrypt", "-h", "f.yaml"]],
        [["decrypt", "-i", "f.yaml"]],
        [["decrypt", "--output", "o", "f.yaml"]],
        [["decrypt", "--extract=x", "f.yaml"]],
        [["decrypt", "--extract", "f.yaml"]],
        [["decrypt", "--extract", "-x", "f.yaml"]],
        [["decrypt", "--input-type", "xml", "f.yaml"]],
        [["decrypt", "--ignore-mac", "--ignore-mac", "f.yaml"]],
        [["decrypt", "--", "f.yaml"]],
        [["decrypt", "-", "f.yaml"]],
        [["decrypt", "a", "b"]],
        [["decrypt", ""]],
        [["decrypt", "--verbose", "f.yaml"]],
        [["view"]],
        [["filestatus", "--extract", "x", "f"]],
        [["exec-env", "f.env"]],
        [["exec-env", "f.env", "cmd", "extra"]],
        [["exec-env", "--user", "u", "f.env", "cmd"]],
        [["exec-env", "f.env", "--", "cmd"]],
        [["exec-env", "f.env", "-c"]],
        [["encrypt", "f.yaml"]],
        [["f.yaml"]],
    ])("leaves %j to the program", (argv) => {
        expect(hotPlan(argv)).toBeUndefined()
    })

    it("takes only command lines on which the program calls the same command with the same options", async () => {
        const word = fc.oneof(
            fc.constantFrom("decrypt", "view", "filestatus", "exec-env", "encrypt", "keys"),
            fc.constantFrom("--extract", "--input-type", "--output-type", "--ignore-mac", "--pristine", "--user", "--output", "-i", "--in-place"),
            fc.constantFrom("--help", "-h", "--verbose", "--config", "--", "-", "", "--extract=x", "--input-type=json", "--bogus", "-x"),
            fc.constantFrom("yaml", "json", "dotenv", "ini", "binary", "xml"),
            fc.constantFrom("f.yaml", "a b.json", '["a"]["b"]', "echo $A", "true", "f.env", "-f", "=x", "ünï.yaml"),
            fc.string({ maxLength: 6 }),
        )
        let taken = 0
        await fc.assert(
            fc.asyncProperty(fc.constantFrom("decrypt", "view", "filestatus", "exec-env"), fc.array(word, { maxLength: 6 }), async (command, rest) => {
                const argv = [command, ...rest]
                const plan = hotPlan(argv)
                if (plan === undefined) return
                taken++
                expect(await programCall(argv)).toEqual(expected(plan))
            }),
            { numRuns: 1000 },
        )
        // The vocabulary must produce plain lines too, or the property says nothing.
        expect(taken).toBeGreaterThan(20)
    })
})
