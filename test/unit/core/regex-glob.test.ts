/**
 * core/regex-glob.ts: a creation rule's path_regex as .gitattributes patterns. The
 * claim is exactness (the globs match a path if and only if the Go regex does), so
 * besides a table of expected globs, every translated regex is held to real git
 * (`git check-attr`) against the Go-semantics matcher (config/path-regex.ts) on a
 * corpus of paths.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pathRegex } from "../../../src/config/path-regex.js"
import { attributeLinePattern, literalPathPattern, pathRegexGlobs } from "../../../src/core/regex-glob.js"
import { tempDir } from "../../helpers/tmp.js"

const globs = (re: string, base?: string) => {
    const d = pathRegexGlobs(re, base)
    return d.kind === "globs" ? d.globs : d.kind
}

describe("pathRegexGlobs", () => {
    it("turns the layout's rules and the common shapes into exact globs", () => {
        expect(globs("^secrets/hosts/web1/")).toEqual(["secrets/hosts/web1/**"])
        expect(globs("^secrets/shared/")).toEqual(["secrets/shared/**"])
        expect(globs("\\.enc\\.yaml$")).toEqual(["*.enc.yaml"])
        expect(globs(".*\\.enc\\.yaml$")).toEqual(["*.enc.yaml"])
        expect(globs("^secrets/.*\\.yaml$")).toEqual(["secrets/**/*.yaml"])
        // Unanchored: `mysecrets/` and `x/secrets/` match too.
        expect(globs("secrets/.*\\.yaml$")).toEqual(["**/*secrets/**/*.yaml"])
        expect(globs("(prod|staging)/.*\\.env$")).toEqual(["**/*prod/**/*.env", "**/*staging/**/*.env"])
        expect(globs("\\.(yaml|json)$")).toEqual(["*.yaml", "*.json"])
        expect(globs("^a/|^b/")).toEqual(["a/**", "b/**"])
        expect(globs("^foo\\.yaml$")).toEqual(["/foo.yaml"])
        expect(globs("^secrets/[^/]*\\.yaml$")).toEqual(["secrets/*.yaml"])
        expect(globs("^a.*b$")).toEqual(["/a*b", "a*/**/*b"])
        expect(globs(".*/secrets/.*")).toEqual(["*/**/secrets/**"])
        expect(globs("^a/.+$")).toEqual(["a/**"])
        expect(globs("^(a(b|c))/")).toEqual(["ab/**", "ac/**"])
    })

    it("puts the globs under the config's directory", () => {
        expect(globs("^secrets/", "infra")).toEqual(["infra/secrets/**"])
        expect(globs("\\.enc\\.yaml$", "infra")).toEqual(["infra/**/*.enc.yaml"])
        expect(globs("^foo\\.yaml$", "infra")).toEqual(["infra/foo.yaml"])
    })

    it("calls a regex that matches every path `everything`, not `*`", () => {
        for (const re of ["", ".*", "^", "$", "^.*$", "^.+$"]) expect(globs(re), re).toBe("everything")
    })

    it("gives a reason for what it cannot translate exactly", () => {
        for (const re of ["\\d+\\.yaml$", "secrets/.*.yaml", "(?i)secrets/", "^a{2}/", "x+\\.yaml", "^[abc]/", "(a|b)*/", "^/etc/", "^a.+b$", "(a\\)|b)", "a\\|b)"]) {
            const d = pathRegexGlobs(re)
            expect(d.kind, re).toBe("unsupported")
            if (d.kind === "unsupported") expect(d.reason.length).toBeGreaterThan(0)
        }
    })

    it("escapes glob characters and quotes what a line would split", () => {
        expect(literalPathPattern("x[1]*?.yaml")).toBe("/x\\[1\\]\\*\\?.yaml")
        expect(literalPathPattern("#h.yaml")).toBe("/#h.yaml")
        expect(literalPathPattern("d/#h.yaml")).toBe("d/#h.yaml")
        expect(globs("^#[^/]*$", "")).toEqual(["/#*"])
        expect(globs("^a/", "#infra")).toEqual(["\\#infra/a/**"])
        expect(attributeLinePattern("/a b.yaml")).toBe('"/a b.yaml"')
        expect(attributeLinePattern("plain/**")).toBe("plain/**")
    })
})

