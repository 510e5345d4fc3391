/**
 * fleet/git-attributes.ts: the `.gitattributes` block of `secrets git setup`. The
 * block's patterns per creation rule (globs, or the files a regex matches today),
 * a config below the top, and the rewrite that keeps the user's lines.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import { SecretsError } from "../../../src/errors.js"
import { attributesBlock, blockIsCurrent, readAttributesFile, withBlock } from "../../../src/fleet/git-attributes.js"
import { tempDir } from "../../helpers/tmp.js"

const AGE = "age1tfk39spsppnjan7qd2680cte27fggk7ywvp7nw35ypjd9tz0m5jq6mxpm6"
const configOf = (...regexes: (string | undefined)[]) =>
    parseConfig(`creation_rules:\n${regexes.map((r) => `  - ${r === undefined ? "" : `path_regex: '${r}'\n    `}age: ${AGE}\n`).join("")}`, ".sops.yaml")

describe("attributesBlock", () => {
    it("writes globs for the layout and simple rules, between the markers", async () => {
        const top = tempDir()
        const block = await attributesBlock({ top, configDir: top, config: configOf("^secrets/hosts/web1/", "\\.enc\\.yaml$"), files: async () => [] })
        expect(block.lines).toEqual([
            '# secrets: begin (written by `secrets git setup` from ".sops.yaml"; edits here are replaced)',
            "secrets/hosts/web1/** diff=secrets merge=secrets",
            "*.enc.yaml diff=secrets merge=secrets",
            "# secrets: end",
        ])
        expect(block.paths).toBe(2)
        expect(block.notes).toEqual([])
    })

    it("lists the files a regex without a glob matches today, and says to re-run", async () => {
        const top = tempDir()
        const files = ["app/x1.yaml", "app/x2.yaml", "app/xy.yaml", "app/x3.yaml.lock", "README.md"]
        const block = await attributesBlock({ top, configDir: top, config: configOf("^app/x\\d"), files: async () => files })
        expect(block.lines.slice(1, -1)).toEqual([
            '# creation_rules[0] path_regex "^app/x\\\\d": the files it matches today (re-run `secrets git setup` for new ones)',
            "app/x1.yaml diff=secrets merge=secrets",
            "app/x2.yaml diff=secrets merge=secrets",
        ])
        expect(block.notes).toHaveLength(1)
        expect(block.notes[0]).toMatch(/cannot be a \.gitattributes pattern \(the escape \\d\), so the 2 files it matches now are listed: re-run `secrets git setup` after adding files there$/)
    })

    it("lists only the sops files for a rule that matches everything", async () => {
        const top = tempDir()
        mkdirSync(join(top, "s"))
        writeFileSync(join(top, "s", "enc.yaml"), `a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n`)
        writeFileSync(join(top, "plain.yaml"), "a: b\n")
        writeFileSync(join(top, "main.ts"), "export {}\n")
        const block = await attributesBlock({ top, configDir: top, config: configOf(undefined), files: async () => [".sops.yaml", "main.ts", "plain.yaml", "s/enc.yaml"] })
        expect(block.lines.filter((l) => !l.startsWith("#"))).toEqual(["s/enc.yaml diff=secrets merge=secrets"])
        expect(block.notes[0]).toMatch(/^creation_rules\[0\] \(no path_regex\) matches every file, so only the sops files it matches are listed/)
    })

    it("puts a config's patterns under its directory, and lists files for a config above the top", async () => {
        const root = tempDir()
        const top = join(root, "repo")
        mkdirSync(join(top, "infra"), { recursive: true })
        const below = await attributesBlock({ top, configDir: join(top, "infra"), config: configOf("^secrets/", "\\.enc\\.json$"), files: async () => [] })
        expect(below.lines.slice(1, -1)).toEqual(["infra/secrets/** diff=secrets merge=secrets", "infra/**/*.enc.json diff=secrets merge=secrets"])
        expect(below.lines[0]).toContain('from "infra/.sops.yaml"')
        // The config is in the parent: its regex sees `repo/secrets/a.yaml`.
        const above = await attributesBlock({ top, configDir: root, config: configOf("^repo/secrets/"), files: async () => ["secrets/a.yaml", "other.yaml"] })
        expect(above.lines.filter((l) => !l.startsWith("#"))).toEqual(["secrets/a.yaml diff=secrets merge=secrets"])
    })
})

describe("the .gitattributes file", () => {
    const block = ["# secrets: begin (x)", "a/** diff=secrets merge=secrets", "# secrets: end"]

    it("appends the block and later rewrites it in place, keeping every other line", () => {
        const top = tempDir()
        const path = join(top, ".gitattributes")
        writeFileSync(path, "*.png binary")
        const first = withBlock(readAttributesFile(top), block)
        expect(first).toBe(`*.png binary\n${block.join("\n")}\n`)
        writeFileSync(path, `${first}*.txt text\n`)
        const current = readAttributesFile(top)
        expect(blockIsCurrent(current, block)).toBe(true)
        const next = ["# secrets: begin (x)", "b/** diff=secrets merge=secrets", "c/** diff=secrets merge=secrets", "# secrets: end"]
        expect(blockIsCurrent(current, next)).toBe(false)
        expect(withBlock(current, next)).toBe(`*.png binary\n${next.join("\n")}\n*.txt text\n`)
    })

    it("refuses a symlink and a begin marker without an end", () => {
        const top = tempDir()
        writeFileSync(join(top, "elsewhere"), "x\n")
        symlinkSync(join(top, "elsewhere"), join(top, ".gitattributes"))
        expect(() => readAttributesFile(top)).toThrow(/is a symbolic link/)
        const other = tempDir()
        writeFileSync(join(other, ".gitattributes"), "# secrets: begin\na/** diff=secrets\n")
        let err: unknown
        try {
            readAttributesFile(other)
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).message).toMatch(/without a "# secrets: end" line$/)
    })
})
