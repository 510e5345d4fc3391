// Issue 14 target 4: the small-file writes, `encrypt`, `updatekeys` and `rotate`,
// each within 1.2× a `decrypt` of the same small file.
//
// A directory of its own with a `.sops.yaml` (one rule, two X25519 recipients: the
// bench's key and a second one), so that every write reads and validates the
// config as it does in a repository. `updatekeys` needs a file whose recipients
// differ from its rule's: a copy encrypted to the bench key alone is put back
// before each run (not timed). `rotate -i` rewrites its file in place, which any
// number of runs can do. All commands are interleaved run by run, so a busy
// machine slows them alike; ratios are of medians.
//
// Each run goes through python3's wait4(2) (as scripts/bench/startup.mjs), which
// gives the child's CPU time (user + system) and peak RSS; the wall clock is taken
// in python around fork and wait, so python's own start is not in it. The rows'
// ratio is wall clock, as every row of the bench; the note adds the CPU ratio,
// which on a loaded machine moves much less (wall clock waits for the scheduler,
// and for the two fsyncs of an atomic write, which a decrypt does not do).
//
// Rows: the writes through their fast path (src/cli/hot/write-*.ts, the target);
// the same writes through the full program (SECRETS_FAST_PATH=0, what they ran
// before the fast path); and a floor: the writes' bundle loaded and nothing run.
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const SMALL = "db:\n    user: admin\n    password: hunter2\n    port: 5432\napi_key: abc123\n"
const WAIT4 = `import os,sys,time
t=time.monotonic()
pid=os.fork()
if pid==0:
    os.execvp(sys.argv[1],sys.argv[1:])
_,st,ru=os.wait4(pid,0)
print('rusage',(time.monotonic()-t)*1000,(ru.ru_utime+ru.ru_stime)*1000,ru.ru_maxrss,file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(st))`

export default async function writesBench(ctx) {
    const dir = join(ctx.dir, "writes")
    mkdirSync(dir, { recursive: true })
    const second = join(dir, "second.txt")
    execFileSync("age-keygen", ["-o", second], { stdio: "ignore" })
    const secondRecipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(second, "utf8"))?.[1]
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n    - path_regex: \\.yaml$\n      age: ${ctx.recipient},${secondRecipient}\n`)
    writeFileSync(join(dir, "small.yaml"), SMALL)
    // The floor: what bin/secrets.cjs does before a write's command runs (read the
    // writes' bundle and encrypt's code cache, run its module initialisers).
    writeFileSync(
        join(dir, "load-only.cjs"),
        `const { Script } = require("node:vm"), { readFileSync } = require("node:fs"), { createRequire } = require("node:module")
