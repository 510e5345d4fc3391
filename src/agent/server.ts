/**
 * The agent process (`secrets agent serve`, started detached by `secrets agent
 * start`; docs/agent.md): a Unix socket in a private directory, a cookie beside
 * it, and a {@link Keyring} wiped after `idleMs` without an unwrap.
 *
 * Who may talk to it: whoever can reach the socket (the directory is ours and
 * 0700, the socket 0600) and read the cookie (0600). Each connection must send
 * the cookie first; anything else closes it. Lines, requests and connections are
 * bounded, so a client can neither grow the agent's memory nor keep it busy.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, unlinkSync, writeFileSync } from "node:fs"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { join } from "node:path"
import { ExitCode, SecretsError } from "../errors.js"
import {
    COOKIE_NAME,
    MAX_CONNECTIONS,
    MAX_LINE,
    MAX_REQUESTS,
    SOCKET_NAME,
    cookieMatches,
    parseRequest,
    privateDirProblem,
    type AgentRequest,
} from "../files/agent-protocol.js"
import { Keyring } from "./keyring.js"

export interface AgentOptions {
    readonly dir: string
    readonly idleMs: number
}

/** Make (or check) the private directory; a SecretsError naming the problem when it is not ours and 0700. */
export function preparePrivateDir(dir: string): void {
    const uid = process.getuid?.()
    if (uid === undefined) throw new SecretsError(ExitCode.Generic, "the agent needs a system with user ids (Linux, macOS)")
    try {
        mkdirSync(dir, { mode: 0o700 })
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new SecretsError(ExitCode.Generic, `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? "error"}`)
    }
    const problem = privateDirProblem(dir, uid)
    // An attacker's directory must not receive identities: refuse rather than repair.
    if (problem !== undefined) throw new SecretsError(ExitCode.Generic, `refusing to put the agent's socket there: ${problem}`, [`remove ${dir} or make it yours with mode 0700`])
}

/** True when an agent answers on `path` (then a second one must not take its place). */
export function socketAnswers(path: string): Promise<boolean> {
    return new Promise((resolve) => {
        const s = createConnection(path)
        s.once("connect", () => {
            s.destroy()
            resolve(true)
        })
        s.once("error", () => resolve(false))
    })
}

/** Listen until `stop`; resolves once listening, with the socket's path. */
export async function startAgent(opts: AgentOptions): Promise<{ socket: string; closed: Promise<void> }> {
    preparePrivateDir(opts.dir)
    const socketPath = join(opts.dir, SOCKET_NAME)
    const cookiePath = join(opts.dir, COOKIE_NAME)
    if (await socketAnswers(socketPath)) throw new SecretsError(ExitCode.Generic, `an agent is already running on ${socketPath}`)
    // A killed agent's socket: nothing answers, so it is ours to replace.
    unlinkQuietly(socketPath)
    const cookie = Buffer.from(randomBytes(32).toString("hex"))
    writeFileSync(cookiePath, cookie, { mode: 0o600 })
    const keyring = new Keyring()
    let idleTimer: NodeJS.Timeout | undefined
    let wipeAt: number | undefined
    const touch = (): void => {
        clearTimeout(idleTimer)
        wipeAt = Date.now() + opts.idleMs
        idleTimer = setTimeout(() => {
            keyring.wipe()
            wipeAt = undefined
        }, opts.idleMs)
        idleTimer.unref()
    }
    const lock = (): void => {
        clearTimeout(idleTimer)
        wipeAt = undefined
        keyring.wipe()
    }
    let closedResolve: () => void = () => {}
    const closed = new Promise<void>((r) => (closedResolve = r))
    const server: Server = createServer()
    server.maxConnections = MAX_CONNECTIONS
    const stop = (): void => {
        lock()
        unlinkQuietly(socketPath)
        unlinkQuietly(cookiePath)
        server.close(() => closedResolve())
        for (const s of open) s.destroy()
    }
    const open = new Set<Socket>()

    const handle = async (req: AgentRequest): Promise<Record<string, unknown>> => {
        switch (req.op) {
            case "unwrap": {
                const key = await keyring.unwrap(req.enc, req.recipient).catch(() => null)
                if (key === null) return { ok: true, miss: true }
                touch()
                const answer = { ok: true, key: Buffer.from(key).toString("base64") }
                key.fill(0)
                return answer
            }
            case "add": {
                const added = await keyring.add(req.identity)
                touch()
                return { ok: true, identities: added }
            }
            case "status":
                return {
                    ok: true,
                    pid: process.pid,
                    identities: keyring.identities,
                    sources: keyring.sources,
                    idleSeconds: Math.round(opts.idleMs / 1000),
                    wipeInSeconds: wipeAt === undefined || keyring.sources === 0 ? null : Math.max(0, Math.round((wipeAt - Date.now()) / 1000)),
                    socket: socketPath,
                }
            case "lock":
                lock()
                return { ok: true }
            case "stop":
                return { ok: true }
        }
    }

    server.on("connection", (socket) => {
        open.add(socket)
        socket.on("close", () => open.delete(socket))
        socket.on("error", () => socket.destroy())
        socket.setEncoding("utf8")
        let buffer = ""
        let authed = false
        let count = 0
        let chain = Promise.resolve()
        const reply = (v: Record<string, unknown>): void => {
            if (!socket.destroyed) socket.write(`${JSON.stringify(v)}\n`)
        }
        const onLine = async (line: string): Promise<void> => {
            if (!authed) {
                let sent: unknown
                try {
                    sent = (JSON.parse(line) as { cookie?: unknown }).cookie
                } catch {
                    sent = undefined
                }
                if (!cookieMatches(sent, cookie)) {
                    reply({ ok: false, error: "refused" })
                    socket.end()
                    return
                }
                authed = true
                reply({ ok: true })
                return
            }
            const req = parseRequest(line)
            if ("error" in req) return reply({ ok: false, error: req.error })
            try {
                reply(await handle(req))
            } catch (e) {
                // Our own errors carry safe messages; nothing else is echoed (it could quote key material).
                reply({ ok: false, error: e instanceof SecretsError ? e.message : "failed" })
            }
            if (req.op === "stop") stop()
        }
        socket.on("data", (chunk: string) => {
            buffer += chunk
            if (buffer.length > MAX_LINE && !buffer.slice(0, MAX_LINE).includes("\n")) {
                socket.destroy()
                return
            }
            for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
                const line = buffer.slice(0, nl)
                buffer = buffer.slice(nl + 1)
                if (++count > MAX_REQUESTS) {
                    socket.destroy()
                    return
                }
                chain = chain.then(() => onLine(line))
            }
        })
    })

    // The socket is created 0600 (umask), not chmod-ed afterwards: no window in which it is open.
    const oldMask = process.umask(0o177)
    try {
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject)
            server.listen(socketPath, () => resolve())
        })
    } finally {
        process.umask(oldMask)
    }
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(signal, stop)
    return { socket: socketPath, closed }
}

function unlinkQuietly(path: string): void {
    try {
        unlinkSync(path)
    } catch {
        // already gone
    }
}
