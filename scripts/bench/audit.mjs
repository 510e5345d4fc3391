// Issue 16 §1: "writing the log never slows a command by more than a few
// milliseconds". The same small decrypt (the fast path) with the audit log on and
// off, interleaved run by run; both sides go through env(1) so that each pays the
// same extra exec. The note gives the difference in ms (wall, medians) and in CPU
// time (the child's rusage, medians of 9 runs each), which is what the append
// costs: the log's lock, reading the tail, one write, the anchor's rename.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export default async function audit(ctx) {
    const { dir, node, BIN, RUNS, recipient, secrets, raceProcesses, childRusage, row } = ctx
    if (!existsSync(join(dir, "small.enc.yaml"))) {
        writeFileSync(join(dir, "small.yaml"), "db:\n    user: admin\n    password: hunter2\n    port: 5432\napi_key: abc123\n")
        writeFileSync(join(dir, "small.enc.yaml"), secrets(["encrypt", "--age", recipient, "small.yaml"]))
    }
    const log = join(dir, "bench-audit.jsonl")
    const on = ["/usr/bin/env", `SECRETS_AUDIT_LOG=${log}`, node, BIN, "decrypt", "small.enc.yaml"]
    const off = ["/usr/bin/env", "SECRETS_AUDIT_LOG=off", node, BIN, "decrypt", "small.enc.yaml"]
    const r = raceProcesses(on, off, RUNS)

    const cpu = (argv) => childRusage(argv)?.cpu
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const a = []
    const b = []
    for (let i = 0; i < 9; i++) (a.push(cpu(on)), b.push(cpu(off)))
    const cpuNote = a.includes(undefined) || b.includes(undefined) ? "no python3 for CPU" : `CPU +${(median(a) - median(b)).toFixed(1)} ms (${median(a).toFixed(1)} vs ${median(b).toFixed(1)})`
    row("A. secrets decrypt small.yaml, audit log on  vs  off", r, undefined, `+${(r.ours.median - r.base.median).toFixed(1)} ms wall; ${cpuNote}; issue 16: a few ms at most`)
}
