// Campaign 2: SIGKILL at random moments. Each round copies a template, starts one
// of encrypt -i, set, rotate -i, updatekeys -y or `keys rotate`, kills it with
// SIGKILL, and checks what a crash (power cut, OOM killer, kill -9) leaves:
//
//   - every file is the complete old version (same bytes) or the complete new one
//     (decrypts with its MAC verified to the expected values); for encrypt -i the
//     old version is the plaintext, and anything else at that path must be a
//     complete encrypted file;
//   - no plaintext at the target of a command on an encrypted file, and no leftover
//     temp file holding a value (a leftover holding ciphertext is reported);
//   - the next command succeeds at once: a lock left by the dead process must not
//     block it (same host, dead pid); `keys rotate` must resume and finish;
//   - no hang, no stack trace, no internal error, no value on stderr.
//
// When to kill: half the rounds after a random delay in [0, typical duration of
// that command here], measured first; the other half on an observed event (the
// lock or the temp file appearing next to the target, or the k-th file event of a
// `keys rotate`), so that kills land inside the write itself and not only in
// Node's start-up.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, watch, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import {
    ageKeygen,
    campaignDir,
    cleanEnv,
    hasInternalError,
    hasStackTrace,
    hashSeed,
    inProcess,
    leakedCanary,
    makeRng,
    median,
    pool,
    runBin,
    tally,
} from "./common.mjs"

const FORMATS = ["yaml", "json"]
const SIZES = { small: 5, large: 500 }
export const COMMANDS = ["encrypt", "set", "rotate", "updatekeys", "keys-rotate"]
const NEW_KEY = "soak_new"

/** A plaintext document with `n` values, one of them the canary. */
function plaintext(format, n, canary) {
    const obj = { db: { password: canary, port: 5432 } }
    for (let i = 0; i < n - 2; i++) obj[`key_${i}`] = i % 3 === 0 ? i : `value-${i}-${canary.slice(-6)}`
    if (format === "json") return `${JSON.stringify(obj, null, "\t")}\n`
    return Object.entries(obj)
        .map(([k, v]) => (typeof v === "object" ? `${k}:\n    password: ${v.password}\n    port: ${v.port}` : `${k}: ${v}`))
        .join("\n")
        .concat("\n")
}

/** The fleet for `keys rotate alice`: named keys, three directories, eight files. */
const FLEET_FILES = {
    "secrets/shared/app.yaml": ["api", "region"],
    "secrets/shared/db.yaml": ["password"],
    "secrets/shared/cache.yaml": ["token"],
    "secrets/users/alice/token.yaml": ["github", "npm"],
    "secrets/users/alice/ssh.yaml": ["passphrase"],
    "secrets/users/alice/cloud.yaml": ["access", "secret"],
    "secrets/users/alice/more.yaml": ["one", "two", "three"],
    "secrets/users/bob/token.yaml": ["github"],
}

function fleetConfig(keys) {
    return [
        "keys:",
        `    - &user_alice ${keys.alice.recipient}`,
        `    - &user_bob ${keys.bob.recipient}`,
        `    - &recovery ${keys.recovery.recipient}`,
        "creation_rules:",
        "    - path_regex: ^secrets/users/alice/",
        "      key_groups:",
        "          - age: [*user_alice, *recovery]",
        "    - path_regex: ^secrets/users/bob/",
        "      key_groups:",
        "          - age: [*user_bob, *recovery]",
        "    - path_regex: ^secrets/shared/",
        "      key_groups:",
        "          - age: [*user_alice, *user_bob, *recovery]",
        "",
    ].join("\n")
}

/** Every file under `dir`, relative. */
function listFiles(dir) {
    const out = []
    const walk = (d) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = join(d, e.name)
            if (e.isDirectory()) walk(p)
            else out.push(relative(dir, p))
        }
    }
    if (existsSync(dir)) walk(dir)
    return out.sort()
}

