/**
 * `secrets op sync FILE (--mapping MAP | --vault V …) [--check] [--watch INTERVAL]
 * [--direction pull|push]` (issue 5 §3). 1Password is the source of truth by
 * default (direction pull): a team edits secrets in the vault and the encrypted
 * file follows. `--check` writes nothing and exits 1 when the two differ (drift is
 * printed as key paths or item names), for CI and scheduled jobs. `--watch` syncs
 * again every INTERVAL until SIGINT, SIGTERM or SIGHUP, and then ends with status 0
 * (issue 10 §15); a failing round (rate limit, signed out, …) is reported and the
 * next round tries again.
 */
import { Option, type Command } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import type { Io } from "../../files/io.js"
import { addSourceOptions, type SourceOptions } from "./op-source.js"

interface SyncOptions extends SourceOptions {
    check?: boolean
    watch?: string
    direction?: "pull" | "push"
    prune?: boolean
    age?: string
    inputType?: Format
    ignoreMac?: boolean
    decryptionOrder?: string
}

const EXAMPLES = `
Examples:
  secrets op sync secrets/app.yaml --mapping app.op.yaml --check     # CI: exit 1 on drift
  secrets op sync secrets/app.yaml --vault Prod --item db --watch 5m
  secrets op sync secrets/app.yaml --vault Prod --direction push
`

export function registerOpSync(op: Command, ctx: CommandContext): void {
    const cmd = op
        .command("sync")
        .description("bring a file and 1Password in step (1Password wins unless --direction push); --check for CI")
        .argument("<file>", "the encrypted file")
    addSourceOptions(cmd, "sync")
        .addOption(new Option("--check", "compare only: print the drift and exit 1 when anything differs"))
        .addOption(new Option("--watch <interval>", "sync again every INTERVAL (e.g. 30s, 5m, 1h) until interrupted"))
        .addOption(new Option("--direction <direction>", "pull: 1Password -> file (default); push: file -> 1Password").choices(["pull", "push"]))
        .addOption(new Option("--prune", "pull: also remove keys the source manages but no longer has"))
        .addOption(o.age())
        .addOption(o.inputType())
        .addOption(o.ignoreMac())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, _opts: SyncOptions, c: Command) => {
            const opts = o.withEnvDefaults(c.optsWithGlobals<SyncOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("op sync", [file], opts, () => runOpSync(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

export async function runOpSync(ctx: CommandContext, file: string, opts: SyncOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const push = opts.direction === "push"
    if (opts.check === true && opts.watch !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--check and --watch cannot be used together", [
            "--check compares once for CI; --watch keeps syncing",
        ])
    }
    if (push) {
        if (opts.prune === true) throw new SecretsError(ExitCode.ConflictingParameters, "--prune applies to --direction pull only")
        // A push names at most one item: the file as that item (--item I --flat).
        if (opts.tags !== undefined || ((opts.item?.length ?? 0) > 0 && (opts.flat !== true || opts.item?.length !== 1))) {
            throw new SecretsError(ExitCode.ConflictingParameters, "with --direction push, only --item ITEM --flat (the file as one item) chooses items", [
                "a push writes one item per top-level key, the file as one item with --item ITEM --flat, or what --mapping says",
            ])
        }
        const { checkPushFlags } = await import("./op-push.js")
        checkPushFlags(pushOptions(opts))
    }
    const intervalMs = opts.watch === undefined ? undefined : parseInterval(opts.watch, io.env)
    const { opClient, loadSource } = await import("./op-source.js")
    // The mapping (or flags) is checked once, before the first op call.
    const source = push ? undefined : await loadSource(io, opts)

    const round = async (stop?: AbortSignal): Promise<{ drift: boolean; summary: string }> => {
        const client = stop === undefined ? await opClient(io) : await cancellableOpClient(io, stop)
        if (push) {
            const { pushOnce, printPush } = await import("./op-push.js")
            const dryRun = opts.check === true
            const outcomes = await pushOnce(io, file, client, pushOptions(opts), !dryRun)
            const changed = outcomes.filter((x) => x.change.action !== "unchanged")
            if (opts.check === true) {
                const { pushLine } = await import("./op-push.js")
                for (const x of changed) io.stdout.write(`${pushLine(x.target, x.change, true)}\n`)
            } else if (intervalMs === undefined) {
                printPush(io, outcomes, false)
            } else {
                const { pushLine } = await import("./op-push.js")
                for (const x of changed) io.stdout.write(`${pushLine(x.target, x.change, false)}\n`)
            }
            return { drift: changed.length > 0, summary: `${changed.length} of ${outcomes.length} items ${opts.check === true ? "differ" : "written"}` }
        }
        const { pullOnce, printPull } = await import("./op-pull.js")
        const { isEmptyPlan, formatPlan } = await import("../../sync/plan.js")
        if (source === undefined) throw new Error("internal: no source")
        const r = await pullOnce(io, file, source, client, { ...opts, dryRun: opts.check === true })
        if (intervalMs === undefined) {
            if (opts.check === true) for (const line of formatPlan(r.plan)) io.stdout.write(`${line}\n`)
            else await printPull(io, file, r, {})
        } else {
            for (const line of formatPlan(r.plan)) io.stdout.write(`${line}\n`)
        }
        const p = r.plan
        return { drift: !isEmptyPlan(p), summary: `${p.added.length} added, ${p.changed.length} changed, ${p.removed.length} removed${r.written ? ", written" : ""}` }
    }

    if (intervalMs === undefined) {
        const { drift } = await round()
        if (opts.check === true) {
            const { info } = await import("../report.js")
            if (drift) {
                info(io, `${quote(file)} and 1Password differ${push ? " (push would change the items above)" : " (pull would change the key paths above)"}`)
                ctx.state.exitCode = ExitCode.Generic
            } else {
                info(io, `${quote(file)} is in step with 1Password`)
            }
        }
        return
    }
    await watch(ctx, file, intervalMs, round)
}

/** What stops a watch: Ctrl-C, `kill` and systemd's stop, a closed terminal. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const

/**
 * Rounds every `intervalMs` until a stop signal; a failed round is reported, not
 * fatal. A signal only asks to stop, at any moment of a round, and the watch then
 * ends with status 0 and the file whole: a round still talking to op is cancelled
 * (op is killed, the round throws before anything is written), a round waiting for
 * the file's lock gives up waiting, and a round that holds the lock finishes its
 * atomic write and releases the lock the normal way (the lock module leaves a
 * signal to the program that handles it). Later signals ask the same again, so a
 * second Ctrl-C cannot cut a write short either.
 */
async function watch(ctx: CommandContext, file: string, intervalMs: number, round: (stop: AbortSignal) => Promise<{ summary: string }>): Promise<void> {
    const { io } = ctx
    const { reportError } = await import("../report.js")
    const { stopLockWaitsOn } = await import("../../files/file-lock.js")
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    for (const s of STOP_SIGNALS) process.on(s, onSignal)
    const keepLockWaits = stopLockWaitsOn(stop.signal)
    io.stderr.write(`secrets: watching ${quote(file)} every ${formatInterval(intervalMs)}; stop with Ctrl-C\n`)
    try {
        for (let n = 1; !stop.signal.aborted; n++) {
            const started = io.now().toISOString()
            try {
                const { summary } = await round(stop.signal)
                io.stdout.write(`${started} round ${n}: ${summary}\n`)
            } catch (e) {
                if (stop.signal.aborted) {
                    // The cancelled op call or lock wait is how the round stopped, not a failure.
                    io.stdout.write(`${started} round ${n}: stopped before it finished\n`)
                    break
                }
                // The usual error lines, then the round: the next one tries again.
                reportError(io, e)
                io.stdout.write(`${started} round ${n}: failed, retrying in ${formatInterval(intervalMs)}\n`)
            }
            await sleepUnlessStopped(intervalMs, stop.signal)
        }
    } finally {
        for (const s of STOP_SIGNALS) process.removeListener(s, onSignal)
        keepLockWaits()
    }
    io.stderr.write("secrets: stopped watching\n")
}

/** An op client whose calls are cancelled (op killed) when `stop` is aborted. */
async function cancellableOpClient(io: Io, stop: AbortSignal) {
    const { opClientFromEnv, execaExecutor } = await import("../../integrations/op.js")
    return opClientFromEnv(io.env, { exec: (bin, argv, opts) => execaExecutor(bin, argv, { ...opts, cancelSignal: stop }) })
}

function sleepUnlessStopped(ms: number, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (stop.aborted) return resolve()
        const done = (): void => {
            clearTimeout(timer)
            stop.removeEventListener("abort", done)
            resolve()
        }
        const timer = setTimeout(done, ms)
        stop.addEventListener("abort", done, { once: true })
    })
}

