#!/usr/bin/env node
// The published entry point. `npm run build` compiles src/ into dist/ (tsc), then
// scripts/bundle.mjs bundles dist/ and the dependencies into one file with a V8
// code cache, which starts about twice as fast as the ~150 ES modules it replaces
// (docs/benchmarks.md). The bundle runs only when it is at least as new as
// dist/main.js: after a bare `tsc` (as the test setup runs) the modules in dist/
// are newer, and they run instead of a stale bundle.
//
// CommonJS on purpose: an ES module entry costs Node's ESM loader about 8 ms of
// every start, TAB callbacks included (docs/benchmarks.md), and this file only
// needs require() and one dynamic import for the unbundled fallback.
"use strict"
const { readFileSync, statSync } = require("node:fs")
const { join } = require("node:path")

const dist = join(__dirname, "..", "dist")
const bundle = join(dist, "secrets.bundle.cjs")
const completionModel = join(dist, "completion-model.json")
const completeBundle = join(dist, "complete.bundle.cjs")

function isFresh(file) {
    try {
        return statSync(file).mtimeMs >= statSync(join(dist, "main.js")).mtimeMs
    } catch {
        return false
    }
}

/** Run a bundle made by scripts/bundle.mjs (a CommonJS wrapper function) with its V8 code cache. */
function loadBundle(file) {
    const { Script } = require("node:vm")
    const { createRequire } = require("node:module")
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
    script.runInThisContext()(module.exports, createRequire(file), module, file, dist + "/")
    return module.exports
}

async function run() {
    if (process.argv[2] === "__complete" && isFresh(completionModel) && isFresh(completeBundle)) {
        // The shell's TAB callback (issue 6: well under 100 ms). Not the main bundle nor
        // commander: the program's model, made by scripts/bundle.mjs from the program
        // itself, and a small bundle of the code that walks it. A stale or missing model
        // falls through to the full program, whose hidden __complete answers the same.
        const { answer, fileSources } = loadBundle(completeBundle)
        const model = JSON.parse(readFileSync(completionModel, "utf8"))
        process.stdout.write(await answer(model, process.argv.slice(3), fileSources(process.cwd(), process.env)))
    } else if (isFresh(bundle)) {
        const { main, nodeIo } = loadBundle(bundle)
        // As src/bin.ts: set the exit code and let stdout drain.
        process.exitCode = await main(process.argv.slice(2), nodeIo())
    } else {
        await import("../dist/bin.js")
    }
}

run()
