// Campaign 3: mutated inputs through every command. Real inputs (the sops-written
// interop vectors, files we encrypt, .sops.yaml files, plaintext YAML/JSON/dotenv/
// INI) are damaged by scripts/soak/mutate.mjs and run through decrypt, encrypt,
// filestatus, set, unset, updatekeys, rotate, edit (EDITOR=true), exec-env, status
// and access. Every run must end with a documented exit code (src/errors.ts), one
// clear line, no "internal error", no stack trace, no value on stderr, no hang, and
// a failing command must leave the file as it was and nothing beside it.
//
// Most runs call main() in worker threads (in process: ~100 times faster than a
// Node start-up); every `binaryEvery`-th case also runs through the built binary,
// which is where exit statuses, signals and uncaught exceptions really show, and
// its exit code must equal the in-process one.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { extname, join } from "node:path"
import { Worker } from "node:worker_threads"
import { parse as parseYaml } from "yaml"
import {
    ROOT,
    ageKeygen,
    campaignDir,
    cleanEnv,
    documentedCodes,
    hasInternalError,
    hasStackTrace,
    hashSeed,
    inProcess,
    leakedCanary,
    makeRng,
    pool,
    runBin,
    tally,
} from "./common.mjs"
import { mutate, mutatePath, mutateValue } from "./mutate.mjs"

const TIMEOUT_MS = 60_000
const INTEROP = join(ROOT, "test/fixtures/interop")

/** Commands whose stdout never carries a value, whatever the exit code. */
const QUIET = new Set(["filestatus", "status", "access", "updatekeys", "rotate", "set", "unset", "edit", "encrypt-i", "exec-env", "encrypt-again"])
/** Commands that write their file in place: a failure must leave it as it was. */
const WRITES = new Set(["set", "unset", "updatekeys", "rotate", "edit", "encrypt-i", "encrypt-again"])

/** String leaves of a parsed document, at least 8 characters: the values to watch for. */
function stringLeaves(v, out = []) {
    if (typeof v === "string") {
        if (v.length >= 8) out.push(v)
    } else if (Array.isArray(v)) for (const x of v) stringLeaves(x, out)
    else if (v !== null && typeof v === "object") for (const x of Object.values(v)) stringLeaves(x, out)
    return out
}

/** Every file of the interop vectors that is a sops file or a plaintext document. */
function interopFiles() {
    const out = []
    const walk = (d) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = join(d, e.name)
            if (e.isDirectory()) {
                if (e.name !== "age-keysource-test" && e.name !== "_derived") walk(p)
            } else if (/\.(ya?ml|json|env|ini)$/.test(e.name)) out.push(p)
        }
    }
    walk(INTEROP)
    return out.sort()
}

/** All age identities of the interop vectors, and ours: one key file that opens every seed. */
function interopIdentities() {
    const lines = new Set()
    for (const f of readdirSync(INTEROP, { recursive: true })) {
        if (!/keys?\.txt$|key-file\.txt$/.test(String(f))) continue
        for (const l of readFileSync(join(INTEROP, String(f)), "utf8").split("\n")) if (l.startsWith("AGE-SECRET-KEY-1")) lines.add(l.trim())
    }
    return [...lines]
}

