/**
 * The command line's side of the agent (docs/agent.md): asking a running agent to
 * unwrap a file's entries before collecting identities (which may prompt), and
 * handing it identities unlocked the slow way.
 *
 * Without an agent nothing changes, at the cost of one stat of the socket path:
 * the connection (and node:net) is made only when the socket exists. A socket
 * nobody answers (a killed agent), a directory that is not private, a cookie we
 * cannot read, an agent that errs: every one of them is a miss, and the command
 * goes on exactly as without an agent. `SECRETS_AGENT=0` skips it altogether.
 */
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Socket } from "node:net"
import type { EntryUnwrapper } from "../keys/age.js"
import { COOKIE_NAME, SOCKET_NAME, agentDir, privateDirProblem, socketProblem, type AgentRequest, type UnlockedIdentity } from "./agent-protocol.js"

type Env = Readonly<Record<string, string | undefined>>
export type AgentAnswer = Record<string, unknown>

/** Where a running agent's socket would be, when the agent may be used at all. */
export function agentSocketPath(env: Env): string | undefined {
    if (env.SECRETS_AGENT === "0") return undefined
    const dir = agentDir(env)
    return dir === undefined ? undefined : join(dir, SOCKET_NAME)
}

/**
 * A connection to the agent whose socket is at `path`, authenticated with the
 * cookie; undefined (and `why` told) when the place is not safe or nobody answers.
 */
export async function connectAgent(path: string, why: (problem: string) => void = () => {}): Promise<AgentConnection | undefined> {
    const uid = process.getuid?.()
    if (uid === undefined) return undefined
    const dir = join(path, "..")
    // An agent in a directory others can write could be anyone's: never send it identities.
    const problem = privateDirProblem(dir, uid) ?? socketProblem(path, uid)
    if (problem !== undefined) {
        why(problem)
        return undefined
    }
    let cookie: string
    try {
        cookie = readFileSync(join(dir, COOKIE_NAME), "utf8").trim()
    } catch {
        why(`cannot read ${join(dir, COOKIE_NAME)}`)
        return undefined
    }
    const { createConnection } = await import("node:net")
    const socket = createConnection(path)
    const ok = await new Promise<boolean>((resolve) => {
        socket.once("connect", () => resolve(true))
        // ECONNREFUSED (a killed agent's stale socket), ENOENT (gone meanwhile): no agent.
        socket.once("error", () => resolve(false))
    })
    if (!ok) {
        socket.destroy()
        why("nothing answers on the socket")
        return undefined
    }
    const conn = new AgentConnection(socket)
    const hello = await conn.request({ cookie })
    if (hello?.ok !== true) {
        conn.close()
        why("the agent refused the cookie")
        return undefined
    }
    return conn
}

/** One socket, one request at a time; an answer per line. */
export class AgentConnection {
    #buffer = ""
    #waiting: ((answer: AgentAnswer | undefined) => void)[] = []
    #chain: Promise<unknown> = Promise.resolve()
    #closed = false
    private readonly socket: Socket

    constructor(socket: Socket) {
        this.socket = socket
        socket.setEncoding("utf8")
        socket.on("data", (chunk: string) => {
            this.#buffer += chunk
            for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
                const line = this.#buffer.slice(0, nl)
                this.#buffer = this.#buffer.slice(nl + 1)
                this.#waiting.shift()?.(parseAnswer(line))
            }
        })
        const end = (): void => {
            this.#closed = true
            for (const w of this.#waiting.splice(0)) w(undefined)
        }
        socket.on("error", end)
        socket.on("close", end)
        // The connection must not keep a finished command alive.
        socket.unref()
    }

    /** The agent's answer, or undefined when the connection broke. */
    request(req: AgentRequest | { readonly cookie: string }): Promise<AgentAnswer | undefined> {
        const next = this.#chain.then(
            () =>
                new Promise<AgentAnswer | undefined>((resolve) => {
                    if (this.#closed) return resolve(undefined)
                    this.socket.ref()
                    // An agent that is stopped (SIGSTOP) or wedged must not hang the command:
                    // after a minute it counts as a miss. A hang guard, not a speed expectation.
                    const guard = setTimeout(() => this.close(), 60_000)
                    guard.unref()
                    this.#waiting.push((a) => {
                        clearTimeout(guard)
                        this.socket.unref()
                        resolve(a)
                    })
                    this.socket.write(`${JSON.stringify(req)}\n`)
                }),
        )
        this.#chain = next
        return next
    }

    close(): void {
        this.#closed = true
        this.socket.destroy()
    }
}

function parseAnswer(line: string): AgentAnswer | undefined {
    try {
        const v: unknown = JSON.parse(line)
        return typeof v === "object" && v !== null ? (v as AgentAnswer) : undefined
    } catch {
        return undefined
    }
}

/**
 * The agent as an identity for the engine (keys/age.ts EntryUnwrapper), and how
 * to hand it unlocked identities; undefined, for a stat's cost, when no agent runs.
 * Connected on first use, once per command.
 */
export function runningAgent(env: Env): { identity: EntryUnwrapper; remember(identity: UnlockedIdentity): Promise<void> } | undefined {
    const path = agentSocketPath(env)
    if (path === undefined || statSync(path, { throwIfNoEntry: false }) === undefined) return undefined
    let connection: Promise<AgentConnection | undefined> | undefined
    const connect = (): Promise<AgentConnection | undefined> => (connection ??= connectAgent(path).catch(() => undefined))
    return {
        identity: {
            unwrapFileKey: () => null,
            async unwrapEntry(enc: string, recipient?: string): Promise<Uint8Array | null> {
                const conn = await connect()
                if (conn === undefined) return null
                const answer = await conn.request(recipient === undefined ? { op: "unwrap", enc } : { op: "unwrap", enc, recipient })
                if (answer?.ok !== true || typeof answer.key !== "string") return null
                return new Uint8Array(Buffer.from(answer.key, "base64"))
            },
        },
        async remember(identity: UnlockedIdentity): Promise<void> {
            const conn = await connect()
            // The answer is awaited so that the command does not end before the agent has it.
            await conn?.request({ op: "add", identity })
        },
    }
}
