#!/usr/bin/env node
// The published entry point. `npm run build` compiles src/ into dist/ (tsc), then
// scripts/bundle.mjs bundles dist/ and the dependencies into one file with a V8
// code cache, which starts about twice as fast as the ~150 ES modules it replaces
// (docs/benchmarks.md). The bundle runs only when it is at least as new as
// dist/main.js: after a bare `tsc` (as the test setup runs) the modules in dist/
// are newer, and they run instead of a stale bundle.
import { readFileSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"

const bundle = fileURLToPath(new URL("../dist/secrets.bundle.cjs", import.meta.url))
const completionModel = fileURLToPath(new URL("../dist/completion-model.json", import.meta.url))
const completeBundle = fileURLToPath(new URL("../dist/complete.bundle.cjs", import.meta.url))

function isFresh(file) {
    try {
        return statSync(file).mtimeMs >= statSync(new URL("../dist/main.js", import.meta.url)).mtimeMs
    } catch {
        return false
    }
}

/** Run a bundle made by scripts/bundle.mjs (a CommonJS wrapper function) with its V8 code cache. */
async function loadBundle(file) {
    const { Script } = await import("node:vm")
    const { createRequire } = await import("node:module")
    let cachedData
    try {
        cachedData = readFileSync(`${file}.cache`)
    } catch {
        // No cache: V8 compiles from source.
    }
    // The bundle is pure ASCII (scripts/bundle.mjs checks), so latin1 reads it exactly
    // and without UTF-8 decoding. It is one function expression: CommonJS's wrapper.
    const script = new Script(readFileSync(file, "latin1"), { filename: file, cachedData })
    const module = { exports: {} }
    script.runInThisContext()(module.exports, createRequire(file), module, file, fileURLToPath(new URL("../dist/", import.meta.url)))
    return module.exports
}

if (process.argv[2] === "__complete" && isFresh(completionModel) && isFresh(completeBundle)) {
    // The shell's TAB callback (issue 6: well under 100 ms). Not the main bundle nor
    // commander: the program's model, made by scripts/bundle.mjs from the program
    // itself, and a small bundle of the code that walks it. A stale or missing model
    // falls through to the full program, whose hidden __complete answers the same.
    const { answer, fileSources } = await loadBundle(completeBundle)
    const model = JSON.parse(readFileSync(completionModel, "utf8"))
    process.stdout.write(await answer(model, process.argv.slice(3), fileSources(process.cwd(), process.env)))
} else if (isFresh(bundle)) {
    const { main, nodeIo } = await loadBundle(bundle)
    // As src/bin.ts: set the exit code and let stdout drain.
    process.exitCode = await main(process.argv.slice(2), nodeIo())
} else {
    await import("../dist/bin.js")
}
