/**
 * What the agent (src/agent/) and the command line (agent-client.ts) agree on:
 * where the socket is, which directory may hold it, the cookie, and the requests.
 * docs/agent.md.
 *
 * Node has no SO_PEERCRED, so the agent cannot ask the kernel who connected. The
 * guards are the directory (ours and 0700: nobody else can reach the socket or
 * plant one) and a random cookie file beside the socket (0600) that a client
 * sends first: it proves the client can read our files. An attacker's directory
 * must never receive identities, so both sides check the directory.
 *
 * The protocol is newline-delimited JSON, one request per line, one answer per
 * request. No request returns an identity: `add` puts one in, `unwrap` gets a
 * sops entry's payload (the data key or a Shamir share) out.
 */
import { lstatSync } from "node:fs"
import { createPrivateKey, timingSafeEqual } from "node:crypto"
import { join } from "node:path"

import { FormatError } from "../errors.js"
import { formatSshPublicKey, parseSshPublicKey, type SshPrivateKey } from "../keys/ssh-parse.js"

type Env = Readonly<Record<string, string | undefined>>

/** An identity the command line unlocked the slow way, to keep in the agent. */
export type UnlockedIdentity =
    /** A key file's text (from a passphrase-protected age file, or from 1Password). */
    | { readonly kind: "keys"; readonly source: string; readonly text: string }
    /**
     * A passphrase-protected SSH key once unlocked: its public key line and its
     * private half (an ed25519 seed, or an RSA key as PKCS#8 DER), base64. Unlocked
     * here, not by the agent: the passphrase never leaves the command, and the
     * agent does not run the slow KDF a second time.
     */
    | { readonly kind: "ssh"; readonly source: string; readonly publicKey: string; readonly secret: string }

export type AgentRequest =
    | { readonly op: "unwrap"; readonly enc: string; readonly recipient?: string }
    | { readonly op: "add"; readonly identity: UnlockedIdentity }
    | { readonly op: "status" }
    | { readonly op: "lock" }
    | { readonly op: "stop" }

/** One line is at most this long: an RSA-4096 key is ~3.4 KB, a post-quantum entry ~2 KB. */
export const MAX_LINE = 64 * 1024
/** Requests per connection, connections at once, identity sources held: bounds on what a client can make the agent do. */
export const MAX_REQUESTS = 10_000
export const MAX_CONNECTIONS = 32
export const MAX_SOURCES = 64

export const SOCKET_NAME = "agent.sock"
export const COOKIE_NAME = "agent.cookie"

/**
 * `$XDG_RUNTIME_DIR/secrets`, else `${TMPDIR:-/tmp}/secrets-<uid>` (as tmux
 * does). Undefined where there are no uids (Windows): no agent there.
 */
export function agentDir(env: Env): string | undefined {
    const uid = process.getuid?.()
    if (uid === undefined) return undefined
    const runtime = env.XDG_RUNTIME_DIR
    if (runtime !== undefined && runtime.startsWith("/")) return join(runtime, "secrets")
    const tmp = env.TMPDIR !== undefined && env.TMPDIR.startsWith("/") ? env.TMPDIR : "/tmp"
    return join(tmp, `secrets-${uid}`)
}

/**
 * Why `dir` must not hold the agent's socket, or undefined when it may: it must
 * be a real directory (not a link), ours, and closed to everyone else.
 */
export function privateDirProblem(dir: string, uid: number): string | undefined {
    const st = lstatSync(dir, { throwIfNoEntry: false })
    if (st === undefined) return `${dir} does not exist`
    if (!st.isDirectory()) return `${dir} is not a directory`
    if (st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not to you (uid ${uid})`
    if ((st.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); it must be 0700`
    return undefined
}

/** The socket itself: a socket, ours, and 0600 (no group or other bits). */
export function socketProblem(path: string, uid: number): string | undefined {
    const st = lstatSync(path, { throwIfNoEntry: false })
    if (st === undefined) return `${path} does not exist`
    if (!st.isSocket()) return `${path} is not a socket`
    if (st.uid !== uid) return `${path} belongs to uid ${st.uid}, not to you (uid ${uid})`
    if ((st.mode & 0o077) !== 0) return `${path} is open to other users (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`
    return undefined
}

/** Compare a cookie sent by a client with ours in constant time (a timing leak would let it be guessed byte by byte). */
export function cookieMatches(sent: unknown, ours: Buffer): boolean {
    if (typeof sent !== "string") return false
    const bytes = Buffer.from(sent, "utf8")
    // timingSafeEqual needs equal lengths; the length of ours is no secret (64 hex digits).
    return bytes.length === ours.length && timingSafeEqual(bytes, ours)
}

/** A request line, checked field by field; a string error for anything else. */
export function parseRequest(line: string): AgentRequest | { readonly error: string } {
    let data: unknown
    try {
        data = JSON.parse(line)
    } catch {
        return { error: "not JSON" }
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) return { error: "not an object" }
    const r = data as Record<string, unknown>
    switch (r.op) {
        case "status":
        case "lock":
        case "stop":
            return { op: r.op }
        case "unwrap":
            if (!isText(r.enc)) return { error: "unwrap needs enc" }
            if (r.recipient !== undefined && !isText(r.recipient)) return { error: "recipient must be a string" }
            return r.recipient === undefined ? { op: "unwrap", enc: r.enc } : { op: "unwrap", enc: r.enc, recipient: r.recipient }
        case "add": {
            const id = unlockedIdentity(r.identity)
            return id === undefined ? { error: "add needs an identity" } : { op: "add", identity: id }
        }
        default:
            return { error: "unknown op" }
    }
}

function unlockedIdentity(v: unknown): UnlockedIdentity | undefined {
    if (typeof v !== "object" || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isText(o.source)) return undefined
    if (o.kind === "keys") return isText(o.text) ? { kind: "keys", source: o.source, text: o.text } : undefined
    if (o.kind !== "ssh" || !isText(o.publicKey) || !isText(o.secret)) return undefined
    return { kind: "ssh", source: o.source, publicKey: o.publicKey, secret: o.secret }
}

/** What the command line sends for an SSH key it unlocked. */
export function unlockedSshKey(source: string, key: SshPrivateKey): UnlockedIdentity {
    const secret = key.type === "ssh-ed25519" ? Buffer.from(key.seed) : key.key.export({ format: "der", type: "pkcs8" })
    return { kind: "ssh", source, publicKey: formatSshPublicKey(key.publicKey), secret: secret.toString("base64") }
}

/** The agent's side: the key back from {@link unlockedSshKey}'s fields. Throws FormatError for a malformed one. */
export function sshKeyOf(u: UnlockedIdentity & { kind: "ssh" }): SshPrivateKey {
    const publicKey = parseSshPublicKey(u.publicKey)
    const secret = Buffer.from(u.secret, "base64")
    if (publicKey.type === "ssh-ed25519") {
        if (secret.length !== 32) throw new FormatError(`${u.source}: an ed25519 seed is 32 bytes`)
        return { type: "ssh-ed25519", publicKey, seed: new Uint8Array(secret) }
    }
    try {
        return { type: "ssh-rsa", publicKey, key: createPrivateKey({ key: secret, format: "der", type: "pkcs8" }) }
    } catch {
        throw new FormatError(`${u.source}: not an RSA private key`)
    } finally {
        secret.fill(0)
    }
}

function isText(v: unknown): v is string {
    return typeof v === "string" && v !== ""
}
