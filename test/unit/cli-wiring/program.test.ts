/**
 * argv -> options: the commander wiring, with every command's run function
 * replaced (changesets' cli.test.ts pattern). Fast, and it fails when a flag is
 * renamed, dropped, or reaches the command under another name.
 */
import { beforeEach, describe, expect, it } from "vitest"
import { quietIo, recorder, type Call } from "../../helpers/wiring.js"
import { main } from "../../../src/main.js"
import type { Dispatch } from "../../../src/cli/context.js"

let calls: Call[] = []
let record: Dispatch
beforeEach(() => {
    const r = recorder()
    calls = r.calls
    record = r.dispatch
})
const io = quietIo

const cases: [string[], string, unknown, Record<string, unknown>][] = [
    [["decrypt", "f.yaml"], "decrypt", "f.yaml", {}],
    [["decrypt"], "decrypt", undefined, {}],
    [["decrypt", "-i", "f.yaml"], "decrypt", "f.yaml", { inPlace: true }],
    [["decrypt", "--output", "o.json", "--output-type", "json", "f.yaml"], "decrypt", "f.yaml", { output: "o.json", outputType: "json" }],
    [["decrypt", "--extract", '["a"][0]', "--ignore-mac", "f.yaml"], "decrypt", "f.yaml", { extract: '["a"][0]', ignoreMac: true }],
    [["decrypt", "--input-type", "dotenv", "--filename-override", "x.env"], "decrypt", undefined, { inputType: "dotenv", filenameOverride: "x.env" }],
    [["decrypt", "--decryption-order", "age,pgp", "f.yaml"], "decrypt", "f.yaml", { decryptionOrder: "age,pgp" }],
    [["view", "f.yaml"], "view", "f.yaml", {}],
    [["filestatus", "--input-type", "json", "f"], "filestatus", "f", { inputType: "json" }],
    [["--config", "c.yaml", "--indent", "2", "decrypt", "f.yaml"], "decrypt", "f.yaml", { config: "c.yaml", indent: 2 }],
    [["encrypt", "--age", "age1a,age1b", "f.yaml"], "encrypt", "f.yaml", { age: "age1a,age1b" }],
    [["encrypt", "-a", "age1a", "-i", "f.yaml"], "encrypt", "f.yaml", { age: "age1a", inPlace: true }],
    [["encrypt", "--encrypted-regex", "^data$", "f.yaml"], "encrypt", "f.yaml", { encryptedRegex: "^data$" }],
    [["encrypt", "--unencrypted-suffix", "_clear", "f.yaml"], "encrypt", "f.yaml", { unencryptedSuffix: "_clear" }],
    [["encrypt", "--shamir-secret-sharing-threshold", "2", "f.yaml"], "encrypt", "f.yaml", { shamirSecretSharingThreshold: 2 }],
    [["--mac-only-encrypted", "encrypt", "f.yaml"], "encrypt", "f.yaml", { macOnlyEncrypted: true }],
    [["edit", "f.yaml"], "edit", "f.yaml", {}],
    [["edit", "-s", "--age", "age1a", "--ignore-mac", "new.yaml"], "edit", "new.yaml", { showMasterKeys: true, age: "age1a", ignoreMac: true }],
    [["set", "f.yaml", '["a"]', '"v"'], "set", "f.yaml", {}],
    [["set", "--value-stdin", "--idempotent", "f.yaml", '["a"]'], "set", "f.yaml", { valueStdin: true, idempotent: true }],
    [["set", "--value-file", "f.yaml", '["a"]', "v.json"], "set", "f.yaml", { valueFile: true }],
    [["unset", "--idempotent", "f.yaml", '["a"]'], "unset", "f.yaml", { idempotent: true }],
    [["exec-env", "--pristine", "f.yaml", "env"], "exec-env", "f.yaml", { pristine: true }],
    [["exec-file", "--no-fifo", "--filename", "x.json", "--output-type", "json", "f.yaml", "cat {}"], "exec-file", "f.yaml", { fifo: false, filename: "x.json", outputType: "json" }],
    // The legacy root form of sops.
    [["-d", "f.yaml"], "decrypt (legacy)", "f.yaml", { decrypt: true }],
    [["-e", "-i", "--age", "age1a", "f.yaml"], "encrypt (legacy)", "f.yaml", { encrypt: true, inPlace: true, age: "age1a" }],
    [["-r", "--add-age", "age1n", "f.yaml"], "rotate (legacy)", "f.yaml", { rotate: true, addAge: "age1n" }],
    [["--set", '["a"] "v"', "f.yaml"], "set (legacy)", "f.yaml", { set: '["a"] "v"' }],
    [["f.yaml"], "edit (legacy)", "f.yaml", {}],
    [["-d", "--extract", '["a"]', "--output-type", "json", "f.yaml"], "decrypt (legacy)", "f.yaml", { extract: '["a"]', outputType: "json" }],
    [["encrypt", "--filename-override", "s/x.yaml", "--input-type", "yaml"], "encrypt", undefined, { filenameOverride: "s/x.yaml", inputType: "yaml" }],
]

