/**
 * Every runnable example in the documentation is run, so the docs cannot promise
 * what the program does not do (issue 6). The conventions, also described at the
 * top of docs/README.md:
 *
 * - a fence whose info string is `sh runnable` (or `bash runnable`) is run with
 *   `bash` under `set -euo pipefail`, with `secrets` (the built binary), `age` and
 *   `age-keygen` on PATH, HOME and XDG_CONFIG_HOME inside a fresh temp dir, stdin
 *   empty (no terminal, no editor, and no 1Password unless the page asks, below);
 * - the blocks of one file run in order in one working directory, so a tutorial's
 *   later blocks see the files its earlier blocks made (environment variables do
 *   not carry over: each block is its own bash);
 * - `exit=N` in the info string (`sh runnable exit=128`) expects that exit status
 *   instead of 0;
 * - a `text stdout` or `text stderr` fence right after the block (blank lines
 *   between are fine) is compared with what the block printed there, after
 *   trimming trailing blanks; in it `$HOME` and `$PWD` stand for the temp home and
 *   working directories, and a line `...` matches any number of lines;
 * - a page with a line starting `<!-- docs-test: op-standin` runs its blocks
 *   with the stand-in `op` (test/op-standin) first on PATH, signed in as the desktop
 *   app would be: OP_STANDIN_STORE is a store file in the page's temp dir (outside the
 *   working directory) and OP_STANDIN_NODE the node running the tests. The store is
 *   built with test/helpers/op-standin.ts from the page's first ```json op-store
 *   fence (put it inside that same comment, so the reader does not see it):
 *   `{"auth"?: {...}, "vaults": [{"name", "type"?, "id"?, "items": [<item spec>]}]}`,
 *   where `auth` is merged into seedStore's (mode "app"; `serviceAccountToken` is
 *   the value OP_SERVICE_ACCOUNT_TOKEN must have for a service account, `"mode":
 *   "none"` starts signed out) and
 *   an item spec is what `item()` takes: `{"title", "category"?, "fields": [{"label",
 *   "value", "section"?, "type"?}], "tags"?, "id"?}` (ids and dates are derived
 *   deterministically). Without the fence the store is seedStore()'s: one empty
 *   vault "Dev". Blocks see each other's changes to the store (it is one file per
 *   page), and a hidden block can change it with `op item edit …` like a person in
 *   the app. Pages without the marker get no `op` at all, as before.
 * - SECRETS_CHECKOUT is this checkout, to read from only: a page copies what it
 *   needs (the demo fleet: docs/demo-fleet.md) into its own directory.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { docsEnv, fencesOf, writeSecretsShim } from "../helpers/markdown.js"
import { runProcess } from "../helpers/process.js"
import { item, makeOpStandin, seedStore, STANDIN_BIN_DIR, vault, type StandinAuth, type StandinStore } from "../helpers/op-standin.js"

const ROOT = join(import.meta.dirname, "../..")

export interface DocBlock {
    /** 1-based line of the opening fence. */
    line: number
    code: string
    exit: number
    stdout?: string
    stderr?: string
}

/** The runnable blocks of one Markdown text, with their expected outputs. */
export function extractRunnable(markdown: string): DocBlock[] {
    const lines = markdown.split("\n")
    const fences = fencesOf(lines)
    const blocks: DocBlock[] = []
    for (let k = 0; k < fences.length; k++) {
        const f = fences[k]
        if (!f) continue
        const [lang, ...attrs] = f.info
        if ((lang !== "sh" && lang !== "bash") || !attrs.includes("runnable")) continue
        const exitAttr = attrs.find((a) => a.startsWith("exit="))
        const block: DocBlock = { line: f.line, code: f.body, exit: exitAttr ? Number(exitAttr.slice(5)) : 0 }
        // Expected outputs: the fences that follow directly (only blank lines between).
        let prevEnd = f.end
        for (let n = k + 1; n < fences.length; n++) {
            const next = fences[n]
            if (!next) break
            const between = lines.slice(prevEnd + 1, next.line - 1)
            if (between.some((l) => l.trim() !== "")) break
            if (next.info[0] !== "text" || (next.info[1] !== "stdout" && next.info[1] !== "stderr")) break
            block[next.info[1]] = next.body
            prevEnd = next.end
        }
        blocks.push(block)
    }
    return blocks
}

