/**
 * The fast path (issue 14 target 2) through the built binary: for a table of
 * command lines, errors included, `secrets` gives the same stdout bytes, stderr and
 * exit code with the fast path as with the full program (SECRETS_FAST_PATH=0), and
 * the fast path is the one that ran: a preload records which bundles
 * bin/secrets.cjs compiled, and a plain `decrypt` must have compiled only the
 * small one (no commander), while anything unusual reaches the main bundle.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { runProcess } from "../helpers/process.js"
import { BUNDLE_PROBE } from "../helpers/bundle-probe.js"
import { ageKeygen } from "../helpers/tmp.js"

const hasPython = spawnSync("python3", ["-c", "import fcntl, termios"]).status === 0
let dir = ""
let env: Record<string, string> = {}

// The bundle probe, and the built-in modules and require() requests a run makes.
const PROBE = `${BUNDLE_PROBE}if (process.env.PROBE_MODULES) process.on("exit", () => fs.writeFileSync(process.env.PROBE_MODULES, process.moduleLoadList.join("\\n")))
// Every require() request the bundles make (they require built-ins and packages left out of them).
if (process.env.PROBE_REQUIRES) {
    const Module = require("node:module"), load = Module._load
    Module._load = function (request, ...rest) {
        fs.appendFileSync(process.env.PROBE_REQUIRES, request + "\\n")
        return load.call(this, request, ...rest)
    }
}
`

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "secrets-hot-"))
    const key = ageKeygen(dir, "key")
    const other = ageKeygen(dir, "other")
    writeFileSync(join(dir, "probe.cjs"), PROBE)
    env = { SOPS_AGE_KEY_FILE: key.file }
    const files: Record<string, string> = {
        "a.yaml": "db:\n    user: admin\n    password: p w\n    port: 5432\nlist:\n    - 1.5\n    - true\n",
        "a.json": '{\n\t"db": {\n\t\t"user": "admin",\n\t\t"port": 5432\n\t}\n}\n',
        "a.env": "USER=admin\nPASSWORD=p w\n",
    }
    for (const [name, text] of Object.entries(files)) {
        writeFileSync(join(dir, name), text)
        const r = await runCli(["encrypt", "--age", key.recipient, name], { cwd: dir, env })
        expect(r.code, r.stderr).toBe(0)
        writeFileSync(join(dir, name.replace(".", ".enc.")), r.stdoutBytes)
    }
    // Larger than a pipe's 64 KiB buffer, for the non-blocking pipe below.
    const big = Array.from({ length: 1500 }, (_, i) => `k${i}: ${"v".repeat(90)}${i}\n`).join("")
    writeFileSync(join(dir, "big.yaml"), big)
    const bigEnc = await runCli(["encrypt", "--age", key.recipient, "big.yaml"], { cwd: dir, env })
    expect(bigEnc.code, bigEnc.stderr).toBe(0)
    writeFileSync(join(dir, "big.enc.yaml"), bigEnc.stdoutBytes)
    const other1 = await runCli(["encrypt", "--age", other.recipient, "a.yaml"], { cwd: dir, env })
    writeFileSync(join(dir, "others.enc.yaml"), other1.stdoutBytes)
    // A changed value with the MAC left as it was.
    const enc = readFileSync(join(dir, "a.enc.yaml"), "utf8")
    writeFileSync(join(dir, "tampered.enc.yaml"), enc.replace(/(port: ENC\[AES256_GCM,data:)[^,]+/, "$1AAAA"))
}, 120_000)

afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

/** Run `secrets argv` with the probe; the result and the bundles compiled. */
async function probed(argv: string[], extra: Record<string, string>) {
    const out = join(dir, `probe-${Math.random().toString(36).slice(2)}.txt`)
    const r = await runCli(argv, { cwd: dir, env: { ...env, NODE_OPTIONS: `--require ${join(dir, "probe.cjs")}`, PROBE_OUT: out, ...extra } })
    const bundles = existsSync(out) ? readFileSync(out, "utf8").split("\n").filter(Boolean) : []
    // --verbose lines carry the time since start, which differs run to run.
    const stderr = r.stderr.replace(/^secrets: verbose: \[ *\d+ ms\]/gm, "secrets: verbose: [ms]")
    return { code: r.code, stdout: r.stdoutBytes.toString("base64"), stderr, bundles }
}

