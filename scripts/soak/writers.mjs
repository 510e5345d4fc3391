// Campaign 1: N concurrent writers. N `secrets set` processes, started together,
// each sets its own key of one encrypted file (value on stdin, never on argv).
// Every one must exit 0 and every key must be in the file afterwards: the file
// lock serialises the read-modify-write cycles, and sops itself has no lock at all
// (the last writer silently wins).
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ageKeygen, campaignDir, cleanEnv, hasInternalError, hasStackTrace, inProcess, leakedCanary, runBin, tally } from "./common.mjs"

export async function writersCampaign({ build, seedHex, writers, keep = false, log = () => {} }) {
    const start = performance.now()
    const dir = campaignDir("writers", keep)
    const key = ageKeygen(join(dir, "keys"), "key")
    const work = join(dir, "work")
    const env = cleanEnv(dir, { SOPS_AGE_KEY_FILE: key.file })
    writeFileSync(join(dir, "plain.yaml"), "start: 1\n")
    const run = await inProcess(build)
    const enc = await run(["encrypt", "--age", key.recipient, "plain.yaml"], { cwd: dir, env })
    if (enc.code !== 0) throw new Error(`writers: encrypt failed: ${enc.stderr}`)
    await import("node:fs/promises").then((fs) => fs.mkdir(work))
    writeFileSync(join(work, "c.yaml"), enc.stdout)

    const value = (i) => `CANARY-${seedHex}-w${i}`
    log(`writers: starting ${writers} concurrent \`secrets set\` on one file`)
    const results = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
            runBin(build, ["set", "--value-stdin", "c.yaml", `["k${i}"]`], { cwd: work, env, input: `${JSON.stringify(value(i))}\n`, timeoutMs: 600_000 }),
        ),
    )
    const failed = []
    const hangs = []
    const stacks = []
    const internal = []
    const leaks = []
    for (const [i, r] of results.entries()) {
        if (r.timedOut) hangs.push(i)
        else if (r.code !== 0) failed.push({ writer: i, code: r.code, signal: r.signal, error: r.stderr.split("\n")[0] ?? "" })
        if (hasStackTrace(r.stderr)) stacks.push(i)
        if (hasInternalError(r.stderr)) internal.push(i)
        if (leakedCanary(r.stderr + r.stdout, [`CANARY-${seedHex}`])) leaks.push(i)
    }
    const dec = await run(["decrypt", "--output-type", "json", "c.yaml"], { cwd: work, env })
    let lost = []
    let fileOk = dec.code === 0
    if (fileOk) {
        const doc = JSON.parse(dec.stdout)
        // A write is lost when its process reported success but its key is not there.
        lost = results.flatMap((r, i) => (r.code === 0 && doc[`k${i}`] !== value(i) ? [i] : []))
        if (doc.start !== 1) fileOk = false
    }
    const leftovers = readdirSync(work).filter((f) => f !== "c.yaml")
    const ms = results.map((r) => r.ms)
    return {
        writers,
        failed: failed.length,
        failures: failed,
        failuresByMessage: tally(failed.map((f) => f.error.replace(/process \d+/, "process N").replace(/"[^"]*"/g, '"…"'))),
        lost: lost.length,
        lostWriters: lost,
        fileDecrypts: fileOk,
        hangs: hangs.length,
        stackTraces: stacks.length,
        internalErrors: internal.length,
        valuesOnOutput: leaks.length,
        leftovers,
        slowestWriterSeconds: Math.max(...ms) / 1000,
        seconds: (performance.now() - start) / 1000,
    }
}