/** The store a page's `json op-store` fence describes, in the compact form of the header comment. */
export interface DocOpStore {
    auth?: Partial<StandinAuth>
    vaults?: { name: string; type?: string; id?: string; items?: Parameters<typeof item>[0][] }[]
}

/** At the start of a line, so that a page quoting the marker (docs/README.md) does not ask for it. */
const OP_MARKER = /^<!--\s*docs-test:\s*op-standin\b/m

/** A page's request for the stand-in op: undefined without the marker, else the store to seed. */
export function extractOpStandin(markdown: string): StandinStore | undefined {
    if (!OP_MARKER.test(markdown)) return undefined
    const fence = fencesOf(markdown.split("\n")).find((f) => f.info[0] === "json" && f.info[1] === "op-store")
    if (!fence) return seedStore()
    const spec = JSON.parse(fence.body) as DocOpStore
    return seedStore({
        ...(spec.auth ? { auth: spec.auth } : {}),
        ...(spec.vaults
            ? { vaults: spec.vaults.map((v) => vault(v.name, (v.items ?? []).map((i) => item(i)), { ...(v.type ? { type: v.type } : {}), ...(v.id ? { id: v.id } : {}) })) }
            : {}),
    })
}

function trimLines(s: string): string[] {
    const lines = s.split("\n").map((l) => l.trimEnd())
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop()
    return lines
}

/** Does `actual` match `expected`, where a `...` line in `expected` matches any lines? */
export function outputMatches(expected: string, actual: string): boolean {
    const exp = trimLines(expected)
    const act = trimLines(actual)
    const match = (e: number, a: number): boolean => {
        if (e === exp.length) return a === act.length
        if (exp[e] === "...") {
            for (let skip = a; skip <= act.length; skip++) if (match(e + 1, skip)) return true
            return false
        }
        return a < act.length && exp[e] === act[a] && match(e + 1, a + 1)
    }
    return match(0, 0)
}

function markdownFiles(): string[] {
    const out = [join(ROOT, "README.md")]
    const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = join(dir, entry.name)
            if (entry.isDirectory()) walk(p)
            else if (entry.name.endsWith(".md")) out.push(p)
        }
    }
    walk(join(ROOT, "docs"))
    return out
}

describe("the runnable-block convention", () => {
    const sample = [
        "intro",
        "```sh runnable",
        "echo hi",
        "```",
        "",
        "```text stdout",
        "hi",
        "```",
        "```sh",
        "not run",
        "```",
        "```sh runnable exit=3",
        "exit 3",
        "```",
        "```text stderr",
        "oops",
        "```",
        "````bash runnable",
        "cat <<'EOF'",
        "```",
        "EOF",
        "````",
        "text between",
        "```text stdout",
        "not attached",
        "```",
    ].join("\n")

    it("extracts only marked blocks, with their exit codes and the outputs right after them", () => {
        expect(extractRunnable(sample)).toEqual([
            { line: 2, code: "echo hi", exit: 0, stdout: "hi" },
            { line: 12, code: "exit 3", exit: 3, stderr: "oops" },
            { line: 18, code: "cat <<'EOF'\n```\nEOF", exit: 0 },
        ])
    })

    it("compares outputs line by line, with ... matching any lines", () => {
        expect(outputMatches("a\n...\nd", "a\nb\nc\nd\n")).toBe(true)
        expect(outputMatches("a\n...\nd", "a\nd")).toBe(true)
        expect(outputMatches("a\n...\nd", "a\nb\nc")).toBe(false)
        expect(outputMatches("a\nb", "a\nb  \n\n")).toBe(true)
        expect(outputMatches("a\nb", "a\nc")).toBe(false)
    })

    it("gives a page the stand-in op only when it asks, with the store its op-store fence describes", () => {
        expect(extractOpStandin(sample)).toBeUndefined()
        expect(extractOpStandin("a page quoting `<!-- docs-test: op-standin -->`")).toBeUndefined()
        expect(extractOpStandin("<!-- docs-test: op-standin -->\n```sh runnable\nop whoami\n```")).toEqual(seedStore())
        const page = [
            "<!-- docs-test: op-standin",
            "```json op-store",
            '{"auth": {"mode": "service_account", "serviceAccountToken": "ops_x"},',
            ' "vaults": [{"name": "Prod", "items": [{"title": "db", "fields": [{"label": "password", "value": "pw"}]}]}]}',
            "```",
            "-->",
        ].join("\n")
        expect(extractOpStandin(page)).toEqual(
            seedStore({ auth: { mode: "service_account", serviceAccountToken: "ops_x" }, vaults: [vault("Prod", [item({ title: "db", fields: [{ label: "password", value: "pw" }] })])] }),
        )
        // The store fence is not a runnable block.
        expect(extractRunnable(page)).toEqual([])
    })
})

