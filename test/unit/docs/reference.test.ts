import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { REFERENCE_DIR, renderReference } from "../../../scripts/gen-command-docs.mjs"

const FIX = "docs/reference/ is out of date: run `node scripts/gen-command-docs.mjs` (after `npm run build`) and commit the result"

describe("docs/reference/ is generated from the program", () => {
    it("has exactly the pages the program gives, with the same text", async () => {
        const pages = await renderReference()
        const onDisk = readdirSync(REFERENCE_DIR).filter((n) => n.endsWith(".md")).sort()
        expect(onDisk, FIX).toEqual([...pages.keys()].sort())
        for (const [name, text] of pages) {
            expect(readFileSync(join(REFERENCE_DIR, name), "utf8"), `${name}: ${FIX}`).toBe(text)
        }
    })

    it("documents every visible command and option of the program", async () => {
        const pages = await renderReference()
        // Spot checks against the program's own wiring, so a generator that drops
        // sections fails even when the committed pages were made by it.
        const encrypt = pages.get("encrypt.md") ?? ""
        expect(encrypt).toContain("```\nsecrets encrypt [options] [file]\n```")
        expect(encrypt).toContain(
            '| `--input-type <format>` | the input format, when the file name does not say it (choices: "yaml", "json", "dotenv", "ini", "binary") |',
        )
        expect(encrypt).toContain("| `file` | the plaintext file; stdin when absent (then --filename-override is required) |")
        expect(encrypt).not.toContain("--help")
        expect(pages.get("keys-generate.md")).toContain("# secrets keys generate\n")
        expect(pages.get("set.md")).toContain("## Notes and examples\n\n```text\n")
        expect(pages.get("README.md")).toContain("| `--config <path>` | the .sops.yaml to use instead of looking it up (env: SOPS_CONFIG) |")
        expect(pages.get("README.md")).toContain("| [`exec-env`](exec-env.md) |")
        // Hidden options (the legacy root form's -d/-e/-r) stay out of the reference.
        expect(pages.get("README.md")).not.toContain("--decrypt")
        for (const name of ["encrypt", "decrypt", "view", "edit", "set", "unset", "rotate", "updatekeys", "exec-env", "exec-file", "filestatus", "groups-add", "groups-delete", "init", "keys-revoke"]) {
            expect(pages.has(`${name}.md`), name).toBe(true)
        }
    })
})
