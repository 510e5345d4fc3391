// Issue 14, target 1: binary files of 1, 16 and 100 MiB (and 1 GiB with
// BENCH_BINARY_SIZES=1024). `secrets encrypt` and `secrets decrypt` against Debian
// `age -e` / `age -d` of the same file, interleaved (process start-up included on
// both sides), with each side's peak RSS from `/usr/bin/time -f %M`; a "floor" row
// per size of 16 MiB and up: what the native primitives a sops binary file needs
// cost on this machine (SHA-512 for the MAC, AES-256-GCM, base64) plus `node -e 0`,
// which no JavaScript implementation can go below; and the cipher alone (MiB/s).
import { spawnSync, execFileSync } from "node:child_process"
import { randomBytes, createHash, createCipheriv, createDecipheriv } from "node:crypto"
import { closeSync, createReadStream, existsSync, openSync, readFileSync, writeSync } from "node:fs"
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

/** SHA-256 of a file, streamed (a 1 GiB file is not read whole here). */
async function fileHash(path) {
    const h = createHash("sha256")
    for await (const chunk of createReadStream(path)) h.update(chunk)
    return h.digest("hex")
}

/**
 * The native work one encrypt / decrypt of `plain` must do, in this process, in ms
 * (median of `runs`): SHA-512 over the plaintext (the MAC), AES-256-GCM, and base64
 * encode (encrypt) or decode (decrypt) of the ciphertext, each over 64 MiB slices
 * (V8 makes no string of more than 512 MiB, so a 1 GiB file's base64 is never one).
 */
function primitives(ctx, plain, runs) {
    const key = randomBytes(32)
    const iv = randomBytes(32)
    const time = (f) => {
        const t = process.hrtime.bigint()
        f()
        return Number(process.hrtime.bigint() - t) / 1e6
    }
    const enc = []
    const dec = []
    const SLICE = 64 * MiB
    for (let i = 0; i < runs; i++) {
        let e = 0
        let d = 0
        for (let at = 0; at < plain.length; at += SLICE) {
            const slice = plain.subarray(at, at + SLICE)
            let sealed
            let tag
            let text
            const sha = time(() => createHash("sha512").update(slice).digest())
            e += sha
            d += sha
            e += time(() => {
                const c = createCipheriv("aes-256-gcm", key, iv)
                sealed = c.update(slice)
                c.final()
                tag = c.getAuthTag()
            })
            e += time(() => (text = sealed.toString("base64")))
            d += time(() => (sealed = Buffer.from(text, "base64")))
            d += time(() => {
                const c = createDecipheriv("aes-256-gcm", key, iv)
                c.setAuthTag(tag)
                c.update(sealed)
                c.final()
            })
        }
        enc.push(e)
        dec.push(d)
    }
    return { enc: ctx.stats(enc), dec: ctx.stats(dec) }
}

export default async function binary(ctx) {
    const { node, BIN, dir, recipient, keyFile } = ctx
    // BENCH_BINARY_SIZES=1,16 leaves out 100 MiB (which a build before issue 14 cannot
    // do); BENCH_BINARY_SIZES=1024 is the 1 GiB round trip (a few minutes, ~2.5 GiB of memory).
    const sizes = (process.env.BENCH_BINARY_SIZES ?? "1,16,100").split(",").map(Number)
    // node -e 0 beside age -e 0-byte: the start-up part of the floor.
    const startup = ctx.raceProcesses([node, "-e", "0"], ["age", "-e", "-r", recipient, "-o", "/dev/null", "/dev/null"], 5).ours
    for (const mib of sizes) {
        const name = `bin${mib}`
        const plain = join(dir, `${name}.bin`)
        const fd = openSync(plain, "w")
        for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(MiB))
        closeSync(fd)
        execFileSync(node, [BIN, "encrypt", "--age", recipient, "--output", `${name}.enc`, `${name}.bin`], { cwd: dir, env: ctx.env })
        execFileSync("age", ["-e", "-r", recipient, "-o", join(dir, `${name}.age`), plain])
        // The timings mean nothing unless the file comes back whole.
        execFileSync(node, [BIN, "decrypt", "--output", `${name}.out`, `${name}.enc`], { cwd: dir, env: ctx.env })
        if ((await fileHash(plain)) !== (await fileHash(join(dir, `${name}.out`)))) throw new Error(`bench: ${name}.bin does not round-trip`)

        const runs = mib >= 1024 ? 1 : mib >= 100 ? 3 : mib >= 16 ? 5 : Math.max(5, Math.floor(ctx.RUNS / 2))
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
        if (mib >= 16) {
            const p = primitives(ctx, readFileSync(plain), mib >= 1024 ? 1 : 3)
            // One thread's floor: the primitives one after the other, plus Node's start-up.
            const floorRow = (what, prim, race) => {
                const floor = { median: prim.median + startup.median, min: prim.min + startup.min }
                const note = `native ${prim.median.toFixed(0)} ms + node -e 0 ${startup.median.toFixed(0)} ms; ours is ${(race.ours.median / floor.median).toFixed(2)}x this floor`
                // No target on a floor row: it is what the target is judged against, not a target met or missed.
                ctx.row(`   floor: ${what} ${mib} MiB (sha512 + aes-gcm + base64)  vs  age`, { ours: floor, base: race.base }, undefined, note)
            }
            floorRow("encrypt", p.enc, e)
            floorRow("decrypt", p.dec, d)
        }
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
