#!/usr/bin/env node
// `npm run soak`: the reliability campaign of issue 10 (point 17), against the built
// binary in temp dirs. Four campaigns (scripts/soak/*.mjs):
//
//   writers    N concurrent `secrets set` of distinct keys on one file
//   kills      SIGKILL at random moments of encrypt/set/rotate/updatekeys/keys rotate
//   mutations  mutated inputs through every command (in process, a sample via the binary)
//   tamper     every 1-byte change of a two-recipient file, decrypted
//
// It prints the seed first and a table of figures last, and exits 1 when any
// invariant is violated (2 when it cannot run). Same seed and counts, same rounds:
// every round draws from its own stream (seed, campaign, round number), so the
// figures do not depend on which concurrent round finishes first (only the kill
// timings, which depend on the machine).
//
//   node scripts/soak.mjs [--seed N|random] [--writers 100] [--kills 1000]
//       [--mutations 10000] [--binary-every 10] [--tamper full|quick|off]
//       [--jobs 2] [--only writers,kills,mutations,tamper] [--case N]
//       [--measure-runs 3] [--kill-sizes small,large] [--tamper-stride 1]
//       [--json FILE] [--keep]
//
// --case N replays round N of the kills or case N of the mutations alone (with
// --keep, its directory and a replay file stay in the temp dir).
//
// Run after `npm run build` (npm run soak does). See docs/soak.md.
import { writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { parseArgs } from "node:util"
import { privateBuild } from "./soak/common.mjs"
import { writersCampaign } from "./soak/writers.mjs"
import { killsCampaign } from "./soak/kills.mjs"
import { mutationsCampaign } from "./soak/mutations.mjs"
import { tamperCampaign, DEFAULT_PASSES } from "./soak/tamper.mjs"
import { reportTable, violated } from "./soak/report.mjs"

const CAMPAIGNS = ["writers", "kills", "mutations", "tamper"]

function usage(message) {
    process.stderr.write(`soak: ${message}\nusage: node scripts/soak.mjs [--seed N|random] [--writers N] [--kills N] [--mutations N] [--binary-every N] [--tamper full|quick|off] [--jobs N] [--only LIST] [--case N] [--measure-runs N] [--kill-sizes small,large] [--tamper-stride N] [--json FILE] [--keep]\n`)
    process.exit(2)
}

let args
try {
    args = parseArgs({
        options: {
            seed: { type: "string", default: "17" },
            writers: { type: "string", default: "100" },
            kills: { type: "string", default: "1000" },
            mutations: { type: "string", default: "10000" },
            "binary-every": { type: "string", default: "10" },
            tamper: { type: "string", default: "full" },
            jobs: { type: "string", default: "2" },
            only: { type: "string", default: CAMPAIGNS.join(",") },
            case: { type: "string" },
            "measure-runs": { type: "string", default: "3" },
            "tamper-stride": { type: "string", default: "1" },
            "kill-sizes": { type: "string", default: "small,large" },
            json: { type: "string" },
            keep: { type: "boolean", default: false },
        },
        strict: true,
    }).values
} catch (e) {
    usage(e.message)
}

const count = (name, min = 0) => {
    const n = Number(args[name])
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}`)
    return n
}
const seed = args.seed === "random" ? Math.floor(Math.random() * 2 ** 32) : Number(args.seed)
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) usage("--seed must be an integer in [0, 2^32) or `random`")
const only = args.only.split(",").map((s) => s.trim())
for (const c of only) if (!CAMPAIGNS.includes(c)) usage(`unknown campaign ${JSON.stringify(c)} (one of ${CAMPAIGNS.join(", ")})`)
if (!["full", "quick", "off"].includes(args.tamper)) usage("--tamper must be full, quick or off")
const opts = {
    seed,
    seedHex: seed.toString(16).padStart(8, "0"),
    writers: count("writers", 1),
    kills: count("kills", 0),
    mutations: count("mutations", 0),
    binaryEvery: count("binary-every", 1),
    jobs: count("jobs", 1),
    keep: args.keep,
    only: args.case === undefined ? undefined : count("case", 0),
    measureRuns: count("measure-runs", 1),
    stride: count("tamper-stride", 1),
    sizes: args["kill-sizes"].split(",").map((x) => x.trim()),
}
for (const s of opts.sizes) if (s !== "small" && s !== "large") usage("--kill-sizes takes small, large or both")

const log = (line) => process.stderr.write(`${line}\n`)
const started = new Date()
const machine = { nproc: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100), node: process.version }
log(`soak: seed ${seed} (--seed ${seed} repeats this run); ${new Date().toISOString()}; ${machine.nproc} cores, load ${machine.loadavg.join(" ")}`)

let build
try {
    build = await privateBuild({ keep: args.keep, log })
} catch (e) {
    log(`soak: ${e.message}`)
    process.exit(2)
}

const figures = {}
const want = (c) => only.includes(c)
if (want("tamper") && args.tamper !== "off") {
    const passes = args.tamper === "full" ? DEFAULT_PASSES : [DEFAULT_PASSES[0]]
    figures.tamper = await tamperCampaign({ build, seedHex: opts.seedHex, keep: opts.keep, passes, stride: opts.stride, log })
}
if (want("writers")) figures.writers = await writersCampaign({ build, seedHex: opts.seedHex, writers: opts.writers, keep: opts.keep, log })
if (want("mutations") && opts.mutations > 0) figures.mutations = await mutationsCampaign({ build, ...opts, log })
if (want("kills") && opts.kills > 0) figures.kills = await killsCampaign({ build, ...opts, log })

const report = {
    seed,
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: { ...machine, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    counts: { writers: opts.writers, kills: opts.kills, mutations: opts.mutations, binaryEvery: opts.binaryEvery, tamper: args.tamper, jobs: opts.jobs },
    figures,
}
if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`)
process.stdout.write(reportTable(report))
const bad = violated(figures)
if (bad.length > 0) {
    log(`soak: FAILED: ${bad.join("; ")}`)
    process.exitCode = 1
} else log("soak: every invariant held")