/** Build the templates: single files per format and size, and the fleet. */
async function templates(base, build, canary, log, sizes) {
    const run = await inProcess(build)
    const keys = {}
    for (const n of ["a", "b", "alice", "bob", "recovery"]) keys[n] = ageKeygen(join(base, "keys"), n)
    const both = join(base, "keys", "a-and-b.txt")
    writeFileSync(both, keys.a.text + keys.b.text, { mode: 0o600 })
    const env = cleanEnv(base)

    const single = join(base, "tpl-single")
    mkdirSync(single)
    writeFileSync(join(single, ".sops.yaml"), `creation_rules:\n    - path_regex: .*\n      age: ${keys.a.recipient},${keys.b.recipient}\n`)
    const variants = []
    for (const format of FORMATS) {
        for (const [size, n] of Object.entries(SIZES).filter(([size]) => sizes.includes(size))) {
            const name = `${size}.${format}`
            const plain = plaintext(format, n, canary)
            writeFileSync(join(single, `plain-${name}`), plain)
            const enc = await run(["encrypt", "--age", keys.a.recipient, `plain-${name}`], { cwd: single, env })
            if (enc.code !== 0) throw new Error(`kills: encrypt ${name} failed: ${enc.stderr}`)
            writeFileSync(join(single, `enc-${name}`), enc.stdout)
            variants.push({ name, format })
        }
    }

    const fleet = join(base, "tpl-fleet")
    const repo = join(fleet, "repo")
    mkdirSync(repo, { recursive: true })
    writeFileSync(join(repo, ".sops.yaml"), fleetConfig(keys))
    for (const [file, names] of Object.entries(FLEET_FILES)) {
        mkdirSync(join(repo, file, ".."), { recursive: true })
        writeFileSync(join(repo, file), names.map((k, i) => `${k}: ${canary}-${i}-${file.replace(/\W/g, "")}\n`).join(""))
        const r = await run(["encrypt", "-i", file], { cwd: repo, env })
        if (r.code !== 0) throw new Error(`kills: fleet encrypt ${file} failed: ${r.stderr}`)
    }
    const home = join(fleet, "home")
    mkdirSync(join(home, ".config/sops/age"), { recursive: true })
    writeFileSync(join(home, ".config/sops/age/keys.txt"), keys.alice.text, { mode: 0o600 })
    log(`kills: templates ready (${variants.length} single-file variants, a fleet of ${Object.keys(FLEET_FILES).length} files)`)
    return { keys, both, single, fleet, variants, run }
}

