/**
 * The agent's guards and protocol (docs/agent.md), in process: the directory and
 * socket checks on real modes, the cookie, request parsing and bounds, and a real
 * server on a real Unix socket that unwraps with what it was given and nothing
 * after `lock`.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"

import { startAgent } from "../../../src/agent/server.js"
import { connectAgent } from "../../../src/files/agent-client.js"
import { MAX_LINE, agentDir, cookieMatches, parseRequest, privateDirProblem, socketProblem, sshKeyOf, unlockedSshKey } from "../../../src/files/agent-protocol.js"
import { generateX25519Identity, wrapDataKey } from "../../../src/keys/age.js"
import { parseSshPrivateKey } from "../../../src/keys/ssh-parse.js"
import { execFileSync } from "node:child_process"

const uid = process.getuid?.() ?? -1
const dirs: string[] = []
function tmp(): string {
    const d = mkdtempSync(join(tmpdir(), "secrets-agent-unit-"))
    dirs.push(d)
    return d
}
const stops: (() => Promise<void>)[] = []
afterEach(async () => {
    for (const s of stops.splice(0)) await s()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("where the socket lives", () => {
    it("XDG_RUNTIME_DIR/secrets, else TMPDIR or /tmp with the uid", () => {
        expect(agentDir({ XDG_RUNTIME_DIR: "/run/user/1000" })).toBe("/run/user/1000/secrets")
        expect(agentDir({ TMPDIR: "/var/tmp" })).toBe(`/var/tmp/secrets-${uid}`)
        expect(agentDir({})).toBe(`/tmp/secrets-${uid}`)
        // A relative XDG_RUNTIME_DIR is ignored, as the spec says it must be absolute.
        expect(agentDir({ XDG_RUNTIME_DIR: "run" })).toBe(`/tmp/secrets-${uid}`)
    })

    it("the directory must be ours, a directory, and 0700", () => {
        const d = tmp()
        const dir = join(d, "secrets")
        expect(privateDirProblem(dir, uid)).toBe(`${dir} does not exist`)
        mkdirSync(dir, { mode: 0o700 })
        expect(privateDirProblem(dir, uid)).toBeUndefined()
        chmodSync(dir, 0o750)
        expect(privateDirProblem(dir, uid)).toBe(`${dir} is open to other users (mode 0750); it must be 0700`)
        chmodSync(dir, 0o700)
        expect(privateDirProblem(dir, uid + 1)).toBe(`${dir} belongs to uid ${uid}, not to you (uid ${uid + 1})`)
        writeFileSync(join(d, "file"), "")
        expect(privateDirProblem(join(d, "file"), uid)).toBe(`${join(d, "file")} is not a directory`)
        expect(socketProblem(join(d, "file"), uid)).toBe(`${join(d, "file")} is not a socket`)
    })
})

describe("cookie and requests", () => {
    it("the cookie must match exactly", () => {
        const ours = Buffer.from("a".repeat(64))
        expect(cookieMatches("a".repeat(64), ours)).toBe(true)
        expect(cookieMatches("a".repeat(63) + "b", ours)).toBe(false)
        expect(cookieMatches("a".repeat(63), ours)).toBe(false)
        expect(cookieMatches(undefined, ours)).toBe(false)
        expect(cookieMatches(42, ours)).toBe(false)
    })

    it("requests are checked field by field", () => {
        expect(parseRequest('{"op":"status"}')).toEqual({ op: "status" })
        expect(parseRequest('{"op":"unwrap","enc":"x","recipient":"age1"}')).toEqual({ op: "unwrap", enc: "x", recipient: "age1" })
        expect(parseRequest('{"op":"unwrap"}')).toEqual({ error: "unwrap needs enc" })
        expect(parseRequest('{"op":"add","identity":{"kind":"keys","source":"s","text":"t"}}')).toEqual({ op: "add", identity: { kind: "keys", source: "s", text: "t" } })
        expect(parseRequest('{"op":"add","identity":{"kind":"ssh","source":"s","text":"t"}}')).toEqual({ error: "add needs an identity" })
        expect(parseRequest('{"op":"dump"}')).toEqual({ error: "unknown op" })
        expect(parseRequest("[1]")).toEqual({ error: "not an object" })
        expect(parseRequest("{")).toEqual({ error: "not JSON" })
    })

    it("an unlocked SSH key goes over as its seed and comes back the same key", () => {
        const d = tmp()
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(d, "k")])
        const key = parseSshPrivateKey(execFileSync("cat", [join(d, "k")]).toString(), "k")
        const sent = unlockedSshKey("k", key)
        expect(JSON.stringify(sent)).not.toContain("PRIVATE KEY")
        const back = sshKeyOf(sent as typeof sent & { kind: "ssh" })
        expect(back).toEqual(key)
    })
})

describe("a running agent", () => {
    async function agent(idleMs = 60_000) {
        const runtime = tmp()
        const dir = join(runtime, "secrets")
        const running = await startAgent({ dir, idleMs })
        stops.push(async () => {
            const c = await connectAgent(running.socket)
            await c?.request({ op: "stop" })
            await running.closed
        })
        return { dir, socket: running.socket }
    }

    it("refuses a client without the cookie, and answers nothing else on that connection", async () => {
        const { socket } = await agent()
        const lines = await new Promise<string>((resolve) => {
            const s = createConnection(socket)
            let got = ""
            s.setEncoding("utf8")
            s.on("data", (c: string) => (got += c))
            s.on("close", () => resolve(got))
            s.write('{"cookie":"wrong"}\n{"op":"status"}\n')
        })
        expect(lines).toBe('{"ok":false,"error":"refused"}\n')
    })

    it("closes a connection whose line exceeds the bound", async () => {
        const { socket } = await agent()
        const closed = await new Promise<boolean>((resolve) => {
            const s = createConnection(socket)
            s.on("close", () => resolve(true))
            s.on("error", () => {})
            s.write("x".repeat(MAX_LINE + 10))
        })
        expect(closed).toBe(true)
    })

    it("unwraps with an identity it was given, never returns it, and misses after lock", async () => {
        const { socket } = await agent()
        const id = await generateX25519Identity()
        const dataKey = new Uint8Array(32).fill(7)
        const enc = await wrapDataKey(id.recipient, dataKey)
        const c = await connectAgent(socket)
        expect(c).toBeDefined()
        expect(await c!.request({ op: "unwrap", enc })).toEqual({ ok: true, miss: true })
        const added = await c!.request({ op: "add", identity: { kind: "keys", source: "test", text: `${id.identity}\n` } })
        expect(added).toEqual({ ok: true, identities: 1 })
        const hit = await c!.request({ op: "unwrap", enc, recipient: id.recipient })
        expect(Buffer.from(hit!.key as string, "base64")).toEqual(Buffer.from(dataKey))
        const status = await c!.request({ op: "status" })
        expect(status).toMatchObject({ ok: true, identities: 1, sources: 1, pid: process.pid })
        expect(JSON.stringify(status)).not.toContain(id.identity)
        expect(await c!.request({ op: "lock" })).toEqual({ ok: true })
        expect(await c!.request({ op: "unwrap", enc })).toEqual({ ok: true, miss: true })
        // A key file that does not parse: an error that names the source, never the text.
        const bad = await c!.request({ op: "add", identity: { kind: "keys", source: "test", text: "AGE-SECRET-KEY-1NOTAKEY\n" } })
        expect(bad?.ok).toBe(false)
        expect(String(bad?.error)).not.toContain("NOTAKEY")
        c!.close()
    })

    it("wipes after the idle timeout", async () => {
        const { socket } = await agent(1000)
        const id = await generateX25519Identity()
        const c = await connectAgent(socket)
        await c!.request({ op: "add", identity: { kind: "keys", source: "test", text: id.identity } })
        // Wait for the wipe to have happened (a condition), not for a time.
        for (;;) {
            const s = await c!.request({ op: "status" })
            if (s?.identities === 0) break
            await new Promise((r) => setTimeout(r, 100))
        }
        expect(await c!.request({ op: "unwrap", enc: await wrapDataKey(id.recipient, new Uint8Array(32)) })).toEqual({ ok: true, miss: true })
        c!.close()
    })

    it("a second agent on the same socket is refused while the first answers", async () => {
        const { dir } = await agent()
        await expect(startAgent({ dir, idleMs: 1000 })).rejects.toThrow(/already running/)
    })
})
