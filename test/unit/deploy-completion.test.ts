/** `secrets deploy` flag values at <TAB>: paths for --root, --manifest and --identity; nothing for --host. */
import { describe, expect, it } from "vitest"
import { completionLines } from "../helpers/complete.js"

const directive = async (words: string[]): Promise<string> => (await completionLines("/", words)).at(-1) ?? ""

describe("deploy completion", () => {
    it.each([["--root"], ["--manifest"], ["--identity"]])("offers paths after %s", async (flag) => {
        expect(await directive(["deploy", flag, ""])).toBe(":files")
    })

    it("offers no files for --host", async () => {
        expect(await directive(["deploy", "--host", ""])).toBe(":")
    })
})
