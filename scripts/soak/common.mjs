// What every soak campaign shares: a seeded random source, a bounded pool, a
// private copy of the build, the binary run with a hang timeout, the program run
// in process, and the checks on what a run printed.
//
// The private build copy exists because several people rebuild dist/ while a long
// campaign runs: bin/secrets.cjs falls back to the unbundled modules while the
// bundle is older than dist/main.js, and a half-written dist/ would show up here as
// crashes that are not the program's.
import { execFileSync, spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Readable } from "node:stream"
import { fileURLToPath, pathToFileURL } from "node:url"

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..")

// ---------------------------------------------------------------- randomness

/** A 32-bit seed from a string (FNV-1a), to derive one independent stream per round. */
export function hashSeed(...parts) {
    let h = 0x811c9dc5
    for (const ch of parts.join("\u0000")) {
        h ^= ch.codePointAt(0) ?? 0
        h = Math.imul(h, 0x01000193) >>> 0
    }
    return h >>> 0
}

/**
 * mulberry32: small, fast and good enough to pick mutations and delays. Each round
 * gets its own stream from (seed, campaign, round), so a round can be replayed alone
 * and the figures do not depend on the order concurrent rounds finish in.
 */
export function makeRng(seed) {
    let a = seed >>> 0
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    return {
        next,
        int: (n) => Math.floor(next() * n),
        range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
        pick: (xs) => xs[Math.floor(next() * xs.length)],
        chance: (p) => next() < p,
        hex: (n) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join(""),
    }
}

/** Run `fn(i)` for i in [0, n) with at most `jobs` running at once; results in order. */
export async function pool(n, jobs, fn) {
    const results = new Array(n)
    let next = 0
    const lane = async () => {
        for (;;) {
            const i = next++
            if (i >= n) return
            results[i] = await fn(i)
        }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, n)) }, lane))
    return results
}

// ---------------------------------------------------------------- the build

/**
 * Copy bin/ and dist/ to a private directory (node_modules linked, for the unbundled
 * modules the in-process runs import), and check the copy works: someone may have
 * been half-way through a build when it was taken, so a copy that fails is taken
 * again a few seconds later. Removed when the process exits unless `keep`.
 */
export async function privateBuild({ keep = false, log = () => {} } = {}) {
    if (!existsSync(join(ROOT, "dist/main.js")) || !existsSync(join(ROOT, "dist/secrets.bundle.cjs"))) {
        throw new Error("dist/ is missing: run `npm run build` first (npm run soak does)")
    }
    for (let attempt = 1; ; attempt++) {
        const dir = mkdtempSync(join(tmpdir(), "secrets-soak-build-"))
        if (!keep) process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
        cpSync(join(ROOT, "bin"), join(dir, "bin"), { recursive: true })
        cpSync(join(ROOT, "dist"), join(dir, "dist"), { recursive: true, preserveTimestamps: true })
        cpSync(join(ROOT, "package.json"), join(dir, "package.json"))
        symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir")
        const build = { dir, bin: join(dir, "bin/secrets.cjs"), url: (p) => pathToFileURL(join(dir, "dist", p)).href }
        const problem = await buildProblem(build)
        if (problem === undefined) return build
        if (attempt >= 10) throw new Error(`the build in dist/ does not work: ${problem}`)
        log(`soak: the copy of dist/ does not work yet (${problem}); a build may be running, trying again in 10 s`)
        rmSync(dir, { recursive: true, force: true })
        await new Promise((r) => setTimeout(r, 10_000))
    }
}

