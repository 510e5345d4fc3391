/**
 * The Node.js side of identity lookup: real files, the home directory, the key
 * command runner, 1Password through `op read`, and a passphrase prompt only when a
 * terminal can answer it.
 */
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { resolve } from "node:path"
import { findConfig } from "../config/find.js"
import type { OpClient } from "../integrations/op-types.js"
import { NoIdentityError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import { collectConfigOpIdentities, collectIdentities, explainNoIdentity, type CollectedIdentities, type IdentityContext } from "./identity-sources.js"
import type { Io } from "./io.js"
import { identityOptionsOf } from "./identity-options.js"
import { warn } from "./diagnostics.js"
import { runningAgent } from "./agent-client.js"
import { trace, traceOn } from "./trace.js"

/**
 * Run `attempt` (open a file, recover a data key) with the user's identities. Only
 * when none of them opens it (NoIdentityError) is the repository's
 * `secrets.age_key_op` read and tried (issue 10 §9): a repo may name where its key
 * lives, but must not make every decrypt of a user who has the key locally call
 * `op`. The exit-128 error lists every place looked in, both rounds.
 */
export async function withIdentities<T>(io: Io, recipients: readonly string[], advice: string, attempt: (ids: readonly AgeIdentity[]) => Promise<T>): Promise<T> {
    // A running agent first (docs/agent.md): collecting identities may prompt. On a
    // miss (or no agent answering) everything below runs as without one.
    const agent = runningAgent(io.env)
    if (agent !== undefined) {
        try {
            const result = await attempt([agent.identity])
            trace(io, "identities: opened by the agent")
            return result
        } catch (e) {
            if (!(e instanceof NoIdentityError)) throw e
            trace(io, "identities: the agent holds no key of this file")
        }
    }
    const ctx = await identityContext(io, recipients)
    if (agent !== undefined) ctx.rememberUnlocked = agent.remember
    const first = await collectIdentities(ctx)
    for (const w of first.warnings) warn(io, w)
    traceSources(io, first.lookedIn)
    try {
        const result = await attempt(first.identities)
        if (traceOn(io)) await traceOpener(io, first, recipients)
        return result
    } catch (e) {
        if (!(e instanceof NoIdentityError)) throw e
        if (ctx.configAgeKeyOp === undefined) throw explainNoIdentity(e, first, advice)
    }
    trace(io, "identities: none of these opened it; trying the repository's secrets.age_key_op")
    const extra = await collectConfigOpIdentities(ctx)
    for (const w of extra.warnings) warn(io, w)
    traceSources(io, extra.lookedIn)
    const both: CollectedIdentities = {
        identities: [...first.identities, ...extra.identities],
        lookedIn: [...first.lookedIn, ...extra.lookedIn],
        warnings: [...first.warnings, ...extra.warnings],
        deferred: first.deferred,
        origins: new Map([...extra.origins, ...first.origins]),
    }
    try {
        const result = await attempt(both.identities)
        if (traceOn(io)) await traceOpener(io, both, recipients)
        return result
    } catch (e) {
        throw e instanceof NoIdentityError ? explainNoIdentity(e, both, advice) : e
    }
}

/**
 * The files and home directory of this machine, and nothing that runs or asks:
 * key commands are refused. The lookup's base, and on its own the side-effect-free
 * check of caller-can-open.ts.
 */
export function localIdentityContext(io: Io): IdentityContext {
    return {
        env: io.env,
        homedir: homedir(),
        platform: process.platform,
        // Synchronous on purpose: key files are small, and node:fs/promises (which loads
        // readline's internals) costs a plain decrypt ~2 ms of start-up (issue 14 target 2).
        // existsSync is access(F_OK), as before.
        readFile: async (p) => readFileSync(p),
        exists: async (p) => existsSync(p),
        runKeyCommand: () => Promise.reject(new Error("key commands are not run here")),
    }
}

async function identityContext(io: Io, recipients: readonly string[]): Promise<IdentityContext> {
    const idOpts = identityOptionsOf(io)
    const configAgeKeyOp = await configReference(io, idOpts.file, idOpts.config)
    const promptPassphrase = async (source: string) => {
        const { password } = await import("@inquirer/prompts")
        // On stderr: stdout may be the decrypted file going to a pipe or a file.
        // The fast path's stderr is a plain writer (cli/hot/io.ts) that hands out its stream.
        const output = (io.stderr as { stream?: NodeJS.WritableStream }).stream ?? (io.stderr as unknown as NodeJS.WritableStream)
        return password({ message: `passphrase for ${source}`, mask: true }, { input: io.stdin, output })
    }
    // Whether a terminal can ask, decided on first use: only a locked key needs it, and
    // reading process.stdin's isTTY builds the stream (a socket on a pipe), which a
    // plain decrypt never otherwise touches (issue 14 target 2). stderr first, so a
    // script's decrypt (stderr not a terminal) never builds stdin at all.
    let interactive: boolean | undefined
    const ctx: IdentityContext = {
        ...localIdentityContext(io),
        runKeyCommand: async (cmd, env, recipient) => (await import("../integrations/key-command.js")).runKeyCommand(cmd, env, recipient),
        recipients,
        ...(idOpts.ageKeyOp !== undefined ? { ageKeyOpFlags: idOpts.ageKeyOp } : {}),
        ...(configAgeKeyOp !== undefined ? { configAgeKeyOp } : {}),
        readOpReference: async (ref) => (await opClientFor(io)).read(ref),
    }
    Object.defineProperty(ctx, "promptPassphrase", {
        get: () => ((interactive ??= io.stderr.isTTY === true && io.stdin.isTTY === true) ? promptPassphrase : undefined),
        enumerable: true,
    })
    return ctx
}

/**
 * One client per environment, so that a command that opens several files (rotate
 * --due, updatekeys) still runs `op read` once per reference: the client caches.
 */
const clients = new WeakMap<object, Promise<OpClient>>()

function opClientFor(io: Io): Promise<OpClient> {
    let client = clients.get(io.env)
    if (client === undefined) {
        client = import("../integrations/op.js").then((m) => m.opClientFromEnv(io.env))
        clients.set(io.env, client)
    }
    return client
}

/**
 * `secrets.age_key_op` from the `.sops.yaml` that governs the file (found as for
 * encryption: from the file's directory, then the cwd). Decrypting never needed the
 * config before, so a config that is broken elsewhere must not break decryption:
 * only the one key is read, without the schema, and a file that does not mention it
 * is not even parsed.
 */
async function configReference(io: Io, file: string | undefined, explicit: string | undefined): Promise<{ path: string; value: unknown } | undefined> {
    let path: string | undefined
    let text: string
    try {
        // The search of encryption (config/find.ts), not its parser: that loads zod.
        const found = findConfig({ cwd: io.cwd, filePath: file, explicit, exists: existsSync })
        path = found === undefined ? undefined : resolve(io.cwd, found)
        if (path === undefined) return undefined
        trace(io, `config: ${path} (opening a file reads only its secrets.age_key_op)`)
        text = readFileSync(path, "utf8")
    } catch {
        return undefined
    }
    if (!text.includes("age_key_op")) return undefined
    const value = await rawAgeKeyOp(text)
    return value === undefined ? undefined : { path, value }
}

/** `secrets.age_key_op` of the first YAML document, as written; undefined when absent or unreadable. */
async function rawAgeKeyOp(text: string): Promise<unknown> {
    const { parseDocument } = await import("yaml")
    let data: unknown
    try {
        data = parseDocument(text, { uniqueKeys: false, logLevel: "error" }).toJS()
    } catch {
        return undefined
    }
    const secrets = typeof data === "object" && data !== null ? (data as Record<string, unknown>).secrets : undefined
    if (typeof secrets !== "object" || secrets === null) return undefined
    return (secrets as Record<string, unknown>).age_key_op
}

function traceSources(io: Io, lookedIn: readonly string[]): void {
    for (const place of lookedIn) trace(io, `identities: ${place}`)
}

/**
 * `--verbose`: which identity opened the file. The engine tries every identity on
 * the file's stanzas; the one that fits is the one whose public key is among the
 * file's recipients, which is found here without unwrapping anything again.
 */
async function traceOpener(io: Io, collected: CollectedIdentities, recipients: readonly string[]): Promise<void> {
    // Lazily, as the rest of this trace: names come from the `yaml` package, which
    // a plain decrypt does not otherwise load.
    const { recipientKey, recipientOfIdentity } = await import("./caller-can-open.js")
    const { recipientNamer } = await import("./recipient-names.js")
    const wanted = new Set(recipients.map(recipientKey))
    const name = recipientNamer(governingConfig(io))
    for (const id of collected.identities) {
        const recipient = await recipientOfIdentity(id)
        if (recipient === undefined || !wanted.has(recipientKey(recipient))) continue
        trace(io, `identities: opened with the key of ${name(recipient)}, from ${collected.origins.get(id) ?? "an unknown source"}`)
        return
    }
    trace(io, "identities: opened (by a key whose recipient could not be derived)")
}

/** The `.sops.yaml` that governs the file being opened (or the cwd), if any. */
export function governingConfig(io: Io, where: { readonly file?: string; readonly config?: string } = identityOptionsOf(io)): string | undefined {
    try {
        const found = findConfig({ cwd: io.cwd, filePath: where.file, explicit: where.config, exists: existsSync })
        return found === undefined ? undefined : resolve(io.cwd, found)
    } catch {
        return undefined
    }
}
