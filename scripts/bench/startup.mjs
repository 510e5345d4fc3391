// Issue 14 targets 2 (start-up) and 6 (the TAB callback): process start-ups of the
// hot commands against bare `node -e 0`, interleaved run by run (ctx.raceProcesses).
//
// - decrypt, view, filestatus and exec-env on small files take the fast path
//   (src/cli/hot/, dist/hot.bundle.cjs): target ≤ 1.6× node -e 0;
// - the same decrypt through the full commander program (SECRETS_FAST_PATH=0), for
//   what the fast path saves;
// - `--version`, answered by bin/secrets.cjs from dist/version.txt;
// - the TAB callback on a repo of 200 sops files: target ≤ 1.4×;
// - where the rest goes, for the path to 1.25×: loading the fast path's bundle
//   alone (read, code cache, module initialisers) with no command run;
// - the sops-age npm package decrypting the same small file (installed into a
//   temp dir here, never a dependency; skipped with the reason if npm fails).
//
// The row's note adds the CPU-time ratio and the peak RSS (the child's rusage, as
// /usr/bin/time -v reports it), medians of 7 runs each.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

export default async function startup(ctx) {
    const { dir, env, node, BIN, RUNS, recipient, secrets, raceProcesses, childRusage, row, root } = ctx
    const bare = [node, "-e", "0"]

    // Fixtures: small.enc.yaml is bench.mjs's; a dotenv twin for exec-env.
    if (!existsSync(join(dir, "small.enc.yaml"))) {
        writeFileSync(join(dir, "small.yaml"), "db:\n    user: admin\n    password: hunter2\n    port: 5432\napi_key: abc123\n")
        writeFileSync(join(dir, "small.enc.yaml"), secrets(["encrypt", "--age", recipient, "small.yaml"]))
    }
    writeFileSync(join(dir, "small.env"), "DB_USER=admin\nDB_PASSWORD=hunter2\nAPI_KEY=abc123\n")
    writeFileSync(join(dir, "small.enc.env"), secrets(["encrypt", "--age", recipient, "small.env"]))
    if (secrets(["exec-env", "small.enc.env", 'printf %s "$DB_PASSWORD"']).toString() !== "hunter2") throw new Error("bench: exec-env did not pass the value")
    if (!existsSync(join(dir, "repo"))) {
        const small = readFileSync(join(dir, "small.enc.yaml"))
        for (let i = 0; i < 200; i++) {
            mkdirSync(join(dir, "repo", `svc${i % 20}`), { recursive: true })
            writeFileSync(join(dir, "repo", `svc${i % 20}`, `s${i}.enc.yaml`), small)
        }
    }

    // CPU time and peak RSS of the child (ctx.childRusage: wait4's rusage), medians
    // of a few runs interleaved with node -e 0.
    const hasPython = childRusage(bare) !== undefined
    const timed = childRusage
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const note = (argv, what, extraEnv) => {
        if (!hasPython) return `${what}; no python3 for CPU and RSS`
        const ours = []
        const base = []
        for (let i = 0; i < 7; i++) (ours.push(timed(argv, extraEnv)), base.push(timed(bare)))
        if (ours.includes(undefined) || base.includes(undefined)) return what
        const cpuO = median(ours.map((x) => x.cpu))
        const cpuB = median(base.map((x) => x.cpu))
        const mib = (xs) => (median(xs.map((x) => x.rssKb)) / 1024).toFixed(0)
        return `${what}; CPU ${cpuO.toFixed(1)} vs ${cpuB.toFixed(1)} ms = ${(cpuO / cpuB).toFixed(2)}×; peak RSS ${mib(ours)} vs ${mib(base)} MiB`
    }
    const race = (name, argv, target, what, runs = RUNS) => {
        const r = raceProcesses(argv, bare, runs)
        row(name, r, target, `+${(r.ours.median - r.base.median).toFixed(0)} ms; ${note(argv, what)}`)
        return r
    }

    race("S. secrets decrypt small.yaml (fast path)  vs  node -e 0", [node, BIN, "decrypt", "small.enc.yaml"], 1.6, "issue 14 target 2")
    race("   secrets view small.yaml  vs  node -e 0", [node, BIN, "view", "small.enc.yaml"], 1.6, "target 2")
    race("   secrets filestatus small.yaml  vs  node -e 0", [node, BIN, "filestatus", "small.enc.yaml"], 1.6, "target 2")
    race("   secrets exec-env small.env true  vs  node -e 0", [node, BIN, "exec-env", "small.enc.env", "true"], 1.6, "target 2; includes /bin/sh")
    {
        // The full program, as every command ran before the fast path. raceProcesses
        // spawns with ctx.env, so the variable is set by env(1), which adds one exec.
        const full = ["/usr/bin/env", "SECRETS_FAST_PATH=0", node, BIN, "decrypt", "small.enc.yaml"]
        const r = raceProcesses(full, bare, RUNS)
        row("   secrets decrypt small.yaml, full program (SECRETS_FAST_PATH=0)  vs  node -e 0", r, undefined, `before the fast path; ${note(full.slice(2), "for information", { SECRETS_FAST_PATH: "0" })}`)
    }
    race("   secrets --version  vs  node -e 0", [node, BIN, "--version"], 1.25, "answered from dist/version.txt")
    {
        // In a directory of exactly 200 sops files: the bench's own directory holds
        // the 1,000-file repositories of the fleet and reads sections by now, which
        // the TAB walk would sniff too. env -C on both sides, so both pay its exec.
        const tab = join(dir, "tab200")
        const small = readFileSync(join(dir, "small.enc.yaml"))
        for (let i = 0; i < 200; i++) {
            mkdirSync(join(tab, `svc${i % 20}`), { recursive: true })
            writeFileSync(join(tab, `svc${i % 20}`, `s${i}.enc.yaml`), small)
        }
        const inTab = (argv) => ["/usr/bin/env", "-C", tab, ...argv]
        const r = raceProcesses(inTab([node, BIN, "__complete", "bash", "--", "edit", ""]), inTab(bare), RUNS)
        row("   secrets __complete edit (200 sops files)  vs  node -e 0", r, 1.4, `+${(r.ours.median - r.base.median).toFixed(0)} ms; issue 14 target 6; both through env -C`)
    }

    // The floor the fast path stands on: its bundle read, decrypt's code cache taken and
    // its module initialisers run, as bin/secrets.cjs does, with no command.
    const hotFile = join(root, "dist/hot.bundle.cjs")
    const loader =
        `const { readFileSync } = require("node:fs"), { Script } = require("node:vm"), { createRequire } = require("node:module")\n` +
        `const file = ${JSON.stringify(hotFile)}\n` +
        `const script = new Script(readFileSync(file, "latin1"), { filename: file, cachedData: readFileSync(file + ".decrypt.cache") })\n` +
        `const m = { exports: {} }\nscript.runInThisContext()(m.exports, createRequire(file), m, file, ${JSON.stringify(join(root, "dist") + "/")})\n` +
        `if (script.cachedDataRejected) process.exitCode = 3\n`
    const loadOnly = join(dir, "load-hot-only.cjs")
    writeFileSync(loadOnly, loader)
    race("   load the fast path's bundle only (no command)  vs  node -e 0", [node, loadOnly], undefined, "the floor under the fast path")
    // What a decrypt must load besides: node:crypto (X25519, HKDF, ChaCha20-Poly1305,
    // AES-GCM, the MAC's SHA-512), ~15 internal modules and the stream module Node
    // compiles on first require. From a file: `node -e` has node:crypto loaded before
    // the code runs (130 built-ins in process.moduleLoadList against 89 for a script),
    // so the baseline already holds it and a script does not. With the bundle's load,
    // the floor of this design.
    const cryptoOnly = join(dir, "crypto-only.cjs")
    writeFileSync(cryptoOnly, `require("node:crypto")\n`)
    race("   floor: node crypto-only.cjs (require('node:crypto'))  vs  node -e 0", [node, cryptoOnly], undefined, "the built-in a decrypt cannot skip")
    const loadCrypto = join(dir, "load-hot-crypto.cjs")
    writeFileSync(loadCrypto, `${loader}require("node:crypto")\n`)
    race("   floor: the bundle loaded + node:crypto (no command)  vs  node -e 0", [node, loadCrypto], undefined, "the floor of the 1.25× path in this design")
    {
        // The first decrypt in a process against a second one in the same process: the
        // first-run cost (lazily initialised modules, built-ins, code outside the cache,
        // the interpreter's cold inline caches, young-generation GC), in CPU ms.
        const twice = join(dir, "decrypt-twice.cjs")
        writeFileSync(
            twice,
            `${loader}const argv = ["decrypt", "small.enc.yaml"], plan = m.exports.hotPlan(argv), io = m.exports.hotIo()\n` +
                `const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }\n` +
                `;(async () => { const t0 = cpu(); await m.exports.runHot(plan, io, argv); const t1 = cpu(); await m.exports.runHot(plan, io, argv); const t2 = cpu()\n` +
                `require("node:fs").writeSync(2, JSON.stringify([t1 - t0, t2 - t1]) + "\\n") })()\n`,
        )
        const first = []
        const second = []
        for (let i = 0; i < Math.max(7, Math.min(RUNS, 15)); i++) {
            const r = spawnSync(node, [twice], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] })
            const [a, b] = JSON.parse(r.stderr.toString().trim().split("\n").pop())
            first.push(a)
            second.push(b)
        }
        const st = (xs) => ({ median: median(xs), min: Math.min(...xs) })
        row("   first decrypt in a process  vs  a second one in the same process  [CPU ms, in process]", { ours: st(first), base: st(second) }, undefined, "the first-run cost")
    }

    // sops-age, the JavaScript peer, on the same file and key (SOPS_AGE_KEY_FILE).
    const prefix = mkdtempSync(join(tmpdir(), "secrets-bench-sops-age-"))
    try {
        const npm = spawnSync("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", "sops-age"], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 })
        const entry = join(prefix, "node_modules/sops-age/dist/index.js")
        if (npm.status !== 0 || !existsSync(entry)) {
            console.log(`bench: sops-age row skipped: npm install sops-age failed (${npm.error?.message ?? `exit ${npm.status}: ${npm.stderr.toString().trim().split("\n").pop()}`})`)
            return
        }
        const version = JSON.parse(readFileSync(join(prefix, "node_modules/sops-age/package.json"), "utf8")).version
        const script = join(dir, "sops-age-decrypt.mjs")
        writeFileSync(script, `import { decryptSops } from ${JSON.stringify(pathToFileURL(entry).href)}\nprocess.stdout.write(JSON.stringify(await decryptSops({ path: "small.enc.yaml" })))\n`)
        const theirs = JSON.parse(execFileSync(node, [script], { cwd: dir, env }).toString())
        if (theirs?.db?.password !== "hunter2") throw new Error("bench: sops-age did not decrypt small.enc.yaml")
        const r = raceProcesses([node, script], bare, RUNS)
        row(`   sops-age ${version} decryptSops small.yaml  vs  node -e 0`, r, undefined, note([node, script], "the JS peer, for information"))
        const vs = raceProcesses([node, BIN, "decrypt", "small.enc.yaml"], [node, script], RUNS)
        row(`   secrets decrypt small.yaml  vs  sops-age ${version}`, vs, undefined, "for information")
    } finally {
        rmSync(prefix, { recursive: true, force: true })
    }
}
