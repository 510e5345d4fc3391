/**
 * The layer order of src/ (README, Layout; issue 11 point 12), checked on the
 * import graph: a module imports only from its own layer or lower ones, so the
 * engine can be used without the CLI, and a change to a command cannot break
 * the fleet or the file services under it. Edges are read with TypeScript's
 * parser, not a regex, so that static imports, `export … from`, `import()`
 * (the lazy loads of the commands) and `import("…")` types all count and a
 * specifier inside a comment or a string does not.
 *
 * Also checked: core is pure (no file system, no processes, no console: it is
 * the sops engine the other layers feed), and only src/integrations/ runs
 * programs (execa, node:child_process), where the argv and environment rules
 * live.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const SRC = resolve(import.meta.dirname, "../../src")

/**
 * Lowest first. A module may import from its own rank or a lower one. `types/`
 * holds ambient declarations (.d.ts) of untyped packages: it imports nothing
 * and is never imported by path, so it sits at the bottom.
 */
const LAYERS: readonly (readonly string[])[] = [
    ["errors.ts", "core", "types"],
    ["stores", "config"],
    ["keys"],
    ["engine"],
    ["integrations"],
    ["files"],
    ["fleet", "sync", "delivery", "run", "transfer", "agent"],
    ["cli", "api"],
    ["main.ts", "bin.ts"],
]

/** The layer of a path under src/: its top directory, or the file's name at the top. */
function layerOf(path: string): string {
    return relative(SRC, path).split(sep)[0] ?? ""
}

function rankOf(layer: string): number {
    return LAYERS.findIndex((names) => names.includes(layer))
}

function sourceFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = join(dir, e.name)
        if (e.isDirectory()) return sourceFiles(p)
        return /\.(ts|mts|cts)$/.test(e.name) ? [p] : []
    })
}

interface Parsed {
    /** Every module specifier: imports, re-exports, import() calls and import("…") types. */
    readonly specifiers: string[]
    /** `process.x` / `console.x` uses, as "process.env" and so on. */
    readonly globals: string[]
}

function parse(file: string): Parsed {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)
    const specifiers: string[] = []
    const globals: string[] = []
    const visit = (node: ts.Node): void => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            specifiers.push(node.moduleSpecifier.text)
        } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
            const arg = node.arguments[0]
            // A computed import() cannot be checked here; none exists, and one would show up below.
            specifiers.push(arg !== undefined && ts.isStringLiteralLike(arg) ? arg.text : "<computed>")
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
            specifiers.push(node.argument.literal.text)
        } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
            specifiers.push(node.moduleReference.expression.text)
        } else if (
            (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) &&
            ts.isIdentifier(node.expression) &&
            (node.expression.text === "process" || node.expression.text === "console")
        ) {
            globals.push(node.getText(source).split("\n")[0] ?? "")
        }
        ts.forEachChild(node, visit)
    }
    visit(source)
    return { specifiers, globals }
}

/** The source file a relative specifier names: `./x.js` is `x.ts` (NodeNext resolution). */
function targetOf(file: string, spec: string): string {
    return resolve(dirname(file), spec).replace(/\.js$/, ".ts")
}

const shown = (p: string) => `src/${relative(SRC, p).split(sep).join("/")}`

/** `src/a/x.ts -> src/b/y.ts (a may not import b)` for every upward edge. */
function layerViolations(files: readonly string[], parsed: ReadonlyMap<string, Parsed>): string[] {
    const out: string[] = []
    for (const file of files) {
        const from = layerOf(file)
        if (rankOf(from) < 0) {
            out.push(`${shown(file)} is in no layer: add ${from} to LAYERS in test/unit/layers.test.ts`)
            continue
        }
        for (const spec of parsed.get(file)?.specifiers ?? []) {
            if (spec === "<computed>") {
                out.push(`${shown(file)} has an import() of a computed name, which this check cannot follow`)
                continue
            }
            if (!spec.startsWith(".")) continue
            const target = targetOf(file, spec)
            const to = layerOf(target)
            if (to === from) continue
            if (relative(SRC, target).startsWith("..")) {
                out.push(`${shown(file)} -> ${spec} (outside src/)`)
            } else if (rankOf(to) < 0 || rankOf(to) > rankOf(from)) {
                out.push(`${shown(file)} -> ${shown(target)} (${from} may not import ${to})`)
            }
        }
    }
    return out
}

describe("layers", () => {
    const files = sourceFiles(SRC).sort()
    const parsed = new Map(files.map((f) => [f, parse(f)]))

    it("reads the import graph (the check is not vacuous)", () => {
        // The CLI reaches every layer below it; if the parser found no edges, the
        // check below would pass on anything.
        const cliTargets = new Set(
            files
                .filter((f) => layerOf(f) === "cli")
                .flatMap((f) => (parsed.get(f)?.specifiers ?? []).filter((s) => s.startsWith(".")).map((s) => layerOf(targetOf(f, s)))),
        )
        for (const layer of ["errors.ts", "core", "stores", "config", "keys", "engine", "integrations", "files", "fleet", "sync"]) {
            expect(cliTargets, `cli imports ${layer}`).toContain(layer)
        }
    })

    it("names an upward edge, and lets downward and same-layer ones through", () => {
        const at = (p: string) => join(SRC, p)
        const fake = new Map<string, Parsed>([
            [at("fleet/a.ts"), { specifiers: ["../cli/io.js", "../files/io.js", "./b.js", "../sync/plan.js", "node:fs"], globals: [] }],
            [at("stores/c.ts"), { specifiers: ["../config/load.js", "../keys/age.js"], globals: [] }],
            [at("plugins/d.ts"), { specifiers: [], globals: [] }],
        ])
        expect(layerViolations([...fake.keys()], fake)).toEqual([
            "src/fleet/a.ts -> src/cli/io.ts (fleet may not import cli)",
            "src/stores/c.ts -> src/keys/age.ts (stores may not import keys)",
            "src/plugins/d.ts is in no layer: add plugins to LAYERS in test/unit/layers.test.ts",
        ])
    })

    it("no module imports from a higher layer", () => {
        expect(layerViolations(files, parsed)).toEqual([])
    })

    it("core is pure: no file system, no processes, no process or console globals", () => {
        const impure: string[] = []
        for (const file of files.filter((f) => layerOf(f) === "core")) {
            const p = parsed.get(file)
            for (const spec of p?.specifiers ?? []) {
                if (/^(node:)?(fs|fs\/promises|child_process|os|net|worker_threads)$/.test(spec)) impure.push(`${shown(file)} imports ${spec}`)
            }
            for (const g of p?.globals ?? []) impure.push(`${shown(file)} uses ${g}`)
        }
        expect(impure).toEqual([])
    })

    it("the Node API (src/api) imports nothing from src/cli, though it shares its rank", () => {
        const intoCli = files
            .filter((f) => layerOf(f) === "api")
            .flatMap((f) => (parsed.get(f)?.specifiers ?? []).filter((s) => s.startsWith(".") && layerOf(targetOf(f, s)) === "cli").map((s) => `${shown(f)} -> ${s}`))
        expect(files.some((f) => layerOf(f) === "api"), "src/api exists").toBe(true)
        expect(intoCli).toEqual([])
    })

    it("only src/integrations/ runs programs", () => {
        const runners = files.flatMap((file) =>
            layerOf(file) === "integrations"
                ? []
                : (parsed.get(file)?.specifiers ?? []).filter((s) => /^(node:)?child_process$|^execa$/.test(s)).map((s) => `${shown(file)} imports ${s}`),
        )
        expect(runners).toEqual([])
    })
})
