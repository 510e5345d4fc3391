#!/usr/bin/env node
// The second half of `npm run build`, after tsc: bundle dist/ and its dependencies
// into one file, dist/secrets.bundle.cjs, and save a V8 code cache for it,
// dist/secrets.bundle.cjs.cache. bin/secrets.cjs runs the bundle when it is at least
// as new as dist/main.js, and the modules in dist/ otherwise.
//
// Why (docs/benchmarks.md has the numbers): `secrets decrypt` spent most of its
// start-up resolving, reading and compiling ~150 ES modules (yaml, age-encryption
// and its @noble dependencies, commander, ours). One file loaded through
// vm.Script with `cachedData` skips both the module graph and the compilation of
// every function that the warm-up below ran. Node 20 has no module compile cache
// (module.enableCompileCache is Node 22), and vm only takes cachedData for
// scripts, hence a CommonJS bundle wrapped in a function rather than ES modules.
//
// The bundle is the wrapper function expression itself, so that the text we
// compile here and the text bin/secrets.cjs compiles are byte for byte the same,
// which V8 requires before it accepts a cache. Loading it with require() would
// evaluate a function expression and do nothing.
//
// The cache is made after running `decrypt` and `filestatus` on small YAML, JSON
// and dotenv files with a throwaway key in a temp dir, so it holds
// compiled code only (V8 code caches hold bytecode and literals from the source,
// never runtime values). A node whose V8 differs from the one that built the cache
// rejects it and compiles from source: slower, never wrong.
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import vm from "node:vm"
import { WARM_PLAINTEXTS, warmUpRunner, writeCommandCaches } from "./bundle-command-caches.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(root, "dist/secrets.bundle.cjs")

/**
 * The general YAML reader (the `yaml` package and yaml-parse.js) on first use, in
 * every bundle: dist/stores/yaml-general.js imports it statically (ES modules have
 * no synchronous late import), and is replaced here by a require() inside its one
 * function, which esbuild makes a module wrapper run on that call. A decrypt of a
 * file in the emitter's own shape never calls it (stores/yaml.ts; issue 14 target 2).
 */
const lazyGeneralYaml = {
    name: "lazy-general-yaml",
    setup(b) {
        b.onLoad({ filter: /[\\/]dist[\\/]stores[\\/]yaml-general\.js$/ }, (args) => {
            const real = readFileSync(args.path, "utf8")
            const exported = [...real.matchAll(/^export\b.*$/gm)].map((m) => m[0])
            if (exported.length !== 1 || !exported[0].startsWith("export function generalYaml()")) {
                throw new Error(`bundle: ${args.path} must export generalYaml() alone, which the bundles replace (found: ${exported.join("; ")})`)
            }
            return { resolveDir: dirname(args.path), loader: "js", contents: `let general\nexport function generalYaml() {\n    return (general ??= require("./yaml-parse.js"))\n}\n` }
        })
    },
}

/**
 * Bundle `entry` (an ES module text of re-exports from dist/) into `outfile`: one
 * CommonJS function expression, ASCII only, with no import() left. Returns the text
 * and the list of input files (esbuild's metafile).
 */
