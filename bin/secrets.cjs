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
//
// Four shortcuts before the main bundle, each taken only when its files are fresh
// (issue 14): `--version` alone from dist/version.txt; plain `decrypt`, `view`,
// `filestatus` and `exec-env` from dist/hot.bundle.cjs, without commander
// (src/cli/hot/); plain `encrypt`, `updatekeys -y` and `rotate` likewise from
// dist/hot-write.bundle.cjs; and the shell's TAB callback from dist/complete.bundle.cjs.
"use strict"
const { readFileSync, statSync, writeSync } = require("node:fs")
const { join } = require("node:path")

const dist = join(__dirname, "..", "dist")
const bundle = join(dist, "secrets.bundle.cjs")
const completionModel = join(dist, "completion-model.json")
const completeBundle = join(dist, "complete.bundle.cjs")
// The key-path code (yaml, the stores), which complete.bundle.cjs loads on first use.
const completeKeysBundle = join(dist, "complete-keys.bundle.cjs")
const hotBundle = join(dist, "hot.bundle.cjs")
const versionFile = join(dist, "version.txt")

// The commands src/cli/hot/argv.ts may take without commander (its COMMANDS): only
// these words are worth loading the fast path's bundle for.
const HOT_COMMANDS = new Set(["decrypt", "view", "filestatus", "exec-env"])
// The writes src/cli/hot/write-argv.ts may take without commander (issue 14 target 4),
// from their own bundle.
const hotWriteBundle = join(dist, "hot-write.bundle.cjs")
const HOT_WRITE_COMMANDS = new Set(["encrypt", "updatekeys", "rotate"])

function isFresh(file) {
    try {
        return statSync(file).mtimeMs >= statSync(join(dist, "main.js")).mtimeMs
    } catch {
        return false
    }
}

/**
 * Run a bundle made by scripts/bundle.mjs (a CommonJS wrapper function) with its V8
 * code cache (`cache`: another cache of the same bundle, as the fast path's per-command ones).
 */
function loadBundle(file, cache = `${file}.cache`) {
    const { Script } = require("node:vm")
    const { createRequire } = require("node:module")
    let cachedData
    try {
        cachedData = readFileSync(cache)
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

/**
 * Write to fd 1 without building process.stdout, which on a pipe is a socket stream
 * (net, streams): a few ms for one write. A reader that is gone ends the program as
 * nodeIo's broken-pipe rule does (status 141, as sops killed by SIGPIPE); a pipe the
 * shell made non-blocking can refuse part of it (EAGAIN), and the stream writes the rest.
 */
function writeStdout(bytes) {
    let written = 0
    try {
        while (written < bytes.length) written += writeSync(1, bytes, written)
    } catch (e) {
        if (e.code === "EPIPE") process.exitCode = 141
        else process.stdout.write(bytes.subarray(written))
    }
}

async function run() {
    const argv = process.argv.slice(2)
    // SECRETS_FAST_PATH=0 runs every command line through the full program: a way out
    // should the fast path ever differ, and what test/e2e/hot-path.test.ts compares with.
    const fast = process.env.SECRETS_FAST_PATH !== "0"
    if (fast && argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v") && isFresh(versionFile)) {
        // The program's own --version output, saved by scripts/bundle.mjs.
        writeStdout(readFileSync(versionFile))
        return
    }
    if (fast && HOT_COMMANDS.has(argv[0]) && isFresh(hotBundle)) {
        // Issue 14 target 2: decrypt, view, filestatus and exec-env in their plain
        // forms, from a small bundle without commander. Anything else on their command
        // line (help, another flag, a usage error) gets no plan and goes on below.
        // With the code cache of this command alone (scripts/bundle.mjs HOT_CACHE_WARMUPS):
        // a smaller cache is less to deserialise; view runs decrypt's code.
        const hot = loadBundle(hotBundle, `${hotBundle}.${argv[0] === "view" ? "decrypt" : argv[0]}.cache`)
        const plan = hot.hotPlan(argv)
        if (plan !== undefined) {
            process.exitCode = await hot.runHot(plan, hot.hotIo(), argv)
            return
        }
    }
    if (fast && HOT_WRITE_COMMANDS.has(argv[0]) && isFresh(hotWriteBundle)) {
        // The same for plain encrypt, updatekeys -y and rotate (src/cli/hot/write-argv.ts).
        // With this command's own code cache (scripts/bundle-hot-write.mjs).
        const hot = loadBundle(hotWriteBundle, `${hotWriteBundle}.${argv[0]}.cache`)
        const plan = hot.hotWritePlan(argv)
        if (plan !== undefined) {
            process.exitCode = await hot.runHotWrite(plan, hot.hotIo(), argv)
            return
        }
    }
    if (argv[0] === "__complete" && isFresh(completionModel) && isFresh(completeBundle) && isFresh(completeKeysBundle)) {
        // The shell's TAB callback (issue 6: well under 100 ms). Not the main bundle nor
        // commander: the program's model, made by scripts/bundle.mjs from the program
        // itself, and a small bundle of the code that walks it (key paths come from a
        // third, loaded by it on first use). A stale or missing file falls through to
        // the full program, whose hidden __complete answers the same.
        const { answer, fileSources } = loadBundle(completeBundle)
        const model = JSON.parse(readFileSync(completionModel, "utf8"))
        writeStdout(Buffer.from(await answer(model, argv.slice(1), fileSources(process.cwd(), process.env))))
    } else if (isFresh(bundle)) {
        const { main, nodeIo } = loadBundle(bundle)
        // As src/bin.ts: set the exit code and let stdout drain.
        process.exitCode = await main(argv, nodeIo())
    } else {
        await import("../dist/bin.js")
    }
}

run()