export async function killsCampaign({ build, seed, seedHex, kills, jobs = 2, keep = false, only, measureRuns = 3, sizes = Object.keys(SIZES), log = () => {} }) {
    const start = performance.now()
    const base = campaignDir("kills", keep)
    const canary = `CANARY-${seedHex}`
    const t = await templates(base, build, canary, log, sizes)
    const { run } = t
    const rounds = join(base, "rounds")
    mkdirSync(rounds)

    // `keys rotate` asks for confirmation in newer versions; pass --yes when it exists.
    const help = await runBin(build, ["keys", "rotate", "--help"], { cwd: base, env: cleanEnv(base) })
    const yes = help.stdout.includes("--yes") ? ["--yes"] : []

    /** Decrypt to canonical JSON, in process. */
    const decryptJson = async (file, keyFile) => {
        const r = await run(["decrypt", "--output-type", "json", file], { cwd: base, env: cleanEnv(base, { SOPS_AGE_KEY_FILE: keyFile }) })
        if (r.code !== 0) return { ok: false, code: r.code, error: r.stderr.split("\n")[0] }
        return { ok: true, json: JSON.stringify(JSON.parse(r.stdout)) }
    }

    // ------------------------------------------------------------ one round's pieces

    const singleSpec = (cmd, variant) => {
        const target = `t.${variant.format}`
        const source = cmd === "encrypt" ? `plain-${variant.name}` : `enc-${variant.name}`
        const argv = {
            encrypt: ["encrypt", "-i", target],
            set: ["set", "--value-stdin", target, `["${NEW_KEY}"]`],
            rotate: ["rotate", "-i", target],
            updatekeys: ["updatekeys", "-y", target],
        }[cmd]
        const input = cmd === "set" ? `${JSON.stringify(`${canary}-set`)}\n` : undefined
        return { target, source, argv, input }
    }

    const prepare = (dir, cmd, variant) => {
        mkdirSync(dir, { recursive: true })
        if (cmd === "keys-rotate") {
            cpSync(t.fleet, dir, { recursive: true })
            mkdirSync(join(dir, "home/.state"), { recursive: true })
            return { cwd: join(dir, "repo"), env: cleanEnv(join(dir, "home")), argv: ["keys", "rotate", "alice", ...yes], input: undefined }
        }
        const s = singleSpec(cmd, variant)
        cpSync(join(t.single, ".sops.yaml"), join(dir, ".sops.yaml"))
        cpSync(join(t.single, s.source), join(dir, s.target))
        return { cwd: dir, env: cleanEnv(dir, { SOPS_AGE_KEY_FILE: t.both }), argv: s.argv, input: s.input, target: join(dir, s.target) }
    }

    /** The directories whose events a `keys rotate` makes (files, key file, state). */
    const watchedDirs = (dir, cmd) =>
        cmd === "keys-rotate"
            ? [
                  join(dir, "repo"),
                  ...[...new Set(Object.keys(FLEET_FILES).map((f) => join(dir, "repo", f, "..")))],
                  join(dir, "home/.config/sops/age"),
                  join(dir, "home/.state"),
              ]
            : [dir]

    // ------------------------------------------------------------ measure

    // Typical duration (spawn to exit) and file events of each command, and what a
    // complete run leaves: the "new version" the checks accept.
    const typical = {}
    for (const cmd of COMMANDS) {
        for (const variant of cmd === "keys-rotate" ? [{ name: "fleet" }] : t.variants) {
            const ms = []
            const events = []
            let newJson
            for (let k = 0; k < measureRuns; k++) {
                const dir = join(base, "measure", `${cmd}-${variant.name}-${k}`)
                const p = prepare(dir, cmd, variant)
                let n = 0
                const watchers = watchedDirs(dir, cmd).map((d) => watch(d, () => n++))
                const r = await runBin(build, p.argv, { cwd: p.cwd, env: p.env, input: p.input, timeoutMs: 120_000 })
                for (const w of watchers) w.close()
                if (r.code !== 0) throw new Error(`kills: ${cmd} (${variant.name}) fails without a kill: ${r.stderr}`)
                ms.push(r.ms)
                events.push(n)
                if (p.target !== undefined) newJson = (await decryptJson(p.target, t.both)).json
            }
            typical[`${cmd}/${variant.name}`] = { ms: median(ms), events: Math.max(1, median(events)), newJson }
        }
    }
    log(`kills: typical durations ${Object.entries(typical).map(([k, v]) => `${k} ${Math.round(v.ms)} ms`).join(", ")}`)

    // Expected contents of the single-file variants before a command.
    const oldJson = {}
    for (const v of t.variants) oldJson[v.name] = (await decryptJson(join(t.single, `enc-${v.name}`), t.both)).json
    const fleetJson = {}
    for (const f of Object.keys(FLEET_FILES)) fleetJson[f] = (await decryptJson(join(t.fleet, "repo", f), t.keys.recovery.file)).json

    // ------------------------------------------------------------ rounds

    const oneRound = async (i) => {
        const rng = makeRng(hashSeed(seed, "kill", i))
        const cmd = rng.pick(COMMANDS)
        const variant = cmd === "keys-rotate" ? { name: "fleet" } : rng.pick(t.variants)
        const mode = rng.chance(0.5) ? "timed" : "event"
        const ty = typical[`${cmd}/${variant.name}`]
        const dir = join(rounds, String(i))
        const p = prepare(dir, cmd, variant)
        const violations = []
        const notes = []
        const before = new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f))]))

        // Start, and kill at the chosen moment.
        let killAt = 0
        let pid = -1
        const watchers = []
        const r = await runBin(build, p.argv, {
            cwd: p.cwd,
            env: p.env,
            input: p.input,
            timeoutMs: 120_000,
            onSpawn: (child) => {
                pid = child.pid ?? -1
                const kill = () => {
                    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
                }
                if (mode === "timed") {
                    killAt = rng.next() * ty.ms
                    setTimeout(kill, killAt)
                    return
                }
                // On the k-th file event in the directories the command writes (lock
                // and temp file created, written, renamed, removed; for a rotation the
                // files, key file and state), k random up to the typical count.
                const k = rng.range(1, ty.events)
                const extra = rng.int(3)
                killAt = k
                let seen = 0
                for (const d of watchedDirs(dir, cmd)) {
                    watchers.push(
                        watch(d, () => {
                            if (++seen === k) {
                                if (extra === 0) kill()
                                else setTimeout(kill, extra)
                            }
                        }),
                    )
                }
            },
        })
        for (const w of watchers) w.close()
        const killed = r.signal === "SIGKILL" && !r.timedOut
        if (r.timedOut) violations.push("hang")
        if (!killed && r.code !== 0) violations.push(`failed without a kill: exit ${r.code}: ${r.stderr.split("\n")[0]}`)
        checkOutput(r, "killed run", violations)

        // What the kill left.
        const leftovers = leftoverFiles(dir, before)
        for (const f of leftovers.tmp) {
            const text = readFileSync(join(dir, f), "utf8")
            if (leakedCanary(text, [canary])) violations.push(`temp file with plaintext left: ${f}`)
            if (text.includes("AGE-SECRET-KEY-")) notes.push("tmp-with-identity")
            // A temp file of ciphertext gets the target's mode before the rename; only plaintext must stay 0600.
            if ((statSync(join(dir, f)).mode & 0o077) !== 0) notes.push("tmp-readable-by-others")
        }
        let outcome
        if (cmd === "keys-rotate") outcome = await checkFleetAfterKill(dir, before, violations)
        else outcome = await checkSingle(cmd, variant, p.target, before.get(relative(dir, p.target)), violations)

        // The next command must succeed at once, lock or no lock.
        const next = followUp(cmd, p, outcome)
        const f = await runBin(build, next.argv, { cwd: p.cwd, env: p.env, input: next.input, timeoutMs: 120_000 })
        if (f.timedOut) violations.push("next command hung")
        else if (f.code !== 0) violations.push(`next command failed: exit ${f.code}: ${f.stderr.split("\n")[0]}`)
        checkOutput(f, "next command", violations)
        if (!f.timedOut && f.code === 0) {
            if (cmd === "keys-rotate") await checkFleetDone(dir, before, violations, notes)
            else await checkSingleDone(cmd, variant, p.target, violations)
        }
        // The next command's own lock must be gone. The dead one's lock may still be
        // there if the next command needed no lock (nothing left to do): then one more
        // command that does lock (a set) must take it over at once and leave none.
        // The dead one's temp files stay: nobody can tell them from a live writer's.
        const after = leftoverFiles(dir, before).lock
        if (after.length > 0 && !f.timedOut && f.code === 0) {
            const holders = after.map((l) => Number(/"pid"\s*:\s*(\d+)/.exec(readFileSync(join(dir, l), "utf8"))?.[1] ?? -1))
            if (holders.some((h) => h !== pid)) violations.push(`lock of a finished command left: ${after.join(", ")}`)
            else {
                notes.push("dead-lock-outlived-next")
                const locked = join(dir, after[0].replace(/\.lock$/, ""))
                const env = cmd === "keys-rotate" ? { ...p.env, SOPS_AGE_KEY_FILE: t.keys.recovery.file } : p.env
                const s = await runBin(build, ["set", "--value-stdin", locked, '["soak_after"]'], { cwd: p.cwd, env, input: "1\n", timeoutMs: 120_000 })
                if (s.timedOut) violations.push("set after a dead lock hung")
                else if (s.code !== 0) violations.push(`set after a dead lock failed: exit ${s.code}: ${s.stderr.split("\n")[0]}`)
                checkOutput(s, "set after a dead lock", violations)
                const still = leftoverFiles(dir, before).lock
                if (still.length > 0) violations.push(`lock left after a set: ${still.join(", ")}`)
            }
        }
        return {
            i,
            cmd,
            variant: variant.name,
            mode,
            killAt: Math.round(killAt),
            killed,
            outcome,
            lockLeft: leftovers.lock.length > 0,
            tmpLeft: leftovers.tmp.length,
            notes,
            violations,
        }
    }

    const checkOutput = (r, what, violations) => {
        if (hasStackTrace(r.stderr + r.stdout)) violations.push(`stack trace from the ${what}`)
        if (hasInternalError(r.stderr)) violations.push(`internal error from the ${what}`)
        if (leakedCanary(r.stderr, [canary])) violations.push(`value on stderr of the ${what}`)
    }

    const leftoverFiles = (dir, before) => {
        const now = listFiles(dir).filter((f) => !before.has(f))
        return {
            tmp: now.filter((f) => /(^|\/)\.[^/]*\.tmp$/.test(f)),
            lock: now.filter((f) => f.endsWith(".lock")),
            other: now.filter((f) => !f.endsWith(".lock") && !/(^|\/)\.[^/]*\.tmp$/.test(f)),
        }
    }

    const checkSingle = async (cmd, variant, target, old, violations) => {
        if (!existsSync(target)) {
            violations.push("target file missing")
            return "missing"
        }
        const now = readFileSync(target)
        if (now.equals(old)) return "unchanged"
        if (cmd !== "encrypt" && leakedCanary(now.toString("utf8"), [canary])) violations.push("plaintext at the target")
        const d = await decryptJson(target, t.both)
        const ty = typical[`${cmd}/${variant.name}`]
        if (!d.ok) violations.push(`torn file: decrypt exits ${d.code}: ${d.error}`)
        else if (d.json !== ty.newJson && d.json !== oldJson[variant.name]) violations.push("file decrypts to neither the old nor the new values")
        return "new"
    }

    const checkSingleDone = async (cmd, variant, target, violations) => {
        const d = await decryptJson(target, t.both)
        if (!d.ok) violations.push(`after the next command: decrypt exits ${d.code}: ${d.error}`)
        else if (d.json !== typical[`${cmd}/${variant.name}`].newJson) violations.push("after the next command: unexpected values")
        if (cmd === "updatekeys" && !readFileSync(target, "utf8").includes(t.keys.b.recipient)) violations.push("after updatekeys: recipient b missing")
    }

    const followUp = (cmd, p, outcome) => {
        if (cmd === "encrypt" && outcome !== "unchanged") return { argv: ["rotate", "-i", p.argv[2]], input: undefined }
        return { argv: p.argv, input: p.input }
    }

    const keyFileOf = (dir) => join(dir, "home/.config/sops/age/keys.txt")

    const checkFleetAfterKill = async (dir, before, violations) => {
        let changed = 0
        for (const f of Object.keys(FLEET_FILES)) {
            const abs = join(dir, "repo", f)
            if (!existsSync(abs)) {
                violations.push(`${f} missing`)
                continue
            }
            const now = readFileSync(abs)
            if (now.equals(before.get(`repo/${f}`))) continue
            changed++
            if (leakedCanary(now.toString("utf8"), [canary])) violations.push(`plaintext in ${f}`)
            const d = await decryptJson(abs, t.keys.recovery.file)
            if (!d.ok) violations.push(`torn ${f}: decrypt exits ${d.code}: ${d.error}`)
            else if (d.json !== fleetJson[f]) violations.push(`${f} decrypts to other values`)
        }
        // Never locked out: the user's key file opens every file meant for them, at every moment.
        for (const f of Object.keys(FLEET_FILES).filter((x) => !x.includes("/bob/"))) {
            const d = await decryptJson(join(dir, "repo", f), keyFileOf(dir))
            if (!d.ok) violations.push(`the key file does not open ${f} after the kill: exit ${d.code}`)
        }
        return changed === 0 ? "unchanged" : "new"
    }

    const checkFleetDone = async (dir, before, violations, notes) => {
        const keyText = readFileSync(keyFileOf(dir), "utf8")
        for (const f of Object.keys(FLEET_FILES)) {
            const abs = join(dir, "repo", f)
            const bob = f.includes("/bob/")
            if (bob) {
                if (!readFileSync(abs).equals(before.get(`repo/${f}`))) violations.push(`${f} (not alice's) was rewritten`)
                continue
            }
            const d = await decryptJson(abs, keyFileOf(dir))
            if (!d.ok || d.json !== fleetJson[f]) violations.push(`after the rotation the new key does not open ${f}`)
            const old = await decryptJson(abs, t.keys.alice.file)
            if (old.ok) violations.push(`after the rotation the old key still opens ${f}`)
        }
        if (readFileSync(join(dir, "repo/.sops.yaml"), "utf8").includes(t.keys.alice.recipient)) violations.push(".sops.yaml still names the old key")
        // The old identity may stay only retired (under a `# retired:` marker), where it
        // still opens old git revisions but is no longer the user's key.
        const oldAt = keyText.indexOf(t.keys.alice.identity)
        if (oldAt >= 0 && !/^#\s*retired:/m.test(keyText.slice(0, oldAt))) violations.push("the old identity is still active in the key file")
        const ids = (keyText.match(/^AGE-SECRET-KEY-1/gm) ?? []).length
        if (ids !== 1) notes.push(`key-file-identities-${ids}`)
        const state = [...listFiles(join(dir, "home/.state")), ...listFiles(join(dir, "repo/.secrets"))]
        if (state.some((f) => !f.endsWith(".tmp"))) violations.push(`rotation state left: ${state.join(", ")}`)
    }

    let done = 0
    let bad = 0
    const indices = only === undefined ? Array.from({ length: kills }, (_, i) => i) : [only]
    const results = await pool(indices.length, jobs, async (j) => {
        const i = indices[j]
        const res = await oneRound(i)
        done++
        if (res.violations.length > 0) bad++
        if (res.violations.length > 0) log(`kills: round ${i} (${res.cmd} ${res.variant}, ${res.mode} ${res.killAt}): ${res.violations.join("; ")}`)
        if (done % 50 === 0 || done === indices.length) log(`kills: ${done} of ${kills} rounds, ${bad} with a violation, ${Math.round((performance.now() - start) / 1000)} s`)
        return res
    })

    const violating = results.filter((r) => r.violations.length > 0)
    const kinds = (re) => results.filter((r) => r.violations.some((v) => re.test(v))).length
    return {
        rounds: indices.length,
        killed: results.filter((r) => r.killed).length,
        finishedBeforeKill: results.filter((r) => !r.killed).length,
        byCommand: tally(results.map((r) => r.cmd)),
        byOutcome: tally(results.map((r) => `${r.killed ? "killed" : "finished"}, file ${r.outcome}`)),
        lockLeftByKill: results.filter((r) => r.lockLeft).length,
        tmpLeftByKill: results.filter((r) => r.tmpLeft > 0).length,
        tmpWithIdentity: results.filter((r) => r.notes.includes("tmp-with-identity")).length,
        deadLockOutlivedNext: results.filter((r) => r.notes.includes("dead-lock-outlived-next")).length,
        tmpReadableByOthers: results.filter((r) => r.notes.includes("tmp-readable-by-others")).length,
        keyFileNotes: tally(results.flatMap((r) => r.notes.filter((n) => n.startsWith("key-file")))),
        typicalMs: Object.fromEntries(Object.entries(typical).map(([k, v]) => [k, Math.round(v.ms)])),
        tornOrLost: kinds(/torn|missing|neither|other values|unexpected values|recipient b missing|does not open|still opens|still names|rewritten/),
        plaintext: kinds(/plaintext/),
        nextCommandFailed: kinds(/next command failed|lock left after|lock of a finished|after a dead lock/),
        hangs: kinds(/hang/),
        stackTraces: kinds(/stack trace/),
        internalErrors: kinds(/internal error/),
        valuesOnStderr: kinds(/value on stderr/),
        violatingRounds: violating.length,
        violations: violating.map((r) => ({ round: r.i, cmd: r.cmd, variant: r.variant, mode: r.mode, killAt: r.killAt, violations: r.violations })),
        seconds: (performance.now() - start) / 1000,
    }
}