async function bundle(entry, outfile, options = {}) {
    const result = await build({
        stdin: { contents: entry, resolveDir: root, sourcefile: "bundle-entry.js", loader: "js" },
        bundle: true,
        format: "cjs",
        platform: "node",
        target: "node20",
        // import() of a bundled module becomes a lazily run wrapper; of a node: builtin,
        // a require(). So nothing needs vm's dynamic-import hook, which Node 20 before
        // 20.12 lacks.
        supported: { "dynamic-import": false },
        // src/core/go-regex.ts reads import.meta.url only where `require` is missing
        // (ES modules); in this CommonJS bundle it never runs, so no empty-import-meta warning.
        define: { "import.meta.url": "undefined" },
        minify: true,
        charset: "ascii",
        legalComments: "none",
        banner: { js: "(function (exports, require, module, __filename, __dirname) {" },
        footer: { js: "\n})" },
        outfile,
        logLevel: "warning",
        metafile: true,
        ...options,
        plugins: [lazyGeneralYaml, ...(options.plugins ?? [])],
    })
    if (result.errors.length > 0) process.exit(1)
    const source = readFileSync(outfile, "latin1")
    // bin/secrets.cjs reads the bundle as latin1 (a one-byte string, no UTF-8 decoding);
    // esbuild's charset "ascii" escapes everything else.
    if (!/^[\x00-\x7f]*$/.test(source)) throw new Error(`bundle: ${outfile} is not pure ASCII`)
    if (/[^\w$.]import\(/.test(source)) throw new Error(`bundle: a dynamic import() is left in ${outfile}`)
    return { source, eager: eagerInputs(result.metafile), inputs: Object.keys(result.metafile.inputs) }
}

/**
 * The inputs that run when the bundle loads: those the entry reaches through static
 * imports and require() calls. A module reached only through import() is kept in
 * the bundle as a wrapper that runs on the first import() (supported:
 * dynamic-import false), so it costs bytes but no start-up work.
 */
function eagerInputs(metafile) {
    // The lazy-commander stand-ins below require commander inside a function.
    const requiresLazily = (file) => file.startsWith("lazy-commander:")
    const output = Object.values(metafile.outputs)[0]
    const kept = new Set(Object.entries(output.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k))
    const seen = new Set()
    const queue = Object.keys(metafile.inputs).filter((p) => p === "bundle-entry.js")
    while (queue.length > 0) {
        const file = queue.pop()
        if (seen.has(file)) continue
        seen.add(file)
        if (requiresLazily(file)) continue
        for (const i of metafile.inputs[file]?.imports ?? []) if (i.kind !== "dynamic-import" && !i.external) queue.push(i.path)
    }
    return [...seen].filter((p) => kept.has(p) || !metafile.inputs[p])
}

/** Compile and run a bundle as bin/secrets.cjs does; the Script is kept for its code cache. */
function load(source, file) {
    const script = new vm.Script(source, { filename: file })
    const mod = { exports: {} }
    script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file))
    return { script, exports: mod.exports }
}

const { source } = await bundle(
    `export { main } from "./dist/main.js"\nexport { nodeIo } from "./dist/files/io.js"\n`,
    out,
    // Function names stay in `--verbose` stack frames.
    { keepNames: true },
)

// ---------------------------------------------------------------- warm-up and cache

const { script, exports: { main } } = load(source, out)

const dir = mkdtempSync(join(tmpdir(), "secrets-bundle-"))
try {
    // typage rather than age-keygen, so that building needs no age binary.
    const { generateX25519Identity, identityToRecipient } = await import("age-encryption")
    const identity = await generateX25519Identity()
    const recipient = await identityToRecipient(identity)
    const key = join(dir, "key.txt")
    writeFileSync(key, `${identity}\n`, { mode: 0o600 })
    const runner = warmUpRunner({ cwd: dir, env: { HOME: dir, SOPS_AGE_KEY_FILE: key } })
    const run = (argv) => runner(argv, main)
    for (const [name, text] of Object.entries(WARM_PLAINTEXTS)) {
        writeFileSync(join(dir, name), text)
        const enc = name.replace(".", ".enc.")
        // Encrypted by the unbundled build in a child: the cache covers only what
        // the warm-up runs here, and read-only commands are the ones run on every
        // deploy.
        const encrypted = execFileSync(process.execPath, [join(root, "dist/bin.js"), "encrypt", "--age", recipient, name], { cwd: dir, env: { HOME: dir, SOPS_AGE_KEY_FILE: key } })
        writeFileSync(join(dir, enc), encrypted)
        if ((await run(["decrypt", enc])).toString() !== text) throw new Error(`bundle: warm-up ${name} does not round-trip`)
        await run(["filestatus", enc])
    }
} finally {
    rmSync(dir, { recursive: true, force: true })
}
writeFileSync(`${out}.cache`, script.createCachedData())