async function seeds(base, build, canary, log) {
    const run = await inProcess(build)
    const key = ageKeygen(join(base, "keys"), "me")
    const keyFile = join(base, "keys", "all.txt")
    writeFileSync(keyFile, [key.identity, ...interopIdentities()].join("\n") + "\n", { mode: 0o600 })
    const env = cleanEnv(base, { SOPS_AGE_KEY_FILE: keyFile })
    const work = join(base, "seed-work")
    mkdirSync(work)

    const plain = {
        yaml: `# settings\ndb:\n    user: admin\n    password: ${canary}-y1\n    port: 5432\nlist:\n    - ${canary}-y2\n    - true\nnote_unencrypted: clear\n`,
        json: `{\n\t"db": {\n\t\t"password": "${canary}-j1",\n\t\t"port": 5432,\n\t\t"ratio": 0.25\n\t},\n\t"list": ["${canary}-j2", null, false]\n}\n`,
        env: `# env\nDB_PASSWORD=${canary}-e1\nPORT=5432\nTOKEN="${canary}-e2"\n`,
        ini: `[db]\npassword = ${canary}-i1\nport = 5432\n\n[api]\ntoken = ${canary}-i2\n`,
        txt: `${canary}-t1 binary-ish content\n`,
    }
    const list = []
    for (const [ext, text] of Object.entries(plain)) {
        writeFileSync(join(work, `p.${ext}`), text)
        const r = await run(["encrypt", "--age", key.recipient, `p.${ext}`], { cwd: work, env })
        if (r.code !== 0) throw new Error(`mutations: encrypt p.${ext} failed: ${r.stderr}`)
        list.push({ kind: "encrypted", name: `ours.${ext}`, ext, bytes: Buffer.from(r.stdout), canaries: [canary] })
        if (ext !== "txt") list.push({ kind: "plaintext", name: `ours-plain.${ext}`, ext, bytes: Buffer.from(text), canaries: [canary] })
    }
    for (const file of interopFiles()) {
        const bytes = readFileSync(file)
        const text = bytes.toString("utf8")
        const ext = extname(file).slice(1).replace("yml", "yaml")
        const name = `interop:${file.slice(INTEROP.length + 1)}`
        if (text.includes("ENC[AES256_GCM")) {
            writeFileSync(join(work, `v.${ext}`), bytes)
            const d = await run(["decrypt", "--output-type", "json", `v.${ext}`], { cwd: work, env })
            const canaries = d.code === 0 ? stringLeaves(JSON.parse(d.stdout)).filter((v) => !text.includes(v)) : []
            list.push({ kind: "encrypted", name, ext, bytes, canaries })
        } else if (ext === "yaml" || ext === "json") {
            let canaries = []
            try {
                const doc = parseYaml(text)
                const keys = new Set(text.match(/[\w-]+(?=:)/g) ?? [])
                canaries = stringLeaves(doc).filter((v) => !keys.has(v))
            } catch {
                // An unparsable vector still makes a fine seed; it just has no canaries.
            }
            list.push({ kind: "plaintext", name, ext, bytes, canaries })
        }
    }
    const configs = [
        `creation_rules:\n    - path_regex: .*\n      age: ${key.recipient}\n`,
        [
            "keys:",
            `    - &me ${key.recipient}`,
            "creation_rules:",
            "    - path_regex: \\.env$",
            "      encrypted_regex: ^(DB_PASSWORD|TOKEN)$",
            "      age: *me",
            "    - path_regex: ^(plain|enc|new)\\.yaml$",
            "      key_groups:",
            "          - age: [*me]",
            "      shamir_threshold: 1",
            "      unencrypted_suffix: _clear",
            "    - age: *me",
            "secrets:",
            "    rotation:",
            "        max_age: 90d",
            "",
        ].join("\n"),
    ]
    for (const [i, c] of configs.entries()) list.push({ kind: "config", name: `config-${i}`, ext: "yaml", bytes: Buffer.from(c), canaries: [canary] })
    const yamlEnc = list.find((s) => s.name === "ours.yaml")
    log(`mutations: ${list.length} seed inputs (${Object.entries(tally(list.map((s) => s.kind))).map(([k, n]) => `${n} ${k}`).join(", ")})`)
    return { list, key, keyFile, configs, plainYaml: plain.yaml, encYaml: yamlEnc.bytes }
}

