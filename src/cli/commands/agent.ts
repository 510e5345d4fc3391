/**
 * `secrets agent start|stop|status|lock` (issue 16 §3; docs/agent.md): a process
 * that keeps unlocked identities in memory, so that a passphrase is typed once
 * per session. `agent serve` (hidden) is the process itself; `start` runs it
 * detached and waits until it answers.
 */
import { resolve } from "node:path"
import { InvalidArgumentError, Option, type Command } from "commander"
import { ExitCode, SecretsError } from "../../errors.js"
import type { CommandContext } from "../context.js"
import type { Io } from "../../files/io.js"
import { SOCKET_NAME, agentDir } from "../../files/agent-protocol.js"
import type { AgentConnection } from "../../files/agent-client.js"

const DEFAULT_IDLE = "15m"

export function registerAgent(program: Command, ctx: CommandContext): void {
    const agent = program
        .command("agent")
        .description("keep unlocked identities in memory for this session: one passphrase prompt, not one per command")
        .addHelpText("after", "\nSee docs/agent.md. SECRETS_AGENT=0 makes a command ignore a running agent.\n")
    const idle = () => new Option("--idle <duration>", "wipe the identities after this long without use (e.g. 90s, 15m, 2h)").default(DEFAULT_IDLE).argParser(parseIdle)
    agent
        .command("start")
        .description("start the agent in the background (nothing happens if one runs)")
        .addOption(idle())
        .action(async (opts: { idle: string | number }) => {
            await ctx.dispatch("agent start", [], opts, () => runStart(ctx.io, idleMs(opts.idle)))
        })
    agent
        .command("serve", { hidden: true })
        .description("run the agent in the foreground (what start runs)")
        .addOption(idle())
        .action(async (opts: { idle: string | number }) => {
            await ctx.dispatch("agent serve", [], opts, async () => {
                const { startAgent } = await import("../../agent/server.js")
                const running = await startAgent({ dir: needDir(ctx.io), idleMs: idleMs(opts.idle) })
                await running.closed
            })
        })
    agent
        .command("status")
        .description("say whether an agent runs, how many identities it holds and when it wipes them")
        .addOption(new Option("--json", "print the status as JSON"))
        .action(async (opts: { json?: boolean }) => {
            await ctx.dispatch("agent status", [], opts, () => runStatus(ctx.io, opts.json === true))
        })
    agent
        .command("lock")
        .description("wipe the identities the agent holds (the next command asks again)")
        .action(async () => {
            await ctx.dispatch("agent lock", [], {}, () => runSimple(ctx.io, "lock"))
        })
    agent
        .command("stop")
        .description("wipe the identities and end the agent")
        .action(async () => {
            await ctx.dispatch("agent stop", [], {}, () => runSimple(ctx.io, "stop"))
        })
}

/** `--idle`: seconds, minutes or hours; at least a second, at most a week. */
export function parseIdle(value: string): number {
    const m = /^(\d+)(s|m|h)$/.exec(value.trim())
    const seconds = m === null ? NaN : Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"]
    if (!(seconds >= 1 && seconds <= 7 * 24 * 3600)) throw new InvalidArgumentError("expected a duration such as 90s, 15m or 2h (at most 168h)")
    return seconds * 1000
}

function idleMs(v: string | number): number {
    return typeof v === "number" ? v : parseIdle(v)
}

function needDir(io: Io): string {
    const dir = agentDir(io.env)
    if (dir === undefined) throw new SecretsError(ExitCode.Generic, "the agent needs a system with user ids (Linux, macOS)")
    return dir
}

/** A connection to the running agent, or undefined when none answers (or its directory is not private). */
async function connected(io: Io): Promise<{ conn: AgentConnection; socket: string } | undefined> {
    const { connectAgent } = await import("../../files/agent-client.js")
    const dir = agentDir(io.env)
    if (dir === undefined) return undefined
    const socket = `${dir}/${SOCKET_NAME}`
    const conn = await connectAgent(socket)
    return conn === undefined ? undefined : { conn, socket }
}

async function runStart(io: Io, idle: number): Promise<void> {
    const already = await connected(io)
    if (already !== undefined) {
        already.conn.close()
        io.stdout.write(`an agent is already running on ${already.socket}\n`)
        return
    }
    const { preparePrivateDir } = await import("../../agent/server.js")
    // In the foreground, so that a directory that is not ours is one clear line here.
    preparePrivateDir(needDir(io))
    const { startDetached } = await import("../../integrations/agent-process.js")
    const script = process.argv[1]
    if (script === undefined) throw new SecretsError(ExitCode.Generic, "cannot tell which program to start")
    // Absolute: the agent runs in / (agent-process.ts), and `node bin/secrets.cjs` gives a relative path.
    startDetached(resolve(io.cwd, script), ["agent", "serve", "--idle", `${Math.round(idle / 1000)}s`], io.env)
    // Wait for the agent to answer: a condition, not a fixed sleep (about a minute on a loaded machine).
    for (let i = 0; i < 600; i++) {
        const c = await connected(io)
        if (c !== undefined) {
            c.conn.close()
            io.stdout.write(`agent started on ${c.socket}\n`)
            return
        }
        await new Promise((r) => setTimeout(r, 100))
    }
    throw new SecretsError(ExitCode.Generic, "the agent did not start", ["run secrets agent serve to see why"])
}

async function runStatus(io: Io, json: boolean): Promise<void> {
    const c = await connected(io)
    const answer = c === undefined ? undefined : await c.conn.request({ op: "status" })
    c?.conn.close()
    if (answer?.ok !== true) {
        io.stdout.write(json ? `${JSON.stringify({ running: false })}\n` : "no agent is running\n")
        return
    }
    const status = {
        running: true,
        pid: answer.pid,
        socket: answer.socket,
        identities: answer.identities,
        sources: answer.sources,
        idleSeconds: answer.idleSeconds,
        wipeInSeconds: answer.wipeInSeconds,
    }
    if (json) {
        io.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
        return
    }
    const wipe = typeof status.wipeInSeconds === "number" ? `wiped in ${String(status.wipeInSeconds)}s` : "nothing to wipe"
    io.stdout.write(
        `agent running (pid ${String(status.pid)}) on ${String(status.socket)}\n` +
            `identities: ${String(status.identities)} from ${String(status.sources)} source(s)\n` +
            `idle timeout: ${String(status.idleSeconds)}s; ${wipe}\n`,
    )
}

async function runSimple(io: Io, op: "lock" | "stop"): Promise<void> {
    const c = await connected(io)
    if (c === undefined) {
        io.stdout.write("no agent is running\n")
        return
    }
    const answer = await c.conn.request({ op })
    c.conn.close()
    if (answer?.ok !== true) throw new SecretsError(ExitCode.Generic, `the agent did not ${op}`)
    io.stdout.write(op === "lock" ? "agent locked: identities wiped\n" : "agent stopped\n")
}