const files = markdownFiles()
const perFile = files
    .map((file) => {
        const text = readFileSync(file, "utf8")
        return { file, blocks: extractRunnable(text), opStore: extractOpStandin(text) }
    })
    .filter((f) => f.blocks.length > 0)

describe("docs examples", () => {
    it("there are runnable examples in every guide written for them", () => {
        const names = perFile.map((f) => relative(ROOT, f.file))
        for (const page of ["docs/quickstart.md", "docs/concepts.md", "docs/ci.md", "docs/troubleshooting.md", "docs/security.md", "docs/1password.md", "docs/1password-identity.md"]) {
            expect(names, page).toContain(page)
        }
        expect(perFile.reduce((n, f) => n + f.blocks.length, 0)).toBeGreaterThanOrEqual(30)
    })

    for (const { file, blocks, opStore } of perFile) {
        const name = relative(ROOT, file)
        describe(name, () => {
            // Named now, made in beforeAll: a page filtered out (vitest -t) runs no
            // hooks, and must leave no directory with keys in it behind.
            const base = join(tmpdir(), `secrets-docs-${randomBytes(6).toString("hex")}`)
            const home = join(base, "home")
            const work = join(base, "work")
            const shims = join(base, "bin")
            beforeAll(() => {
                mkdirSync(base, { mode: 0o700 })
                for (const d of [home, work, shims]) mkdirSync(d, { recursive: true })
                writeSecretsShim(shims)
            })
            afterAll(() => rmSync(base, { recursive: true, force: true }))
            // A page that asks for the stand-in op: its store lives next to home and work.
            let opEnv: Record<string, string> = {}
            let path = `${shims}:/usr/local/bin:/usr/bin:/bin`
            if (opStore) {
                path = `${STANDIN_BIN_DIR}:${path}`
                beforeAll(async () => {
                    const op = await makeOpStandin(base, opStore)
                    opEnv = { OP_STANDIN_STORE: op.storePath, OP_STANDIN_NODE: op.env.OP_STANDIN_NODE ?? process.execPath }
                })
            }

            for (const block of blocks) {
                it(`${name}:${block.line}`, async () => {
                    const r = await runProcess("bash", ["-c", `set -euo pipefail\n${block.code}\n`], {
                        cwd: work,
                        env: docsEnv({ path, home, extra: { SECRETS_CHECKOUT: ROOT, ...opEnv } }),
                        input: "",
                        // A hang guard only (a block that hangs is killed and fails);
                        // kept under the test's own limit so the report shows its output.
                        timeout: 100_000,
                    })
                    const shown = (s: string) => s.split(work).join("$PWD").split(home).join("$HOME")
                    const report = `block at ${name}:${block.line}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
                    expect(r.status, report).toBe(block.exit)
                    if (block.stdout !== undefined) expect(outputMatches(block.stdout, shown(r.stdout)), `${report}\n--- expected stdout\n${block.stdout}`).toBe(true)
                    if (block.stderr !== undefined) expect(outputMatches(block.stderr, shown(r.stderr)), `${report}\n--- expected stderr\n${block.stderr}`).toBe(true)
                })
            }
        })
    }
})