const FAST = ["hot.bundle.cjs"]
const FULL = ["secrets.bundle.cjs"]
// The fast path looked and handed over: both bundles compiled.
const HANDED_OVER = ["hot.bundle.cjs", "secrets.bundle.cjs"]

const table: [string[], string[], Record<string, string>?][] = [
    [["decrypt", "a.enc.yaml"], FAST],
    [["decrypt", "a.enc.json"], FAST],
    [["decrypt", "a.enc.env"], FAST],
    [["view", "a.enc.yaml"], FAST],
    [["decrypt", "--extract", '["db"]["password"]', "a.enc.yaml"], FAST],
    [["decrypt", "a.enc.yaml", "--output-type", "json"], FAST],
    [["decrypt", "--input-type", "yaml", "--ignore-mac", "tampered.enc.yaml"], FAST],
    [["filestatus", "a.enc.yaml"], FAST],
    [["filestatus", "a.yaml"], FAST],
    [["filestatus", "--input-type", "json", "a.enc.json"], FAST],
    [["exec-env", "a.enc.env", 'echo "$USER/$PASSWORD"'], FAST],
    [["exec-env", "--pristine", "a.enc.env", "echo \"[$PATH] $USER\""], FAST],
    [["exec-env", "a.enc.env", "exit 7"], FAST],
    // Under GitHub Actions exec-env loads run.ts's masking, which also defines options with commander.
    [["exec-env", "a.enc.env", "true"], FAST, { GITHUB_ACTIONS: "true" }],
    [["decrypt", "a.enc.yaml"], FAST, { SOPS_DECRYPTION_ORDER: "age" }],
    // Errors the fast path reports itself, as the program does.
    [["decrypt", "missing.enc.yaml"], FAST],
    [["decrypt", "others.enc.yaml"], FAST],
    [["decrypt", "tampered.enc.yaml"], FAST],
    [["decrypt", "--extract", '["nope"]', "a.enc.yaml"], FAST],
    [["decrypt", "a.enc.yaml", "--output-type", "dotenv"], FAST],
    [["view", "a.yaml"], FAST],
    [["filestatus", "missing.yaml"], FAST],
    [["exec-env", "others.enc.yaml", "true"], FAST],
    // Anything unusual goes to the full program.
    [["view"], HANDED_OVER],
    [["decrypt", "--bogus", "a.enc.yaml"], HANDED_OVER],
    [["decrypt", "--help"], HANDED_OVER],
    [["decrypt", "--input-type", "xml", "a.enc.yaml"], HANDED_OVER],
    [["decrypt", "a.enc.yaml", "b.enc.yaml"], HANDED_OVER],
    [["exec-env", "a.enc.env"], HANDED_OVER],
    [["exec-env", "--user", "nobody", "a.enc.env", "true"], HANDED_OVER],
    [["--verbose", "decrypt", "a.enc.yaml"], FULL],
    [["decrpyt", "a.enc.yaml"], FULL],
    [["--version"], []],
    [["-v"], []],
]

