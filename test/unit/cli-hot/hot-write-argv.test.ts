/**
 * The writes' fast-path argv reader (src/cli/hot/write-argv.ts) against commander:
 * whatever command line it takes, the full program must reach the same command with
 * the same arguments and options (seen through the dispatch seam, as the wiring
 * tests do), and every line it does not fully understand must be left to the program.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { hotWritePlan, type HotWritePlan } from "../../../src/cli/hot/write-argv.js"
import { main } from "../../../src/main.js"
import { quietIo, recorder } from "../../helpers/wiring.js"

/** What the program's dispatch sees for `argv`, or undefined when it dispatched nothing (a usage error, help). */
async function programCall(argv: string[]) {
    const r = recorder()
    await main(argv, quietIo(), r.dispatch)
    expect(r.calls.length).toBeLessThanOrEqual(1)
    return r.calls[0]
}

function expected(plan: HotWritePlan) {
    const args = plan.command === "updatekeys" ? [plan.files] : [plan.file]
    return { command: plan.command, args, opts: plan.opts }
}

const R = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

describe("hotWritePlan", () => {
    it.each([
        [["encrypt", "f.yaml"], { command: "encrypt", file: "f.yaml", opts: {} }],
        [["encrypt", "-i", "f.yaml"], { command: "encrypt", file: "f.yaml", opts: { inPlace: true } }],
        [["encrypt", "f.yaml", "--in-place"], { command: "encrypt", file: "f.yaml", opts: { inPlace: true } }],
        [["encrypt", "--age", R, "f.yaml"], { command: "encrypt", file: "f.yaml", opts: { age: R } }],
        [["encrypt", "-a", `${R},${R}`, "f.yaml"], { command: "encrypt", file: "f.yaml", opts: { age: `${R},${R}` } }],
        [["encrypt", "--output", "o.yaml", "f.yaml"], { command: "encrypt", file: "f.yaml", opts: { output: "o.yaml" } }],
        [["encrypt", "--input-type", "yaml", "--output-type", "json", "f"], { command: "encrypt", file: "f", opts: { inputType: "yaml", outputType: "json" } }],
        [["updatekeys", "-y", "f.yaml"], { command: "updatekeys", files: ["f.yaml"], opts: { yes: true } }],
        [["updatekeys", "a.yaml", "--yes", "b.json"], { command: "updatekeys", files: ["a.yaml", "b.json"], opts: { yes: true } }],
        [["updatekeys", "--dry-run", "--input-type", "json", "f"], { command: "updatekeys", files: ["f"], opts: { dryRun: true, inputType: "json" } }],
        [["rotate", "-i", "f.yaml"], { command: "rotate", file: "f.yaml", opts: { inPlace: true } }],
        [["rotate", "f.yaml"], { command: "rotate", file: "f.yaml", opts: {} }],
        [["rotate", "--ignore-mac", "--output", "o", "f.yaml"], { command: "rotate", file: "f.yaml", opts: { ignoreMac: true, output: "o" } }],
    ])("takes %j", async (argv, plan) => {
        expect(hotWritePlan(argv)).toEqual(plan)
        expect(await programCall(argv)).toEqual(expected(plan as HotWritePlan))
    })

    it.each([
        [[]],
        [["encrypt"]],
        [["encrypt", "-"]],
        [["encrypt", "a", "b"]],
        [["encrypt", "--help"]],
        [["encrypt", "-iy", "f"]],
        [["encrypt", "-i", "--in-place", "f"]],
        [["encrypt", "--age=x", "f"]],
        [["encrypt", "--age", "-x", "f"]],
        [["encrypt", "--age", "", "f"]],
        [["encrypt", "--filename-override", "x.yaml", "f"]],
        [["encrypt", "--encrypted-regex", "^a", "f"]],
        [["encrypt", "--shamir-secret-sharing-threshold", "2", "f"]],
        [["encrypt", "--", "f"]],
        [["encrypt", "--verbose", "f"]],
        [["--verbose", "encrypt", "f"]],
        [["--config", "c.yaml", "encrypt", "f"]],
        [["updatekeys", "f"]],
        [["updatekeys", "-y"]],
        [["updatekeys", "-y", "--age-key-op", "op://a/b", "f"]],
        [["updatekeys", "-y", "--decryption-order", "age", "f"]],
        [["rotate", "-i"]],
        [["rotate", "--due"]],
        [["rotate", "--add-age", R, "f"]],
        [["rotate", "--rm-age", R, "f"]],
        [["rotate", "--strict", "-i", "f"]],
        [["rotate", "-i", "a", "b"]],
        [["rotate", "--input-type", "xml", "f"]],
        [["decrypt", "f"]],
        [["-e", "-i", "f"]],
    ])("leaves %j to the program", (argv) => {
        expect(hotWritePlan(argv)).toBeUndefined()
    })

    it("takes only command lines on which the program calls the same command with the same options", async () => {
        const word = fc.oneof(
            fc.constantFrom("encrypt", "updatekeys", "rotate", "decrypt", "help"),
            fc.constantFrom("-i", "--in-place", "--output", "--input-type", "--output-type", "-a", "--age", "-y", "--yes", "--dry-run", "--ignore-mac"),
            fc.constantFrom("--help", "-h", "--verbose", "--config", "--", "-", "", "--age=x", "-iy", "--due", "--add-age", "--strict", "--bogus", "-x"),
            fc.constantFrom("yaml", "json", "dotenv", "ini", "binary", "xml"),
            fc.constantFrom("f.yaml", "a b.json", R, `${R},${R}`, "f.env", "-f", "=x", "ünï.yaml"),
            fc.string({ maxLength: 6 }),
        )
        let taken = 0
        await fc.assert(
            fc.asyncProperty(fc.constantFrom("encrypt", "updatekeys", "rotate"), fc.array(word, { maxLength: 6 }), async (command, rest) => {
                const argv = [command, ...rest]
                const plan = hotWritePlan(argv)
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