/** What to run for a case: the files to lay down, the argv, stdin, and which file it writes. */
function caseSpec(rng, s, canary) {
    const seed = s.kind === "args" ? null : rng.pick(s.list.filter((x) => x.kind === s.kind))
    const files = { ".sops.yaml": Buffer.from(s.configs[0]) }
    let mutated = []
    let argv
    let input
    let target
    let command
    let canaries = [canary]
    if (s.kind === "encrypted" || s.kind === "plaintext") {
        const m = mutate(seed.bytes, rng)
        mutated = m.applied
        const f = `in.${seed.ext}`
        files[f] = m.bytes
        canaries = seed.canaries
        target = f
        const path = rng.pick(['["db"]["password"]', '["list"][0]', '["db"]', '["new"]', '["DB_PASSWORD"]', '["data"]'])
        const choices =
            s.kind === "encrypted"
                ? {
                      decrypt: ["decrypt", f],
                      extract: ["decrypt", "--extract", path, f],
                      filestatus: ["filestatus", f],
                      set: ["set", "--value-stdin", f, path],
                      unset: ["unset", f, path],
                      updatekeys: ["updatekeys", "-y", f],
                      rotate: ["rotate", "-i", f],
                      edit: ["edit", f],
                      "exec-env": ["exec-env", f, "true"],
                      status: ["status"],
                      "encrypt-again": ["encrypt", "-i", f],
                  }
                : {
                      encrypt: ["encrypt", "--age", s.key.recipient, f],
                      "encrypt-i": ["encrypt", "-i", f],
                      filestatus: ["filestatus", f],
                      decrypt: ["decrypt", f],
                      set: ["set", "--value-stdin", f, path],
                      edit: ["edit", f],
                      status: ["status"],
                  }
        command = rng.pick(Object.keys(choices))
        argv = choices[command]
        if (command === "set") input = mutateValue(rng, `${canary}-v`)
    } else if (s.kind === "config") {
        const m = mutate(Buffer.from(rng.pick(s.configs)), rng)
        mutated = m.applied
        files[".sops.yaml"] = m.bytes
        files["plain.yaml"] = Buffer.from(s.plainYaml)
        files["enc.yaml"] = s.encYaml
        const choices = {
            "encrypt-i": ["encrypt", "-i", "plain.yaml"],
            encrypt: ["encrypt", "plain.yaml"],
            updatekeys: ["updatekeys", "-y", "enc.yaml"],
            rotate: ["rotate", "-i", "enc.yaml"],
            status: ["status"],
            access: ["access"],
            edit: ["edit", "new.yaml"],
            decrypt: ["decrypt", "enc.yaml"],
        }
        command = rng.pick(Object.keys(choices))
        argv = choices[command]
        target = command === "encrypt-i" ? "plain.yaml" : command === "updatekeys" || command === "rotate" ? "enc.yaml" : undefined
    } else {
        // Mutated arguments on a good file: tree paths and JSON values.
        files["enc.yaml"] = s.encYaml
        target = "enc.yaml"
        const path = mutatePath(rng)
        const value = mutateValue(rng, `${canary}-v`)
        const which = rng.int(4)
        command = ["set", "set", "unset", "extract"][which]
        argv = which === 0 ? ["set", "enc.yaml", path, value] : which === 1 ? ["set", "--value-stdin", "enc.yaml", path] : which === 2 ? ["unset", "enc.yaml", path] : ["decrypt", "--extract", path, "enc.yaml"]
        if (which === 1) input = value
        mutated = ["args"]
    }
    return { seed: seed?.name ?? "args", mutated, files, argv, input, target, command, canaries }
}

