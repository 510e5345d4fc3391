// Issue 14 target 4: the small-file writes, `encrypt`, `updatekeys` and `rotate`,
// each within 1.2× a `decrypt` of the same small file.
//
// A directory of its own with a `.sops.yaml` (one rule, two X25519 recipients: the
// bench's key and a second one), so that every write reads and validates the
// config as it does in a repository. `updatekeys` needs a file whose recipients
// differ from its rule's: a copy encrypted to the bench key alone is put back
// before each run (not timed). `rotate -i` rewrites its file in place, which any
// number of runs can do. All four commands are interleaved run by run, so a busy
// machine slows them alike; ratios are of medians. Peak RSS: `/usr/bin/time -v`
// around one more run of each.
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const SMALL = "db:\n    user: admin\n    password: hunter2\n    port: 5432\napi_key: abc123\n"

export default async function writesBench(ctx) {
    const dir = join(ctx.dir, "writes")
    mkdirSync(dir, { recursive: true })
    const second = join(dir, "second.txt")
    execFileSync("age-keygen", ["-o", second], { stdio: "ignore" })
    const secondRecipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(second, "utf8"))?.[1]
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n    - path_regex: \\.yaml$\n      age: ${ctx.recipient},${secondRecipient}\n`)
    writeFileSync(join(dir, "small.yaml"), SMALL)

    const run = (args, { timeV = false, env = {} } = {}) => {
        const argv = [ctx.node, ctx.BIN, ...args]
        const [cmd, ...rest] = timeV ? ["/usr/bin/time", "-v", ...argv] : argv
        const t = process.hrtime.bigint()
        const r = spawnSync(cmd, rest, { cwd: dir, env: { ...ctx.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
        const ms = Number(process.hrtime.bigint() - t) / 1e6
        if (r.status !== 0) throw new Error(`bench: secrets ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
        return { ms, stdout: r.stdout, rssKiB: Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr.toString())?.[1] ?? NaN) }
    }
    writeFileSync(join(dir, "small.enc.yaml"), run(["encrypt", "small.yaml"]).stdout)
    writeFileSync(join(dir, "rotate.enc.yaml"), readFileSync(join(dir, "small.enc.yaml")))
    writeFileSync(join(dir, "one.enc.yaml"), run(["encrypt", "--age", ctx.recipient, "small.yaml"]).stdout)
    if (run(["decrypt", "small.enc.yaml"]).stdout.toString() !== SMALL) throw new Error("bench: writes/small.enc.yaml does not round-trip")

    const cases = {
        decrypt: { args: ["decrypt", "small.enc.yaml"] },
        // The writes run the full program; decrypt has a fast path without commander (src/cli/hot/).
        decryptFull: { args: ["decrypt", "small.enc.yaml"], env: { SECRETS_FAST_PATH: "0" } },
        encrypt: { args: ["encrypt", "small.yaml"] },
        updatekeys: { args: ["updatekeys", "-y", "keys.enc.yaml"], before: () => copyFileSync(join(dir, "one.enc.yaml"), join(dir, "keys.enc.yaml")) },
        rotate: { args: ["rotate", "-i", "rotate.enc.yaml"] },
    }
    const names = Object.keys(cases)
    const times = Object.fromEntries(names.map((n) => [n, []]))
    const runs = ctx.RUNS
    for (let i = 0; i < runs + 2; i++) {
        // Rotate the order each round: no command always runs right after the same one.
        for (let k = 0; k < names.length; k++) {
            const name = names[(i + k) % names.length]
            cases[name].before?.()
            const { ms } = run(cases[name].args, { env: cases[name].env })
            if (i >= 2) times[name].push(ms)
        }
    }
    const rss = {}
    for (const name of names) {
        cases[name].before?.()
        rss[name] = existsSync("/usr/bin/time") ? run(cases[name].args, { timeV: true, env: cases[name].env }).rssKiB : NaN
    }
    const mib = (kib) => (Number.isNaN(kib) ? "?" : `${(kib / 1024).toFixed(0)} MiB`)
    const decrypt = ctx.stats(times.decrypt)
    for (const [name, label] of [["encrypt", "secrets encrypt small.yaml (rule from .sops.yaml)"], ["updatekeys", "secrets updatekeys -y (adds a recipient)"], ["rotate", "secrets rotate -i small.enc.yaml"]]) {
        ctx.row(`4. ${label}  vs  decrypt`, { ours: ctx.stats(times[name]), base: decrypt }, 1.2, `peak RSS ${mib(rss[name])} vs ${mib(rss.decrypt)}`)
    }
    ctx.row("   decrypt, full program (SECRETS_FAST_PATH=0)  vs  decrypt", { ours: ctx.stats(times.decryptFull), base: decrypt }, undefined, "for information: what the writes start from")
}