/** Paths that tell the shapes apart: prefixes, depth, partial components, dots. */
const CORPUS = [
    "secrets/a.yaml", "secrets/hosts/web1/agent.yaml", "secrets/hosts/web10/x.yaml", "secrets/hosts/web1", "secrets/x/y/z.yaml",
    "secrets/a.json", "secrets.yaml", "secrets", "mysecrets/a.yaml", "x/secrets/b.yaml", "x/mysecrets/b.yaml", "infra/secrets/a.yaml",
    "a.enc.yaml", "d/e/f.enc.yaml", ".enc.yaml", "a.enc.yaml.bak", "prod/app.env", "x/prod/y/z.env", "myprod/a.env", "staging/a.env",
    "prod.env", "prod/env", "foo.yaml", "sub/foo.yaml", "a/b", "ab", "axb", "a/x/b", "a/x/yb", "ax/b", "ax/yb", "b/c", "a", ".yaml",
    "x.json", "x.yml", "secrets/sub.yaml/x",
]

const TRANSLATED = [
    "^secrets/hosts/web1/", "\\.enc\\.yaml$", ".*\\.enc\\.yaml$", "^secrets/.*\\.yaml$", "secrets/.*\\.yaml$", "(prod|staging)/.*\\.env$",
    "\\.(yaml|json)$", "^a/|^b/", "^foo\\.yaml$", "^secrets/[^/]*\\.yaml$", "^a.*b$", ".*/secrets/.*", "^a/.+$", "secrets/", "prod",
    "^a[^/]+b$", "^a.*/b$", "a.*b", "\\.yaml", "^secrets/.*", "^(secrets|x)/.*\\.yaml$", "(a.*|b)b$", "^(?:a|(b|c)/)x",
]

describe("pathRegexGlobs against git check-attr", () => {
    it("matches exactly the paths the Go regex matches", () => {
        const dir = tempDir()
        execFileSync("git", ["-c", "init.defaultBranch=main", "init", "-q", dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: dir } })
        const lines: string[] = []
        for (const [i, re] of TRANSLATED.entries()) {
            const d = pathRegexGlobs(re)
            expect(d.kind, re).toBe("globs")
            if (d.kind === "globs") for (const g of d.globs) lines.push(`${attributeLinePattern(g)} r${i}`)
        }
        // Odd names as literal paths: each must match itself only.
        const odd = ["a b.yaml", "x[1].yaml", "#h.yaml", "!n.yaml", 'q"uote.yaml', "star*.yaml", "d/a b/c.yaml"]
        for (const [i, p] of odd.entries()) lines.push(`${attributeLinePattern(literalPathPattern(p))} o${i}`)
        writeFileSync(join(dir, ".gitattributes"), `${lines.join("\n")}\n`)
        const paths = [...CORPUS, ...odd, "a c.yaml", "x1.yaml", "starx.yaml", "sub/a b.yaml"]
        const out = execFileSync("git", ["check-attr", "--all", "-z", "--stdin"], { cwd: dir, input: paths.join("\0"), env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: dir } }).toString()
        const fields = out.split("\0")
        const got = new Set<string>()
        for (let k = 0; k + 2 < fields.length; k += 3) got.add(`${fields[k]}\t${fields[k + 1]}`)
        for (const [i, re] of TRANSLATED.entries()) {
            const go = pathRegex(re, "t")
            for (const p of paths) expect(got.has(`${p}\tr${i}`), `${re} on ${p}`).toBe(go.test(p))
        }
        for (const [i, p] of odd.entries()) for (const q of paths) expect(got.has(`${q}\to${i}`), `${p} on ${q}`).toBe(p === q)
    })
})
