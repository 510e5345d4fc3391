// Type declarations for the Node API (issue 13 §7), run by scripts/bundle.mjs.
//
// tsconfig.build.json emits no declarations (the CLI needs none, and ~200 .d.ts
// files would ship for nothing). Here each file the API's public types reach is
// declared on its own with ts.transpileDeclaration under isolatedDeclarations
// (every exported type is written out, so no type checker and no program: a few
// milliseconds instead of ten seconds of tsc on every build), starting at
// src/api/index.ts and following the relative imports of what it wrote: the
// API's entry, its options, load() and get(), and errors.ts.
//
import { readFileSync, writeFileSync, mkdirSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import ts from "typescript"

export function emitApiDeclarations(root) {
    const src = join(root, "src")
    const dist = join(root, "dist")
    const compilerOptions = { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, isolatedDeclarations: true, declaration: true }
    const written = new Map()
    const queue = [join(src, "api/index.ts")]
    while (queue.length > 0) {
        const file = queue.shift()
        const dts = join(dist, relative(src, file)).replace(/\.ts$/, ".d.ts")
        if (written.has(dts)) continue
        const result = ts.transpileDeclaration(readFileSync(file, "utf8"), { fileName: file, compilerOptions, reportDiagnostics: true })
        const errors = (result.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error)
        if (errors.length > 0) {
            const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }
            throw new Error(`api declarations: ${ts.formatDiagnostics(errors, host)}`)
        }
        written.set(dts, result.outputText)
        for (const spec of relativeSpecifiers(result.outputText)) queue.push(resolve(dirname(file), spec).replace(/\.js$/, ".ts"))
    }
    for (const [name, text] of written) {
        mkdirSync(dirname(name), { recursive: true })
        writeFileSync(name, text)
        // The CommonJS twin: same declarations, relative imports renamed to .cjs.
        writeFileSync(name.replace(/\.d\.ts$/, ".d.cts"), text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']*)\.js\2/g, "$1$2$3.cjs$2"))
    }
    return [...written.keys()].map((f) => relative(root, f))
}

/** The relative module specifiers of a declaration file (imports, re-exports, import() types). */
function relativeSpecifiers(text) {
    const out = []
    for (const m of text.matchAll(/(?:from\s+|import\()(["'])(\.{1,2}\/[^"']*)\1/g)) out.push(m[2])
    return out
}

// Run directly: `node scripts/api-declarations.mjs` (after tsc).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
    for (const f of emitApiDeclarations(join(dirname(new URL(import.meta.url).pathname), ".."))) console.log(f)
}