/** Worker threads running main(); a hung one is terminated, a dead one replaced. */
class WorkerPool {
    constructor(mainUrl, size) {
        this.mainUrl = mainUrl
        this.idle = []
        this.waiting = []
        this.nextId = 0
        for (let i = 0; i < size; i++) this.idle.push(this.spawn())
    }
    spawn() {
        // A stack about as deep as the main thread's (the binary's), so deep nesting fails alike.
        const w = new Worker(new URL("./mutation-worker.mjs", import.meta.url), { workerData: { mainUrl: this.mainUrl }, resourceLimits: { stackSizeMb: 1, maxOldGenerationSizeMb: 2048 }, stdout: true, stderr: true })
        w.ready = new Promise((resolve) => w.once("message", resolve))
        // Output written to process.stdout directly (not through Io) would be a bug too: keep it.
        w.stray = []
        w.stdout.on("data", (d) => w.stray.push(d))
        w.stderr.on("data", (d) => w.stray.push(d))
        return w
    }
    async acquire() {
        if (this.idle.length > 0) return this.idle.pop()
        return new Promise((resolve) => this.waiting.push(resolve))
    }
    release(w) {
        const next = this.waiting.shift()
        if (next) next(w)
        else this.idle.push(w)
    }
    async run(task) {
        let w = await this.acquire()
        await w.ready
        const id = this.nextId++
        w.stray = []
        const result = await new Promise((resolve) => {
            const timer = setTimeout(() => finish({ hung: true }), TIMEOUT_MS)
            const onMessage = (m) => m.id === id && finish(m)
            const onError = (e) => finish({ crashed: `${e?.name ?? "error"}: ${String(e?.message ?? e).split("\n")[0].slice(0, 120)}` })
            const onExit = (c) => finish({ crashed: `worker exited ${c}` })
            function finish(r) {
                clearTimeout(timer)
                w.off("message", onMessage)
                w.off("error", onError)
                w.off("exit", onExit)
                resolve(r)
            }
            w.on("message", onMessage)
            w.on("error", onError)
            w.on("exit", onExit)
            w.postMessage({ id, ...task })
        })
        const stray = Buffer.concat(w.stray).toString("utf8")
        if (result.hung || result.crashed) {
            await w.terminate().catch(() => undefined)
            w = this.spawn()
        }
        this.release(w)
        return { ...result, stray }
    }
    async close() {
        for (const w of this.idle) await w.terminate()
    }
}

/** Lay a case's files down in `dir`. */
function layDown(dir, spec) {
    mkdirSync(dir, { recursive: true })
    for (const [name, bytes] of Object.entries(spec.files)) writeFileSync(join(dir, name), bytes)
}

/** Check one run of a case; returns the violations found. */
function check(spec, dir, r, codes) {
    const v = []
    if (r.hung) return ["hang"]
    if (r.crashed) return [`crash (uncaught): ${r.crashed}`]
    if (r.thrown) v.push(`main() threw ${r.thrown}`)
    if (r.stray) v.push(`output outside Io: ${JSON.stringify(r.stray.slice(0, 160))}`)
    if (!codes.has(r.code)) v.push(`undocumented exit code ${r.code}`)
    if (hasInternalError(r.stderr)) v.push("internal error")
    if (hasStackTrace(r.stderr) || hasStackTrace(r.stdout) || hasStackTrace(r.stray ?? "")) v.push("stack trace")
    const text = spec.target !== undefined ? spec.files[spec.target]?.toString("utf8") ?? "" : ""
    // A canary that the mutation turned into a key (`CANARY…:` or `"CANARY…":`) may be named: keys are not secret.
    const asKey = (c) => new RegExp(`${c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"?\\s*[:=\\]]`).test(text + (spec.input ?? "") + spec.argv.join(" "))
    const canaries = spec.canaries.filter((c) => !asKey(c))
    const leak = leakedCanary(r.stderr, canaries)
    if (leak !== undefined) v.push("value on stderr")
    if ((r.code !== 0 || QUIET.has(spec.command)) && leakedCanary(r.stdout, canaries) !== undefined) v.push("value on stdout")
    if (r.code !== 0 && WRITES.has(spec.command) && spec.target !== undefined) {
        let now
        try {
            now = readFileSync(join(dir, spec.target))
        } catch {
            now = undefined
        }
        if (now === undefined || !now.equals(spec.files[spec.target])) v.push("failing command changed its file")
    }
    const left = readdirSync(dir).filter((f) => /\.tmp$|\.lock$|\.lock\.break$/.test(f))
    if (left.length > 0) v.push(`left ${left.join(", ")}`)
    return v
}