const file = ${JSON.stringify(join(ctx.root, "dist", "hot-write.bundle.cjs"))}
let cachedData
try { cachedData = readFileSync(file + ".encrypt.cache") } catch {}
const m = { exports: {} }
new Script(readFileSync(file, "latin1"), { filename: file, cachedData }).runInThisContext()(m.exports, createRequire(file), m, file, "")
`,
    )

    const hasPython = spawnSync("python3", ["-c", "import os; os.wait4"]).status === 0
    const run = (args, env = {}) => {
        const argv = args[0] === "-" ? [ctx.node, ...args.slice(1)] : [ctx.node, ctx.BIN, ...args]
        const t = process.hrtime.bigint()
        const r = hasPython
            ? spawnSync("python3", ["-c", WAIT4, ...argv], { cwd: dir, env: { ...ctx.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
            : spawnSync(argv[0], argv.slice(1), { cwd: dir, env: { ...ctx.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
        const ms = Number(process.hrtime.bigint() - t) / 1e6
        if (r.status !== 0) throw new Error(`bench: secrets ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
        const m = /^rusage ([\d.]+) ([\d.]+) (\d+)$/m.exec(r.stderr.toString())
        return m === null ? { ms, stdout: r.stdout, cpu: NaN, rssKiB: NaN } : { ms: Number(m[1]), cpu: Number(m[2]), rssKiB: Number(m[3]), stdout: r.stdout }
    }
    writeFileSync(join(dir, "small.enc.yaml"), run(["encrypt", "small.yaml"]).stdout)
    writeFileSync(join(dir, "rotate.enc.yaml"), readFileSync(join(dir, "small.enc.yaml")))
    writeFileSync(join(dir, "one.enc.yaml"), run(["encrypt", "--age", ctx.recipient, "small.yaml"]).stdout)
    if (run(["decrypt", "small.enc.yaml"]).stdout.toString() !== SMALL) throw new Error("bench: writes/small.enc.yaml does not round-trip")

    const FULL = { SECRETS_FAST_PATH: "0" }
    const putBack = () => copyFileSync(join(dir, "one.enc.yaml"), join(dir, "keys.enc.yaml"))
    const cases = {
        decrypt: { args: ["decrypt", "small.enc.yaml"] },
        encrypt: { args: ["encrypt", "small.yaml"] },
        updatekeys: { args: ["updatekeys", "-y", "keys.enc.yaml"], before: putBack },
        rotate: { args: ["rotate", "-i", "rotate.enc.yaml"] },
        decryptFull: { args: ["decrypt", "small.enc.yaml"], env: FULL },
        encryptFull: { args: ["encrypt", "small.yaml"], env: FULL },
        updatekeysFull: { args: ["updatekeys", "-y", "keys.enc.yaml"], env: FULL, before: putBack },
        rotateFull: { args: ["rotate", "-i", "rotate.enc.yaml"], env: FULL },
        loadOnly: { args: ["-", "load-only.cjs"] },
    }
    const names = Object.keys(cases)
    const times = Object.fromEntries(names.map((n) => [n, { ms: [], cpu: [], rss: [] }]))
    for (let i = 0; i < ctx.RUNS + 2; i++) {
        // Rotate the order each round: no command always runs right after the same one.
        for (let k = 0; k < names.length; k++) {
            const name = names[(i + k) % names.length]
            cases[name].before?.()
            const r = run(cases[name].args, cases[name].env)
            if (i >= 2) (times[name].ms.push(r.ms), times[name].cpu.push(r.cpu), times[name].rss.push(r.rssKiB))
        }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const decrypt = ctx.stats(times.decrypt.ms)
    const cpuOf = (name) => median(times[name].cpu)
    const note = (name, what) => {
        const cpu = cpuOf(name)
        const rss = Math.max(...times[name].rss)
        if (Number.isNaN(cpu)) return `${what}; no python3 for CPU and RSS`
        return `${what}; CPU ${cpu.toFixed(1)} vs ${cpuOf("decrypt").toFixed(1)} ms = ${(cpu / cpuOf("decrypt")).toFixed(2)}×; peak RSS ${(rss / 1024).toFixed(0)} vs ${(Math.max(...times.decrypt.rss) / 1024).toFixed(0)} MiB`
    }
    for (const [name, label] of [["encrypt", "secrets encrypt small.yaml (rule from .sops.yaml)"], ["updatekeys", "secrets updatekeys -y (adds a recipient)"], ["rotate", "secrets rotate -i small.enc.yaml"]]) {
        ctx.row(`4. ${label}  vs  decrypt`, { ours: ctx.stats(times[name].ms), base: decrypt }, 1.2, note(name, "fast path"))
    }
    for (const [name, label] of [["encryptFull", "encrypt"], ["updatekeysFull", "updatekeys -y"], ["rotateFull", "rotate -i"]]) {
        ctx.row(`   ${label}, full program (SECRETS_FAST_PATH=0)  vs  decrypt`, { ours: ctx.stats(times[name].ms), base: decrypt }, undefined, note(name, "for information: before the writes' fast path"))
    }
    ctx.row("   decrypt, full program (SECRETS_FAST_PATH=0)  vs  decrypt", { ours: ctx.stats(times.decryptFull.ms), base: decrypt }, undefined, note("decryptFull", "for information"))
    ctx.row("   floor: the writes' bundle loaded, no command  vs  decrypt", { ours: ctx.stats(times.loadOnly.ms), base: decrypt }, undefined, note("loadOnly", "what every fast-path write pays before its work"))
}
