/**
 * Child-process tests need our modules as plain JavaScript (Node 20 cannot run
 * TypeScript). The files are erasable-syntax TypeScript, so TypeScript's own
 * transpileModule gives exactly what `tsc -p tsconfig.build.json` would emit for
 * them, without type-checking the rest of src/ (which other work may have broken).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import ts from "typescript"

const SRC = resolve(import.meta.dirname, "../../../src")

/** Transpile `files` (paths under src/, e.g. "files/file-lock.ts") into a fresh dir; returns it and a cleanup. */
export function compileSrc(files: readonly string[]): { outDir: string; cleanup: () => void } {
    const outDir = mkdtempSync(join(tmpdir(), "secrets-compiled-"))
    writeFileSync(join(outDir, "package.json"), "{\"type\":\"module\"}\n")
    for (const file of files) {
        const source = readFileSync(join(SRC, file), "utf8")
        const out = ts.transpileModule(source, {
            compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
            fileName: file,
        })
        const dest = join(outDir, file.replace(/\.ts$/, ".js"))
        mkdirSync(dirname(dest), { recursive: true })
        writeFileSync(dest, out.outputText)
    }
    return { outDir, cleanup: () => rmSync(outDir, { recursive: true, force: true }) }
}