export async function mutationsCampaign({ build, seed, seedHex, mutations, binaryEvery = 10, jobs = 2, keep = false, only, log = () => {} }) {
    const start = performance.now()
    const base = campaignDir("mutations", keep)
    const canary = `CANARY-${seedHex}`
    const s = await seeds(base, build, canary, log)
    const codes = await documentedCodes(build)
    const workers = new WorkerPool(build.url("main.js"), jobs)
    const kinds = ["encrypted", "encrypted", "encrypted", "plaintext", "plaintext", "config", "args"]
    const bad = []
    const codeTally = []
    const commandTally = []
    const byCategory = []
    const mismatches = []
    let inProcessRuns = 0
    let binaryRuns = 0
    let done = 0
    const cases = only === undefined ? Array.from({ length: mutations }, (_, i) => i) : [only]
    await pool(cases.length, jobs, async (j) => {
        const i = cases[j]
        const rng = makeRng(hashSeed(seed, "mutation", i))
        const kind = rng.pick(kinds)
        const spec = caseSpec(rng, { ...s, kind }, canary)
        const dir = join(base, "cases", String(i))
        layDown(dir, spec)
        const env = cleanEnv(dir, { SOPS_AGE_KEY_FILE: s.keyFile, EDITOR: "true" })
        const r = await workers.run({ argv: spec.argv, cwd: dir, env, input: spec.input })
        inProcessRuns++
        const violations = check(spec, dir, r, codes).map((x) => `in process: ${x}`)
        codeTally.push(r.hung ? "hang" : r.crashed ? "crash" : String(r.code))
        commandTally.push(`${kind}/${spec.command}`)
        // An argument holding NUL cannot reach a program at all (execve), only main().
        if (i % binaryEvery === 0 && !spec.argv.some((a) => a.includes("\u0000"))) {
            const bdir = join(base, "cases", `${i}-bin`)
            layDown(bdir, spec)
            const b = await runBin(build, spec.argv, { cwd: bdir, env: { ...env, HOME: bdir, XDG_CONFIG_HOME: join(bdir, ".config"), XDG_STATE_HOME: join(bdir, ".state") }, input: spec.input, timeoutMs: TIMEOUT_MS })
            binaryRuns++
            const br = { code: b.signal !== null ? `signal ${b.signal}` : b.code, hung: b.timedOut, stdout: b.stdout, stderr: b.stderr }
            violations.push(...check(spec, bdir, br, codes).map((x) => `binary: ${x}`))
            if (!b.timedOut && !r.hung && !r.crashed && br.code !== r.code) mismatches.push({ case: i, inProcess: r.code, binary: br.code })
            if (!keep) rmSync(bdir, { recursive: true, force: true })
        }
        for (const x of violations) byCategory.push(x.replace(/^(in process|binary): /, "").replace(/: .*$/, "").replace(/^left .*/, "left files"))
        if (violations.length > 0) {
            bad.push({ case: i, kind, seed: spec.seed, mutated: spec.mutated, argv: spec.argv.map((a) => (a.length > 80 ? `${a.slice(0, 60)}…(${a.length})` : a)), code: r.code ?? (r.hung ? "hang" : "crash"), violations, stderr: (r.stderr ?? "").slice(0, 300) })
            log(`mutations: case ${i} (${kind}/${spec.command}, ${spec.seed}, ${spec.mutated.join("+")}): ${violations.join("; ")}`)
            // To replay by hand: the argv and stdin beside the case's directory.
            if (keep) writeFileSync(`${dir}.json`, `${JSON.stringify({ argv: spec.argv, stdin: spec.input ?? null, mutated: spec.mutated, seed: spec.seed }, null, 2)}\n`)
        } else if (!keep) rmSync(dir, { recursive: true, force: true })
        done++
        if (done % 500 === 0 || done === cases.length) log(`mutations: ${done} of ${cases.length} cases, ${bad.length} with a violation, ${Math.round((performance.now() - start) / 1000)} s`)
    })
    await workers.close()
    const count = (re) => byCategory.filter((c) => re.test(c)).length
    return {
        cases: cases.length,
        inProcessRuns,
        binaryRuns,
        byCommand: tally(commandTally),
        exitCodes: tally(codeTally),
        undocumentedExitCodes: count(/undocumented exit code/),
        internalErrors: count(/internal error|main\(\) threw/),
        stackTraces: count(/stack trace|crash|output outside Io/),
        hangs: count(/hang/),
        valuesOnOutput: count(/value on/),
        changedOnFailure: count(/changed its file/),
        leftFiles: count(/left files/),
        binaryMismatches: mismatches,
        violatingCases: bad,
        seconds: (performance.now() - start) / 1000,
    }
}