// ---------------------------------------------------------------- completion callback
// `secrets __complete` runs on every TAB and must answer well under 100 ms (issue 6).
// Loading the main bundle (commander and every command) costs more than the answer,
// so bin/secrets.cjs answers it from a JSON model of the program,
// dist/completion-model.json, and a second, small bundle of dist/cli/completion/,
// warmed and cached as above.
// What only key paths, profile and key names need (the stores and the yaml package,
// 94% of the bytes) is a third bundle, dist/complete-keys.bundle.cjs, which the small
// one loads (with its own code cache) on the first import() of them: every TAB pays
// for reading, hashing and deserialising the code it loads, run or not, and
// `edit <TAB>` runs none of that (issue 14 target 6).
// The model is made here from the very program the main bundle runs; both files are
// trusted only while at least as new as dist/main.js, else bin/secrets.cjs takes the
// full program, whose hidden __complete gives the same answer
// (test/e2e/completion-program.test.ts checks that they agree).
{
    const { createProgram } = await import(join(root, "dist/cli/program.js"))
    const { buildModel } = await import(join(root, "dist/cli/completion/model.js"))
    const quiet = { write: () => true, isTTY: false }
    const io = { cwd: root, env: {}, stdin: process.stdin, stdout: quiet, stderr: quiet, now: () => new Date(0) }
    const model = buildModel(createProgram(io, { exitCode: 0 }))

    const keysOut = join(root, "dist/complete-keys.bundle.cjs")
    const { source: keysSource } = await bundle(
        `export { keyPathsOf } from "./dist/cli/completion/key-paths.js"\nexport { readNamedKeys } from "./dist/config/named-keys.js"\nexport { parseDocument, isMap, isScalar } from "yaml"\n`,
        keysOut,
    )
    // sources.ts's import() of these three becomes a module that loads the keys bundle
    // as bin/secrets.cjs loads a bundle (one function expression, its code cache);
    // its exports hold all three modules' names, which do not clash.
    const LAZY_KEYS = /^(\.\/key-paths\.js|\.\.\/\.\.\/config\/named-keys\.js|yaml)$/
    const lazyKeys = {
        name: "lazy-complete-keys",
        setup(b) {
            b.onResolve({ filter: LAZY_KEYS }, (args) => {
                if (args.kind !== "dynamic-import" || !args.importer.endsWith("/dist/cli/completion/sources.js")) return undefined
                return { path: "complete-keys", namespace: "lazy-complete-keys" }
            })
            b.onLoad({ filter: /.*/, namespace: "lazy-complete-keys" }, () => ({
                resolveDir: root,
                loader: "js",
                contents: `const { readFileSync } = require("node:fs")
const { join } = require("node:path")
const { Script } = require("node:vm")
const file = join(__dirname, "complete-keys.bundle.cjs")
let cachedData
try {
    cachedData = readFileSync(file + ".cache")
} catch {}
const script = new Script(readFileSync(file, "latin1"), { filename: file, cachedData })
script.runInThisContext()(module.exports, require, module, file, __dirname)
`,
            }))
        },
    }
    const completeOut = join(root, "dist/complete.bundle.cjs")
    const { source: completeSource, inputs: completeInputs } = await bundle(
        `export { answer } from "./dist/cli/completion/callback.js"\nexport { fileSources } from "./dist/cli/completion/sources.js"\n`,
        completeOut,
        { plugins: [lazyKeys] },
    )
    if (completeInputs.some((p) => /node_modules\/yaml\/|(^|\/)dist\/stores\//.test(p))) {
        throw new Error("bundle: the completion bundle holds the key-path code (yaml, stores), which must stay in dist/complete-keys.bundle.cjs")
    }
    // Warm-up on made-up files: sops-shaped text is all completion reads, so no key is needed.
    let completeScript
    const wdir = mkdtempSync(join(tmpdir(), "secrets-complete-"))
    try {
        const enc = (t) => `ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:${t}]`
        const meta = `sops:\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ${enc("str")}\n    version: 3.13.0\n`
        writeFileSync(join(wdir, "a.yaml"), `db:\n    user: ${enc("str")}\n    port: ${enc("int")}\nlist:\n    - ${enc("bool")}\n${meta}`)
        writeFileSync(join(wdir, "b.json"), `{\n\t"a": "${enc("str")}",\n\t"sops": {\n\t\t"mac": "${enc("str")}",\n\t\t"version": "3.13.0"\n\t}\n}\n`)
        writeFileSync(join(wdir, "c.env"), `A=${enc("str")}\nsops_mac=${enc("str")}\nsops_version=3.13.0\n`)
        writeFileSync(join(wdir, ".sops.yaml"), "keys:\n  - &host_web1 age1x\ncreation_rules:\n  - age: *host_web1\n")
        // The keys bundle first, on the same files, for its own cache: the copy that the
        // completion bundle loads below is out of reach here.
        const { script: keysScript, exports: keys } = load(keysSource, keysOut)
        for (const f of ["a.yaml", "b.json", "c.env"]) if ((await keys.keyPathsOf(readFileSync(join(wdir, f)), f)).length === 0) throw new Error(`bundle: no key paths in keys warm-up ${f}`)
        const sopsYaml = readFileSync(join(wdir, ".sops.yaml"), "utf8")
        if (keys.readNamedKeys(sopsYaml).length !== 1) throw new Error("bundle: keys warm-up found no key names")
        keys.isMap(keys.parseDocument(`secrets:\n  profiles:\n    prod: {}\n${sopsYaml}`).getIn(["secrets", "profiles"], true))
        writeFileSync(`${keysOut}.cache`, keysScript.createCachedData())
        const loaded = load(completeSource, completeOut)
        completeScript = loaded.script
        const completion = loaded.exports
        const sources = completion.fileSources(wdir, {})
        const ask = (...words) => completion.answer(model, ["bash", "--", ...words], sources)
        const edit = await ask("edit", "")
        if (edit !== "a.yaml\nb.json\nc.env\n:\n") throw new Error("bundle: completion warm-up found the wrong files")
        for (const f of ["a.yaml", "b.json", "c.env"]) if (!(await ask("set", f, "")).startsWith("'[")) throw new Error(`bundle: no key paths in warm-up ${f}`)
        if ((await ask("keys", "remove", "")) !== "web1\n:\n") throw new Error("bundle: completion warm-up found no key names")
        await ask("decrypt", "--output-type", "")
        await ask("")
    } finally {
        rmSync(wdir, { recursive: true, force: true })
    }
    writeFileSync(`${completeOut}.cache`, completeScript.createCachedData())
    writeFileSync(join(root, "dist/completion-model.json"), JSON.stringify(model) + "\n")
}

// ---------------------------------------------------------------- the fast path (issue 14 target 2)
// `decrypt`, `view`, `filestatus` and `exec-env` in their plain forms run from a
// third bundle, dist/hot.bundle.cjs, of src/cli/hot/ and the run functions of those
// commands, without commander: building the program (every command and its
// options) and parsing with it cost more than the decryption of a small file.
// src/cli/hot/argv.ts hands every other command line to the full program.
//
// The command modules import commander at the top for their register functions,
// which the fast path never calls, and esbuild keeps the import (commander is
// CommonJS, and the modules are also reached through import() chains, which esbuild
// does not tree-shake). So in this bundle `commander` is a module of stand-ins that
// require the real commander on first use: each export is a Proxy that constructs,
// calls and reads through to the real class (subclassing and instanceof included),
// and esbuild's CommonJS wrapper runs commander's code only then. The check below
// fails the build if commander, or a package the fast path must not run at start,
// still loads with the bundle.
//
// `--version` alone is answered by bin/secrets.cjs from dist/version.txt, which the
// main bundle's own `--version` writes here, so the bytes are the program's.
// The per-command code caches of the fast path (dist/hot.bundle.cjs.<group>.cache) and
// the command lines that warm each; bin/secrets.cjs picks the cache by the command word.
const HOT_CACHE_WARMUPS = {
    // c.enc.yaml is a.enc.yaml after a comment: the general YAML reader, which the
    // canonical a.enc.yaml no longer runs (stores/yaml.ts), compiled into the cache too.
    decrypt: [["decrypt", "a.enc.yaml"], ["decrypt", "c.enc.yaml"], ["decrypt", "a.enc.json"], ["decrypt", "a.enc.env"], ["view", "a.enc.yaml"], ["decrypt", "--extract", '["db"]', "a.enc.yaml"], ["view", "--extract", '["USER"]', "a.enc.env"]],
    filestatus: [["filestatus", "a.enc.yaml"], ["filestatus", "a.enc.json"], ["filestatus", "a.enc.env"]],
    "exec-env": [["exec-env", "a.enc.env", "true"]],
}
{
    const hotOut = join(root, "dist/hot.bundle.cjs")
    const LAZY_PACKAGES = ["zod", "@inquirer/prompts"]
    const commanderPath = createRequire(import.meta.url).resolve("commander")
    const lazyCommander = {
        name: "lazy-commander",
        setup(b) {
            b.onResolve({ filter: /^commander$/ }, (args) => (args.namespace === "lazy-commander" ? { path: commanderPath } : { path: "commander", namespace: "lazy-commander" }))
            b.onLoad({ filter: /.*/, namespace: "lazy-commander" }, () => ({
                resolveDir: root,
                loader: "js",
                contents: `let real
const load = () => (real ??= require("commander"))
function lazy(name) {
    const proxy = new Proxy(function () {}, {
        construct: (_t, args, newTarget) => Reflect.construct(load()[name], args, newTarget === proxy ? load()[name] : newTarget),
        apply: (_t, self, args) => Reflect.apply(load()[name], self, args),
        get: (_t, key) => Reflect.get(load()[name], key),
    })
    return proxy
}
export const Argument = lazy("Argument"), Command = lazy("Command"), CommanderError = lazy("CommanderError"),
    Help = lazy("Help"), InvalidArgumentError = lazy("InvalidArgumentError"), Option = lazy("Option")
`,
            }))
        },
    }
    const { source: hotSource, eager } = await bundle(
        `export { hotPlan, runHot } from "./dist/cli/hot/run.js"\nexport { hotIo } from "./dist/cli/hot/io.js"\n`,
        hotOut,
        {
            // No keepNames (the main bundle keeps names for --verbose's stack frames,
            // which the fast path never prints): its 1,300 Object.defineProperty calls
            // cost start-up, and an error's name is its class's own `name` field
            // (errors.ts sets it), never the minified class name.
            plugins: [lazyCommander],
            // Reached only through import() on rare paths (a passphrase prompt, a
            // profile's .sops.yaml under GitHub Actions), and half the bundle's size
            // with iconv-lite: left to the installed packages, whose CommonJS builds
            // the bundle require()s from node_modules on first use. Every module in the
            // bundle costs start-up even unrun (esbuild defines its exports' getters at
            // load), so bytes that never run are not free.
            external: LAZY_PACKAGES,
        },
    )
    // An installed `secrets` has them only as runtime dependencies (not devDependencies).
    const dependencies = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies ?? {}
    for (const name of LAZY_PACKAGES) {
        if (!(name in dependencies)) throw new Error(`bundle: the fast path requires ${name} at run time, but it is not in package.json's dependencies`)
        createRequire(hotOut).resolve(name)
    }
    const banned = eager.filter((p) => /node_modules\/(commander|zod|@inquirer)\/|(^|\/)dist\/(fleet|sync)\/|(^|\/)dist\/cli\/program\.js$/.test(p))
    if (banned.length > 0) throw new Error(`bundle: the fast path's bundle holds ${banned.join(", ")}`)

    const { exports: hot } = load(hotSource, hotOut)
    const hdir = mkdtempSync(join(tmpdir(), "secrets-hot-"))
    try {
        const { generateX25519Identity, identityToRecipient } = await import("age-encryption")
        const identity = await generateX25519Identity()
        const recipient = await identityToRecipient(identity)
        const key = join(hdir, "key.txt")
        writeFileSync(key, `${identity}\n`, { mode: 0o600 })
        const run = warmUpRunner(
            { cwd: hdir, env: { HOME: hdir, SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH ?? "/usr/bin:/bin" } },
            { plan: hot.hotPlan, execute: hot.runHot, what: "the fast path" },
        )
        for (const [name, text] of Object.entries(WARM_PLAINTEXTS)) {
            writeFileSync(join(hdir, name), text)
            const enc = name.replace(".", ".enc.")
            // Encrypted with the main bundle, whose code cache is already written.
            writeFileSync(join(hdir, enc), await run(["encrypt", "--age", recipient, name], main))
            if ((await run(["decrypt", enc])).toString() !== text) throw new Error(`bundle: fast-path warm-up ${name} does not round-trip`)
            await run(["filestatus", enc])
        }
        writeFileSync(join(hdir, "c.enc.yaml"), `# a comment\n${readFileSync(join(hdir, "a.enc.yaml"), "latin1")}`)
        await run(["view", "--extract", '["USER"]', "a.enc.env"])
        // exec-env's own code (the environment, execa) is worth caching too: `true` ends at once.
        await run(["exec-env", "a.enc.env", "true"])

        // One code cache per command as well (scripts/bundle-command-caches.mjs says why).
        writeCommandCaches(hotOut, { planFn: "hotPlan", runFn: "runHot" }, HOT_CACHE_WARMUPS, {
            cwd: hdir,
            env: { HOME: hdir, SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH ?? "/usr/bin:/bin" },
            stderr: "inherit",
        })
    } finally {
        rmSync(hdir, { recursive: true, force: true })
    }
    // No cache of all four commands together: bin/secrets.cjs takes the per-command ones.

    // The writes' fast path (issue 14 target 4): dist/hot-write.bundle.cjs, built,
    // checked and warmed by the same rules in scripts/bundle-hot-write.mjs.
    const { bundleHotWrite } = await import("./bundle-hot-write.mjs")
    await bundleHotWrite({ root, bundle, load, main, plugins: [lazyCommander], external: LAZY_PACKAGES })

    const versionChunks = []
    const quiet = { write: () => true, isTTY: false }
    const vio = { cwd: root, env: {}, stdin: process.stdin, stdout: { write: (c) => void versionChunks.push(Buffer.from(c)), isTTY: false }, stderr: quiet, now: () => new Date(0) }
    if ((await main(["--version"], vio)) !== 0) throw new Error("bundle: `secrets --version` failed")
    writeFileSync(join(root, "dist/version.txt"), Buffer.concat(versionChunks))
}

// ---------------------------------------------------------------- the Node API (issue 13 §7)
// `import { load, get } from "secrets-cli"` takes dist/api/index.js, tsc's ES module,
// as is. `require("secrets-cli")` needs CommonJS, and Node 20 cannot require() an
// ES module (nor can a CommonJS wrapper hand out SecretsError synchronously through
// import()), and age-encryption and @noble are ES modules only: so the API entry
// and its dependencies are bundled here into dist/api/index.cjs. No vm wrapper and
// no code cache: it is loaded by require(), once per program. The bundle must hold
// no module of the CLI (the API's promise); the metafile says what went in.
//
// Types: tsc's declarations of the API's public files only, and a .d.cts for
// require() beside the bundle (TypeScript takes a .cjs file's types from the
// .d.cts next to it).
{
    const apiOut = join(root, "dist/api/index.cjs")
    const result = await build({
        entryPoints: [join(root, "dist/api/index.js")],
        bundle: true,
        format: "cjs",
        platform: "node",
        target: "node20",
        define: { "import.meta.url": "undefined" },
        // Only the passphrase prompt uses it, which the API never shows (src/api/api-io.ts):
        // left to the installed package (a lazy import()) instead of 500 kB of prompt code.
        external: ["@inquirer/prompts"],
        minify: true,
        keepNames: true,
        legalComments: "none",
        metafile: true,
        outfile: apiOut,
        logLevel: "warning",
    })
    if (result.errors.length > 0) process.exit(1)
    const cli = Object.keys(result.metafile.inputs).filter((p) => /(^|\/)dist\/cli\//.test(p))
    if (cli.length > 0) throw new Error(`bundle: the API bundle holds CLI modules: ${cli.join(", ")}`)
    const { emitApiDeclarations } = await import("./api-declarations.mjs")
    emitApiDeclarations(root)
}
