import fc from "fast-check"
import { describe, expect, it } from "vitest"

import { describeArgv, itemCreateArgv, itemEditArgv, itemGetArgv, itemListArgv, readArgv, versionArgv } from "../../../src/integrations/op-argv.js"

describe("op argv builders", () => {
    it("read: --no-newline, then the reference as one word", () => {
        expect(readArgv("op://Prod/db/password")).toEqual(["read", "--no-newline", "op://Prod/db/password"])
        expect(readArgv("op://My Vault/my item/private key?ssh-format=openssh")).toEqual([
            "read",
            "--no-newline",
            "op://My Vault/my item/private key?ssh-format=openssh",
        ])
    })

    it("item get: --vault, --format json, --reveal", () => {
        expect(itemGetArgv("Prod", "db")).toEqual(["item", "get", "db", "--vault", "Prod", "--format", "json", "--reveal"])
        expect(itemGetArgv("My Vault", "two words")).toEqual(["item", "get", "two words", "--vault", "My Vault", "--format", "json", "--reveal"])
    })

    it("a positional starting with '-' goes after '--' so op does not read it as a flag", () => {
        expect(itemGetArgv("Prod", "-db")).toEqual(["item", "get", "--vault", "Prod", "--format", "json", "--reveal", "--", "-db"])
        expect(itemEditArgv("Prod", "--x")).toEqual(["item", "edit", "--vault", "Prod", "--format", "json", "--", "--x"])
        // A flag's own value may start with '-': pflag takes the next word as it is.
        expect(itemGetArgv("-v", "db")).toEqual(["item", "get", "db", "--vault", "-v", "--format", "json", "--reveal"])
    })

    it("item list: filters joined as CSV, quoted when a value holds a comma or quote", () => {
        expect(itemListArgv("Prod")).toEqual(["item", "list", "--vault", "Prod", "--format", "json"])
        expect(itemListArgv("Prod", { tags: [], categories: [] })).toEqual(["item", "list", "--vault", "Prod", "--format", "json"])
        expect(itemListArgv("Prod", { tags: ["app", "env/prod"] })).toEqual(["item", "list", "--vault", "Prod", "--tags", "app,env/prod", "--format", "json"])
        expect(itemListArgv("Prod", { tags: ["a,b", 'say "hi"'], categories: ["Login", "API Credential"] })).toEqual([
            "item",
            "list",
            "--vault",
            "Prod",
            "--tags",
            '"a,b","say ""hi"""',
            "--categories",
            "Login,API Credential",
            "--format",
            "json",
        ])
    })

    it("item create: '-' for the template on stdin, nothing else", () => {
        expect(itemCreateArgv("Prod")).toEqual(["item", "create", "-", "--vault", "Prod", "--format", "json"])
    })

    it("item edit: the item, --vault, --format json", () => {
        expect(itemEditArgv("Prod", "vwyt5in4gempt67i7d2mpao6c4")).toEqual(["item", "edit", "vwyt5in4gempt67i7d2mpao6c4", "--vault", "Prod", "--format", "json"])
    })

    it("version", () => {
        expect(versionArgv()).toEqual(["--version"])
    })

    it("describeArgv names the subcommand", () => {
        expect(describeArgv(readArgv("op://a/b/c"))).toBe("op read")
        expect(describeArgv(itemGetArgv("a", "b"))).toBe("op item get")
        expect(describeArgv(itemListArgv("a"))).toBe("op item list")
        expect(describeArgv(itemCreateArgv("a"))).toBe("op item create")
        expect(describeArgv(itemEditArgv("a", "-b"))).toBe("op item edit")
        expect(describeArgv(versionArgv())).toBe("op --version")
    })

    it("no argv builder takes a value: a template's values never reach argv (property)", () => {
        // The builders only see vault, item and filter names; this checks that a value
        // used alongside them cannot appear, whatever the names are.
        const word = fc.string({ minLength: 1, maxLength: 12 })
        fc.assert(
            fc.property(word, word, fc.array(word, { maxLength: 3 }), fc.string({ minLength: 8, maxLength: 40 }), (vault, item, tags, value) => {
                fc.pre(![vault, item, ...tags].some((n) => n.includes(value) || value.includes(n)))
                const all = [itemCreateArgv(vault), itemEditArgv(vault, item), itemGetArgv(vault, item), itemListArgv(vault, { tags })]
                for (const argv of all) for (const word of argv) expect(word.includes(value)).toBe(false)
            }),
        )
    })
})
