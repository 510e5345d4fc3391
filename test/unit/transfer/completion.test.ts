/** `secrets import` and `export` at <TAB>: the plaintext source and --into are any path, --at offers no files, --format its choices. */
import { describe, expect, it } from "vitest"
import { completionLines } from "../../helpers/complete.js"

const complete = (words: string[]) => completionLines("/", words)

describe("import and export completion", () => {
    it("offers paths for import's source and --into", async () => {
        expect((await complete(["import", ""])).at(-1)).toBe(":files")
        expect((await complete(["import", ".env", "--into", ""])).at(-1)).toBe(":files")
    })

    it("offers no files for --at", async () => {
        expect(await complete(["import", ".env", "--at", ""])).toEqual([":"])
    })

    it("offers export's formats", async () => {
        expect(await complete(["export", "a.yaml", "--format", ""])).toEqual(["env", "json", "yaml", "docker", "k8s-secret", ":"])
    })
})