/** Why a build copy does not work (the bundle runs and the modules import), or undefined. */
async function buildProblem(build) {
    // bin/secrets.cjs runs the bundle (what ships) only when it is newer than the modules.
    const dist = join(build.dir, "dist")
    if (statSync(join(dist, "secrets.bundle.cjs")).mtimeMs < statSync(join(dist, "main.js")).mtimeMs) return "the bundle is older than dist/main.js"
    const bundle = await runBin(build, ["--version"], { cwd: build.dir, env: { PATH: process.env.PATH ?? "" } })
    if (bundle.code !== 0) return `secrets --version exited ${bundle.code}`
    // A child process: a module that failed to link stays failed in this process's cache.
    const modules = await new Promise((resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(build.url("main.js"))})`], { stdio: "ignore" })
        child.on("close", (code) => resolve(code))
    })
    return modules === 0 ? undefined : "dist/main.js does not import"
}

/** The exit codes src/errors.ts documents (sops's table plus 141 for a broken pipe). */
export async function documentedCodes(build) {
    const { ExitCode } = await import(build.url("errors.js"))
    return new Set(Object.values(ExitCode))
}

// ---------------------------------------------------------------- runs

/** The environment of a run: nothing of the caller's but PATH. */
export function cleanEnv(home, extra = {}) {
    return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_STATE_HOME: join(home, ".state"),
        ...extra,
    }
}

/**
 * Run the built binary. A run that outlives `timeoutMs` is killed and reported as
 * hung: the timeout is generous (a loaded 2-core machine), only a real hang needs it.
 * `onSpawn(child)` lets a caller kill it at a moment of its choosing.
 */
export function runBin(build, args, { cwd, env, input, timeoutMs = 60_000, onSpawn } = {}) {
    return new Promise((resolve, reject) => {
        const start = performance.now()
        const child = spawn(process.execPath, [build.bin, ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] })
        const out = []
        const err = []
        let timedOut = false
        const timer = setTimeout(() => {
            timedOut = true
            child.kill("SIGKILL")
        }, timeoutMs)
        child.stdout.on("data", (d) => out.push(d))
        child.stderr.on("data", (d) => err.push(d))
        child.on("error", (e) => {
            clearTimeout(timer)
            reject(e)
        })
        child.on("close", (code, signal) => {
            clearTimeout(timer)
            resolve({
                code,
                signal,
                timedOut,
                ms: performance.now() - start,
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
            })
        })
        child.stdin.on("error", () => {})
        child.stdin.end(input ?? "")
        onSpawn?.(child)
    })
}

/** An Io (src/files/io.ts) over buffers, for running main() in this process. */
export function bufferIo({ cwd, env, input }) {
    const out = []
    const err = []
    const sink = (into) => ({ write: (chunk) => (into.push(Buffer.from(chunk)), true) })
    return {
        io: {
            cwd,
            env,
            stdin: Readable.from(input === undefined || input.length === 0 ? [] : [Buffer.from(input)]),
            stdout: sink(out),
            stderr: sink(err),
            now: () => new Date(),
        },
        stdout: () => Buffer.concat(out).toString("utf8"),
        stderr: () => Buffer.concat(err).toString("utf8"),
    }
}

/** main() from the private build, run in this process: for checks, not for the runs under test. */
export async function inProcess(build) {
    const { main } = await import(build.url("main.js"))
    return async (args, { cwd, env, input }) => {
        const b = bufferIo({ cwd, env, input })
        const code = await main(args, b.io)
        return { code, stdout: b.stdout(), stderr: b.stderr() }
    }
}

// ---------------------------------------------------------------- what a run printed

/** A V8 stack frame, or Node's own modules: what an uncaught exception prints. */
const STACK_FRAME = /^\s+at .+\(.*:\d+:\d+\)|^\s+at .+:\d+:\d+$|node:internal/m

export function hasStackTrace(text) {
    return STACK_FRAME.test(text)
}

export function hasInternalError(text) {
    return /internal error/i.test(text)
}

/** The first canary of `canaries` that `text` contains, or undefined. */
export function leakedCanary(text, canaries) {
    return canaries.find((c) => c.length > 0 && text.includes(c))
}

// ---------------------------------------------------------------- keys and dirs

/** A fresh X25519 key made by Debian's age-keygen. */
export function ageKeygen(dir, name) {
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `${name}.txt`)
    execFileSync("age-keygen", ["-o", file], { stdio: ["ignore", "ignore", "ignore"] })
    const text = readFileSync(file, "utf8")
    const recipient = execFileSync("age-keygen", ["-y", file]).toString().trim()
    const identity = text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) ?? ""
    return { file, recipient, identity, text }
}

/** A temp dir for a campaign; removed on exit unless `keep`. */
export function campaignDir(name, keep = false) {
    const dir = mkdtempSync(join(tmpdir(), `secrets-soak-${name}-`))
    if (!keep) process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
    return dir
}

/** Median of a list of numbers. */
export function median(xs) {
    const s = [...xs].sort((a, b) => a - b)
    return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]
}

/** Count occurrences of each key: a plain object for JSON output. */
export function tally(items) {
    const out = {}
    for (const k of items) out[k] = (out[k] ?? 0) + 1
    return out
}