describe("argv -> options", () => {
    it.each(cases)("%j", async (argv, command, file, want) => {
        expect(await main(argv, io(), record)).toBe(0)
        expect(calls).toHaveLength(1)
        expect(calls[0]!.command).toBe(command)
        expect(calls[0]!.args[0]).toBe(file)
        expect(calls[0]!.opts).toMatchObject(want)
    })

    it("takes recipients from SOPS_AGE_RECIPIENTS like --age", async () => {
        expect(await main(["encrypt", "f.yaml"], io({ SOPS_AGE_RECIPIENTS: "age1env" }), record)).toBe(0)
        expect(calls[0]!.opts).toMatchObject({ age: "age1env" })
    })

    it.each([
        [["decrypt", "--output-type", "toml", "f.yaml"], /argument 'toml' is invalid/],
        [["decrypt", "--bogus", "f.yaml"], /unknown option '--bogus'/],
        [["encrypt", "--shamir-secret-sharing-threshold", "zero", "f"], /option .*--shamir-secret-sharing-threshold.* must be an integer/],
    ])("rejects %j with exit 1 and no call", async (argv, message) => {
        const i = io()
        expect(await main(argv, i, record)).toBe(1)
        expect(i.err()).toMatch(message)
        expect(i.err()).toMatch(/^secrets: error: /)
        expect(calls).toEqual([])
    })
})

describe("positional arguments", () => {
    it.each([
        [["set", "f.yaml", '["a"]', '"v"'], ["f.yaml", '["a"]', '"v"']],
        [["exec-env", "f.yaml", "echo $A"], ["f.yaml", "echo $A"]],
        [["updatekeys", "a.yaml", "b.yaml"], [["a.yaml", "b.yaml"]]],
    ])("%j", async (argv, args) => {
        expect(await main(argv, io(), record)).toBe(0)
        expect(calls[0]!.args).toEqual(args)
    })
})

describe("legacy mode flags", () => {
    it("the last mode flag wins, with a warning", async () => {
        const i = io()
        expect(await main(["-d", "-e", "f.yaml"], i, record)).toBe(0)
        expect(calls[0]!.command).toBe("encrypt (legacy)")
        expect(i.err()).toBe("secrets: warning: several modes given (decrypt, encrypt); using the last one, encrypt\n")
    })

    it("splits a --set expression into index and JSON value", async () => {
        const { splitSetExpression } = await import("../../../src/cli/legacy.js")
        expect(splitSetExpression(`["a"][0]["b c"] {"x": 1}`)).toEqual({ index: `["a"][0]["b c"]`, value: `{"x": 1}` })
        expect(() => splitSetExpression(`a "v"`)).toThrow(/invalid --set expression/)
        expect(() => splitSetExpression(`["a"]`)).toThrow(/invalid --set expression/)
    })
})