/**
 * `30s`, `5m`, `1h` (or `500ms`). At least 5 s, so a forgotten watch does not eat a
 * service account's hourly limit (op-cli.md §8); SECRETS_WATCH_MIN_MS lowers the
 * floor for tests.
 */
export function parseInterval(text: string, env: Readonly<Record<string, string | undefined>>): number {
    const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim())
    if (m === null) {
        throw new SecretsError(ExitCode.ConflictingParameters, `--watch takes an interval like 30s, 5m or 1h, not ${quote(text)}`)
    }
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"]
    const ms = Number(m[1]) * unit
    const floorText = env.SECRETS_WATCH_MIN_MS
    const floor = floorText !== undefined && /^\d+$/.test(floorText) ? Number(floorText) : 5000
    if (ms < floor || ms === 0) {
        throw new SecretsError(ExitCode.ConflictingParameters, `--watch ${text} is too short: the minimum is ${formatInterval(floor)}`, [
            "every round costs 1Password requests, and service accounts have hourly limits",
        ])
    }
    return ms
}

function formatInterval(ms: number): string {
    if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
    if (ms % 60_000 === 0) return `${ms / 60_000}m`
    if (ms % 1000 === 0) return `${ms / 1000}s`
    return `${ms}ms`
}

/** sync's options as op push reads them: sync's repeatable --item is push's one item. */
function pushOptions(opts: SyncOptions & o.GlobalOpts): Omit<SyncOptions, "item"> & o.GlobalOpts & { item?: string } {
    const { item, ...rest } = opts
    return { ...rest, ...(item?.[0] !== undefined ? { item: item[0] } : {}) }
}
