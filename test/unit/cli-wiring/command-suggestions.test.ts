/**
 * Unknown commands get a correct suggestion or none (issue 11 §10): words from
 * other tools get what does that here, abbreviations and misspellings get the
 * command, and a short word that differs in its first letter gets nothing
 * (`get` is not `set`). Checked against the real program's command names.
 */
import { describe, expect, it } from "vitest"
import { suggestCommands, unknownCommandHints } from "../../../src/cli/command-suggestions.js"
import { createProgram } from "../../../src/cli/program.js"
import { main } from "../../../src/main.js"
import { quietIo, recorder } from "../../helpers/wiring.js"

const program = createProgram(quietIo(), { exitCode: 0 })
const rootNames = program.createHelp().visibleCommands(program).map((c) => c.name())
const keys = program.commands.find((c) => c.name() === "keys")
const keysNames = keys === undefined ? [] : keys.createHelp().visibleCommands(keys).map((c) => c.name())

describe("suggestCommands, over the program's own commands", () => {
    it.each([
        ["decrpyt", ["decrypt"]],
        ["encypt", ["encrypt"]],
        ["sett", ["set"]],
        ["ste", ["set"]],
        ["updatekey", ["updatekeys"]],
        ["dec", ["decrypt"]],
        ["exec", ["exec-env", "exec-file"]],
        ["stat", ["status"]],
        ["ecrypt", ["encrypt"]],
        ["gti", ["git"]],
    ])("%s -> %j", (word, expected) => {
        expect(suggestCommands(word, rootNames)).toEqual(expected)
    })

    // "get" left this list when it became a command (and `git` one edit from it): a command's own name is never unknown.
    it.each(["cat", "ls", "rm", "add", "run", "zzz", "x", "crypt", "hepl"])("%s -> nothing", (word) => {
        expect(suggestCommands(word, rootNames)).toEqual([])
    })

    it("never offers a hidden command", () => {
        expect(rootNames).not.toContain("__complete")
        expect(suggestCommands("__complet", [...rootNames, "__complete"])).toEqual([])
    })

    it("works on the keys level too", () => {
        expect(suggestCommands("ad-user", keysNames)).toEqual(["add-user"])
        expect(suggestCommands("add", keysNames).sort()).toEqual(["add-host", "add-user"])
        expect(suggestCommands("lst", keysNames)).toEqual(["list"])
        expect(suggestCommands("get", keysNames)).toEqual([])
    })
})

describe("unknownCommandHints", () => {
    it("answers words from other tools with what does that here", () => {
        expect(unknownCommandHints("put", { path: "", names: rootNames })).toEqual([`to set one value: secrets set FILE '["key"]' VALUE`])
        expect(unknownCommandHints("cat", { path: "", names: rootNames })).toEqual(["to print a decrypted file: secrets view FILE"])
        expect(unknownCommandHints("rm", { path: "keys", names: keysNames })).toEqual(["to remove a named key: secrets keys remove NAME"])
    })

    it("says nothing rather than something wrong", () => {
        expect(unknownCommandHints("frobnicate", { path: "", names: rootNames })).toEqual([])
        expect(unknownCommandHints("get", { path: "keys", names: keysNames })).toEqual([])
    })

    it("every command a hint names exists", () => {
        const hints = ["get", "cat", "put", "add", "rm", "remove", "ls", "new", "run", "rekey", "check"].flatMap((w) => unknownCommandHints(w, { path: "", names: rootNames }))
        const keysHints = ["ls", "rm", "new"].flatMap((w) => unknownCommandHints(w, { path: "keys", names: keysNames }))
        for (const hint of [...hints, ...keysHints]) {
            for (const m of hint.matchAll(/secrets (keys )?([a-z-]+)/g)) {
                expect(m[1] === undefined ? rootNames : keysNames).toContain(m[2])
            }
        }
    })
})

describe("through the program", () => {
    it("an unknown subcommand gets the same rule, in the program's voice", async () => {
        const io = quietIo()
        expect(await main(["keys", "rm", "bob"], io, recorder().dispatch)).toBe(1)
        expect(io.err()).toBe('secrets: error: unknown command "rm" for "secrets keys"\nsecrets: hint: to remove a named key: secrets keys remove NAME\n')
        const get = quietIo()
        expect(await main(["keys", "get"], get, recorder().dispatch)).toBe(1)
        expect(get.err()).toBe('secrets: error: unknown command "get" for "secrets keys"\n')
    })

    it("`secrets get FILE KEY` (get is a command now: issue 13 point 4) says get takes one name and how to read a file's key, not too many arguments for the legacy FILE form", async () => {
        expect(rootNames).toContain("get")
        const io = quietIo()
        const r = recorder()
        expect(await main(["get", "secrets/app.yaml", "password"], io, r.dispatch)).toBe(1)
        expect(r.calls).toEqual([])
        expect(io.err()).toBe(
            "secrets: error: get takes one name, got 2 arguments\n" +
                "secrets: hint: to search a file for a name: secrets get password --file secrets/app.yaml\n" +
                `secrets: hint: to read one key path of a file: secrets decrypt --extract '["key"]' FILE\n`,
        )
        const files = quietIo()
        expect(await main(["a.yaml", "b.yaml"], files, recorder().dispatch)).toBe(1)
        expect(files.err().split("\n")[0]).toBe("secrets: error: too many arguments: expected one file, got 2")
    })
})