describe("the fast path answers as the full program does", () => {
    it.each(table)("secrets %j", async (argv, path, extra = {}) => {
        const [fast, full] = await Promise.all([probed(argv, extra), probed(argv, { ...extra, SECRETS_FAST_PATH: "0" })])
        expect({ ...fast, bundles: undefined }).toEqual({ ...full, bundles: undefined })
        expect(fast.bundles).toEqual(path)
        expect(full.bundles).toEqual(FULL)
    })

    it.each([
        [["--version"], 141],
        [["decrypt", "a.enc.yaml"], 141],
        [["filestatus", "a.enc.yaml"], 141],
        [["view", "big.enc.yaml"], 141],
        // The command's own failure wins over the broken pipe, and its message still reaches stderr.
        [["decrypt", "missing.enc.yaml"], 100],
    ])("secrets %j into a pipe whose reader is gone: status %i on both paths (141 as sops killed by SIGPIPE)", async (argv, code) => {
        // A FIFO opened read-write on fd 4 and write-only on fd 5; closing fd 4 leaves
        // no reader, so the first write to fd 5 fails with EPIPE, deterministically.
        const script = `mkfifo "$1"; exec 4<>"$1"; exec 5>"$1"; exec 4<&-; shift; exec "$@" >&5`
        const run = (fifo: string, extra: Record<string, string>) =>
            runProcess("/bin/sh", ["-c", script, "sh", join(dir, fifo), process.execPath, BIN, ...argv], { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env, ...extra } })
        const name = argv.join("-").replace(/\W/g, "")
        const [fast, full] = await Promise.all([run(`fifo-fast-${name}`, {}), run(`fifo-full-${name}`, { SECRETS_FAST_PATH: "0" })])
        expect({ code: fast.status, stderr: fast.stderr }).toEqual({ code: full.status, stderr: full.stderr })
        expect(fast.status).toBe(code)
        if (code === 141) expect(fast.stderr).toBe("")
        else expect(fast.stderr).toMatch(/^secrets: error: /)
    })

    it.skipIf(!hasPython)("writes all of a large output into a non-blocking pipe (EAGAIN hands the rest to the stream), on both paths", async () => {
        // The pipe's file description is O_NONBLOCK (as when another process on the
        // same pipe set it), and the reader waits until the pipe is full, so the fast
        // path's writeSync meets EAGAIN after the first 64 KiB.
        const harness = [
            "import fcntl, os, subprocess, sys, termios, array, time",
            "r, w = os.pipe()",
            "os.set_blocking(w, False)",
            "p = subprocess.Popen(sys.argv[1:], stdout=w)",
            "os.close(w)",
            "n = array.array('i', [0])",
            "while p.poll() is None:",
            "    fcntl.ioctl(r, termios.FIONREAD, n)",
            "    if n[0] >= 65536: break",
            "    time.sleep(0.01)",
            "out = b''",
            "while True:",
            "    b = os.read(r, 1 << 16)",
            "    if not b: break",
            "    out += b",
            "sys.stdout.buffer.write(out)",
            "sys.exit(p.wait())",
        ].join("\n")
        const run = (extra: Record<string, string>) =>
            runProcess("python3", ["-c", harness, process.execPath, BIN, "view", "big.enc.yaml"], { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env, ...extra } })
        const [fast, full] = await Promise.all([run({}), run({ SECRETS_FAST_PATH: "0" })])
        const plain = readFileSync(join(dir, "big.yaml"))
        expect({ code: fast.status, stderr: fast.stderr, same: fast.stdoutBytes.equals(plain) }).toEqual({ code: 0, stderr: "", same: true })
        expect({ code: full.status, stderr: full.stderr, same: full.stdoutBytes.equals(plain) }).toEqual({ code: 0, stderr: "", same: true })
    })

    it.each([
        [["decrypt", "a.enc.yaml"]],
        [["decrypt", "a.enc.json"]],
        [["view", "a.enc.env"]],
        [["filestatus", "a.enc.yaml"]],
    ])("secrets %j builds no stdout stream and loads no fs/promises (issue 14 target 2)", async (argv) => {
        // process.stdout on a pipe is a socket stream (net); fs/promises brings readline's
        // internals: the start-up the fast path's writer and synchronous reads avoid.
        const modules = join(dir, `modules-${argv.join("-").replace(/\W/g, "")}.txt`)
        const r = await probed(argv, { PROBE_MODULES: modules })
        expect(r.code, r.stderr).toBe(0)
        const loaded = readFileSync(modules, "utf8").split("\n")
        expect(loaded.filter((m) => /^NativeModule (net|fs\/promises|internal\/readline\/interface|internal\/fs\/sync_write_stream|tty)$/.test(m))).toEqual([])
    })

    it("exec-env runs the command without execa: no fs/promises, readline, tty or v8 (issue 14 target 2)", async () => {
        // execa's start-up (its modules and the streams it builds for a child) loaded these;
        // child_process.spawn with inherited stdio needs none of them.
        const modules = join(dir, "modules-exec-env.txt")
        const r = await probed(["exec-env", "a.enc.env", 'echo "$USER"'], { PROBE_MODULES: modules })
        expect({ code: r.code, stdout: Buffer.from(r.stdout, "base64").toString() }).toEqual({ code: 0, stdout: "admin\n" })
        const loaded = readFileSync(modules, "utf8").split("\n")
        expect(loaded.filter((m) => /^NativeModule (fs\/promises|internal\/fs\/promises|internal\/readline\/interface|tty|v8)$/.test(m))).toEqual([])
    })

    it("filestatus loads neither node:crypto nor the engine: it only reads the metadata (issue 14 target 2)", async () => {
        const modules = join(dir, "modules-filestatus-crypto.txt")
        const r = await probed(["filestatus", "a.enc.yaml"], { PROBE_MODULES: modules })
        expect({ code: r.code, stdout: Buffer.from(r.stdout, "base64").toString() }).toEqual({ code: 0, stdout: '{"encrypted":true}\n' })
        expect(readFileSync(modules, "utf8").split("\n")).not.toContain("NativeModule crypto")
    })

    it("a YAML file in the emitter's shape is decrypted without initialising the yaml package; one with a comment takes it, to the same plaintext (issue 14 target 2)", async () => {
        // The yaml package is the only code in the bundles that requires the built-ins
        // by their bare names "process" (its log.js) and "buffer"; ours say "node:…".
        // So a bare "process" request means the package's module initialisers ran.
        expect(readFileSync(join(BIN, "../../node_modules/yaml/dist/log.js"), "utf8")).toContain("require('process')")
        const requires = async (argv: string[], extra: Record<string, string> = {}) => {
            const file = join(dir, `requires-${Math.random().toString(36).slice(2)}.txt`)
            const r = await probed(argv, { PROBE_REQUIRES: file, ...extra })
            return { ...r, requests: existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [] }
        }
        const plain = readFileSync(join(dir, "a.yaml"), "utf8")
        writeFileSync(join(dir, "commented.enc.yaml"), `# a comment\n${readFileSync(join(dir, "a.enc.yaml"), "utf8")}`)
        for (const argv of [["decrypt", "a.enc.yaml"], ["view", "--extract", '["db"]', "a.enc.yaml"], ["filestatus", "a.enc.yaml"]]) {
            const r = await requires(argv)
            expect({ argv, code: r.code, bundles: r.bundles }).toEqual({ argv, code: 0, bundles: FAST })
            expect({ argv, yaml: r.requests.filter((q) => q === "process" || q === "buffer") }).toEqual({ argv, yaml: [] })
        }
        expect(Buffer.from((await requires(["decrypt", "a.enc.yaml"])).stdout, "base64").toString()).toBe(plain)
        // Not canonical: the general parser runs (the probe sees the package load), and the plaintext keeps the comment.
        const commented = await requires(["decrypt", "commented.enc.yaml"])
        expect({ code: commented.code, stdout: Buffer.from(commented.stdout, "base64").toString(), bundles: commented.bundles }).toEqual({ code: 0, stdout: `# a comment\n${plain}`, bundles: FAST })
        expect(commented.requests).toContain("process")
        const full = await requires(["decrypt", "commented.enc.yaml"], { SECRETS_FAST_PATH: "0" })
        expect({ code: full.code, stdout: full.stdout }).toEqual({ code: 0, stdout: commented.stdout })
    })

    it("prints what the program prints (a sanity check of the table's first rows)", async () => {
        const r = await probed(["decrypt", "a.enc.yaml"], {})
        expect(Buffer.from(r.stdout, "base64").toString()).toBe(readFileSync(join(dir, "a.yaml"), "utf8"))
        const v = await probed(["exec-env", "a.enc.env", 'echo "$USER/$PASSWORD"'], {})
        expect(Buffer.from(v.stdout, "base64").toString()).toBe("admin/p w\n")
        const s = await probed(["filestatus", "a.enc.yaml"], {})
        expect(Buffer.from(s.stdout, "base64").toString()).toBe('{"encrypted":true}\n')
    })
})
