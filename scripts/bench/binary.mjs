// Issue 14, target 1: binary files of 1, 16 and 100 MiB. `secrets encrypt` and
// `secrets decrypt` against Debian `age -e` / `age -d` of the same file, interleaved
// (process start-up included on both sides), with each side's peak RSS from
// `/usr/bin/time -f %M`, and the cipher alone in this process (MiB/s).
import { spawnSync, execFileSync } from "node:child_process"
import { randomBytes, createHash } from "node:crypto"
import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs"
import { join } from "node:path"

const MiB = 1024 * 1024

/** Peak RSS in MiB of one run of argv (stdout discarded), or NaN without /usr/bin/time. */
function peakRss(ctx, argv) {
    if (!existsSync("/usr/bin/time")) return NaN
    const r = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { cwd: ctx.dir, env: ctx.env, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 20 })
    if (r.status !== 0) throw new Error(`bench: ${argv.join(" ")} exited ${r.status}: ${r.stderr.toString().slice(-400)}`)
    const kib = Number(r.stderr.toString().trim().split("\n").pop())
    return kib / 1024
}

export default async function binary(ctx) {
    const { node, BIN, dir, recipient, keyFile } = ctx
    // BENCH_BINARY_SIZES=1,16 leaves out 100 MiB (which a build before issue 14 cannot do).
    const sizes = (process.env.BENCH_BINARY_SIZES ?? "1,16,100").split(",").map(Number)
    for (const mib of sizes) {
        const name = `bin${mib}`
        const plain = join(dir, `${name}.bin`)
        const fd = openSync(plain, "w")
        for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(MiB))
        closeSync(fd)
        execFileSync(node, [BIN, "encrypt", "--age", recipient, "--output", `${name}.enc`, `${name}.bin`], { cwd: dir, env: ctx.env })
        execFileSync("age", ["-e", "-r", recipient, "-o", join(dir, `${name}.age`), plain])
        // The timings mean nothing unless the file comes back whole.
        const back = execFileSync(node, [BIN, "decrypt", `${name}.enc`], { cwd: dir, env: ctx.env, maxBuffer: 2 * mib * MiB })
        const hash = (b) => createHash("sha256").update(b).digest("hex")
        if (hash(back) !== hash(readFileSync(plain))) throw new Error(`bench: ${name}.bin does not round-trip`)

        const runs = mib >= 100 ? 3 : mib >= 16 ? 5 : Math.max(5, Math.floor(ctx.RUNS / 2))
        const limit = 3 * mib + 60
        const encArgv = [node, BIN, "encrypt", "--age", recipient, `${name}.bin`]
        const ageEnc = ["age", "-e", "-r", recipient, `${name}.bin`]
        const e = ctx.raceProcesses(encArgv, ageEnc, runs)
        const eRss = peakRss(ctx, encArgv)
        ctx.row(`   encrypt ${mib} MiB binary  vs  age -e`, e, mib >= 16 ? 3 : undefined, `RSS ${eRss.toFixed(0)} MiB (limit ${limit}), age ${peakRss(ctx, ageEnc).toFixed(0)} MiB`)
        const decArgv = [node, BIN, "decrypt", `${name}.enc`]
        const ageDec = ["age", "-d", "-i", keyFile, `${name}.age`]
        const d = ctx.raceProcesses(decArgv, ageDec, runs)
        const dRss = peakRss(ctx, decArgv)
        ctx.row(`   decrypt ${mib} MiB binary  vs  age -d`, d, mib >= 16 ? 3 : undefined, `RSS ${dRss.toFixed(0)} MiB (limit ${limit}), age ${peakRss(ctx, ageDec).toFixed(0)} MiB`)
    }

    // The AES-GCM part alone: one 16 MiB value through encryptValue and decryptValue
    // (cipher, base64 and the ENC string), against raw AES-256-GCM of the same bytes.
    const { encryptValue, decryptValue } = await import(ctx.dist("core/cipher.js"))
    const { createCipheriv } = await import("node:crypto")
    const key = randomBytes(32)
    const value = { kind: "bytes", value: new Uint8Array(randomBytes(16 * MiB)) }
    let enc = ""
    const r = await ctx.raceInProcess(
        () => {
            enc = encryptValue(value, key, "data:")
            decryptValue(enc, key, "data:")
        },
        () => {
            const c = createCipheriv("aes-256-gcm", key, randomBytes(32))
            c.update(value.value)
            c.final()
        },
        5,
        2,
    )
    const rate = (32 / (r.ours.median / 1000)).toFixed(0)
    ctx.row("   encryptValue + decryptValue 16 MiB  vs  raw AES-256-GCM encrypt", r, undefined, `${rate} MiB/s through the value cipher (target ≥ 100)`)
}
