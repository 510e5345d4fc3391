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

function bundleIsFresh() {
    try {
        return statSync(bundle).mtimeMs >= statSync(new URL("../dist/main.js", import.meta.url)).mtimeMs
    } catch {
        return false
    }
}

if (bundleIsFresh()) {
    const { Script } = await import("node:vm")
    const { createRequire } = await import("node:module")
    let cachedData
    try {
        cachedData = readFileSync(`${bundle}.cache`)
    } catch {
        // No cache: V8 compiles from source.
    }
    // The bundle is pure ASCII (scripts/bundle.mjs checks), so latin1 reads it exactly
    // and without UTF-8 decoding. It is one function expression: CommonJS's wrapper.
    const script = new Script(readFileSync(bundle, "latin1"), { filename: bundle, cachedData })
    const module = { exports: {} }
    script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, fileURLToPath(new URL("../dist/", import.meta.url)))
    const { main, nodeIo } = module.exports
    // As src/bin.ts: set the exit code and let stdout drain.
    process.exitCode = await main(process.argv.slice(2), nodeIo())
} else {
    await import("../dist/bin.js")
}
