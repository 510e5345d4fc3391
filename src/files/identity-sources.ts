/**
 * Where age identities come from when decrypting (sops-format.md §9). Every source
 * is read and all identities are combined, in sops's order: SSH keys, then
 * `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, then our own 1Password
 * references (`--age-key-op`, `SECRETS_AGE_KEY_OP`; issue 5 §4), then the default
 * `keys.txt`. The repository's `secrets.age_key_op` is apart
 * ({@link collectConfigOpIdentities}): a cloned repo must not be able to make every
 * decrypt run `op` (a prompt, a network call, a service account's read quota), so
 * it is read only when nothing local opened the file (issue 10 §9). As in sops (age/keysource.go loadIdentities), a broken source does
 * not stop the others: it becomes a warning, and only if no identity opens the
 * data key does the user see the whole list of places looked in (exit 128).
 *
 * The outside world comes in through {@link IdentityContext}, so this file reads no
 * environment, file or terminal of its own and is tested with fakes.
 */
import { posix, win32 } from "node:path"

import { NoIdentityError, SecretsError } from "../errors.js"
import type { AgeIdentity } from "../keys/age.js"
import { isOpReference } from "../integrations/op-reference.js"
import { decryptIdentityFile, isPassphraseProtected, parseIdentities, parseSshKeyIdentities } from "../keys/identity-file.js"
import { isLockedPemKey, isSshPrivateKey } from "../keys/ssh-parse.js"
import type { SshPrivateKey } from "../keys/ssh-parse.js"
import { unlockedSshKey, type UnlockedIdentity } from "./agent-protocol.js"

type Env = Readonly<Record<string, string | undefined>>

/** What {@link collectIdentities} needs from the outside. */
export interface IdentityContext {
    readonly env: Env
    /** The user's home directory (`os.homedir()`). */
    readonly homedir: string
    /** `process.platform`. */
    readonly platform: string
    readFile(path: string): Promise<Uint8Array | string>
    exists(path: string): Promise<boolean>
    /** integrations/key-command's runKeyCommand, or a fake. */
    runKeyCommand(cmd: string, env: Env, recipient?: string): Promise<string>
    /** Present only when a terminal can ask: then passphrase-protected identity files are opened. */
    promptPassphrase?(source: string): Promise<string>
    /**
     * The file's age recipients. sops runs a key command once per recipient it tries,
     * with `SOPS_AGE_RECIPIENT` set; we run it once per recipient given here and
     * combine the results. Without recipients it runs once, without the variable.
     */
    readonly recipients?: readonly string[]
    /** `--age-key-op` values, in the order given. */
    readonly ageKeyOpFlags?: readonly string[]
    /**
     * The raw `secrets.age_key_op` of the governing `.sops.yaml` and that file's path.
     * Raw because config/schema.ts leaves the `secrets:` record unchecked; it is
     * validated here (a reference, or a list of references).
     */
    readonly configAgeKeyOp?: { readonly path: string; readonly value: unknown }
    /**
     * `op read` of a reference: the value exactly as stored. Called only when a
     * 1Password source is configured; absent, such a source is reported unusable.
     */
    readOpReference?(reference: string): Promise<string>
    /**
     * Given an identity that cost a prompt or an `op read` once it is unlocked, to
     * keep in a running agent (docs/agent.md); absent without one. Never throws.
     */
    rememberUnlocked?(identity: UnlockedIdentity): Promise<void>
}

/** Every identity found, every place considered (annotated), and what went wrong. */
export interface CollectedIdentities {
    readonly identities: AgeIdentity[]
    /** E.g. `SOPS_AGE_KEY (not set)`, `/home/u/.ssh/id_rsa (not found)`, `SOPS_AGE_KEY_FILE=/k.txt (2 keys)`. */
    readonly lookedIn: string[]
    /** One line per source that could not be used; never contains key material. */
    readonly warnings: string[]
    /**
     * Filled later, while data keys are unwrapped: a passphrase-protected SSH key
     * that a file needed but that stayed locked (no terminal, wrong passphrase).
     * For the exit-128 error's hints.
     */
    readonly deferred: string[]
    /** Where each identity came from (its looked-in place), for `--verbose`'s "opened with". */
    readonly origins: Map<AgeIdentity, string>
}

/** Gather identities from every source, in sops's order (§9). */
export async function collectIdentities(ctx: IdentityContext): Promise<CollectedIdentities> {
    const out: Collector = { identities: [], lookedIn: [], warnings: [], deferred: [], origins: new Map() }
    const join = ctx.platform === "win32" ? win32.join : posix.join

    // 1. SSH keys: the variables, then ~/.ssh/id_ed25519 and ~/.ssh/id_rsa if they exist.
    await fileVariable(ctx, out, "SOPS_AGE_SSH_PRIVATE_KEY_FILE")
    await commandVariable(ctx, out, "SOPS_AGE_SSH_PRIVATE_KEY_CMD")
    if (ctx.homedir === "") {
        out.lookedIn.push("~/.ssh (home directory unknown)")
    } else {
        for (const name of ["id_ed25519", "id_rsa"]) await optionalFile(ctx, out, join(ctx.homedir, ".ssh", name))
    }
    // 2.–4. The age variables.
    const key = ctx.env.SOPS_AGE_KEY
    if (key === undefined) out.lookedIn.push("SOPS_AGE_KEY (not set)")
    else await fromContent(ctx, out, "SOPS_AGE_KEY", "SOPS_AGE_KEY", key, splitKeysPerLine)
    await fileVariable(ctx, out, "SOPS_AGE_KEY_FILE")
    await commandVariable(ctx, out, "SOPS_AGE_KEY_CMD")
    // 4b. 1Password: not a sops source, so after all of sops's variables, and before the
    // default file so that its "not found" stays the last, most actionable entry.
    await opSources(ctx, out)
    // 5. The default key file, read whenever it exists.
    const def = defaultKeyFile(ctx.env, ctx.homedir, ctx.platform)
    if ("problem" in def) out.lookedIn.push(`default key file (${def.problem})`)
    else await optionalFile(ctx, out, def.path)
    return out
}

/**
 * The exit-128 error once no identity opened the data key: the engine's error
 * (which names the file's recipients), why a needed SSH key stayed locked, every
 * place looked in, and `advice`. (Warnings were printed when they were found.)
 */
export function explainNoIdentity(e: NoIdentityError, found: CollectedIdentities, advice: string): NoIdentityError {
    return new NoIdentityError(e.detail, [...e.hints, ...found.deferred, `looked for identities in: ${found.lookedIn.join("; ")}`, advice])
}

/**
 * `<UserConfigDir>/sops/age/keys.txt`: Go's os.UserConfigDir, except that on macOS
 * sops prefers `$XDG_CONFIG_HOME` when set (age/keysource.go getUserConfigDir).
 */
export function defaultKeyFile(env: Env, homedir: string, platform: string): { path: string } | { problem: string } {
    if (platform === "win32") {
        const appData = env.AppData ?? env.APPDATA
        if (appData === undefined || appData === "") return { problem: "%AppData% is not set" }
        return { path: win32.join(appData, "sops", "age", "keys.txt") }
    }
    const xdg = env.XDG_CONFIG_HOME ?? ""
    if (platform === "darwin") {
        if (xdg !== "") return { path: posix.join(xdg, "sops", "age", "keys.txt") }
        if (homedir === "") return { problem: "home directory unknown" }
        return { path: posix.join(homedir, "Library", "Application Support", "sops", "age", "keys.txt") }
    }
    if (xdg !== "") {
        // Go refuses a relative $XDG_CONFIG_HOME, and sops then skips the default file.
        if (!xdg.startsWith("/")) return { problem: "$XDG_CONFIG_HOME is not an absolute path" }
        return { path: posix.join(xdg, "sops", "age", "keys.txt") }
    }
    if (homedir === "") return { problem: "home directory unknown" }
    return { path: posix.join(homedir, ".config", "sops", "age", "keys.txt") }
}

/**
 * sops 3.13 lets each line of `SOPS_AGE_KEY` hold several identities separated by
 * whitespace (handy for CI secrets pasted on one line); comment lines stay whole.
 */
function splitKeysPerLine(text: string): string {
    return text
        .split("\n")
        .flatMap((line) => (line.trimStart().startsWith("#") ? [line] : line.split(/\s+/).filter((w) => w !== "")))
        .join("\n")
}

interface Collector {
    identities: AgeIdentity[]
    lookedIn: string[]
    warnings: string[]
    deferred: string[]
    origins: Map<AgeIdentity, string>
}

function found(out: Collector, ids: readonly AgeIdentity[], origin: string): void {
    out.identities.push(...ids)
    for (const id of ids) if (!out.origins.has(id)) out.origins.set(id, origin)
}

async function fileVariable(ctx: IdentityContext, out: Collector, variable: string): Promise<void> {
    const path = ctx.env[variable]
    if (path === undefined || path === "") {
        out.lookedIn.push(`${variable} (${path === undefined ? "not set" : "empty"})`)
        return
    }
    const place = `${variable}=${path}`
    if (!(await ctx.exists(path))) {
        out.lookedIn.push(`${place} (not found)`)
        out.warnings.push(`${variable} names ${JSON.stringify(path)}, which does not exist`)
        return
    }
    const content = await read(ctx, out, place, path)
    if (content !== null) await fromContent(ctx, out, place, path, content, undefined, path)
}

async function optionalFile(ctx: IdentityContext, out: Collector, path: string): Promise<void> {
    if (!(await ctx.exists(path))) {
        out.lookedIn.push(`${path} (not found)`)
        return
    }
    const content = await read(ctx, out, path, path)
    if (content !== null) await fromContent(ctx, out, path, path, content, undefined, path)
}

async function commandVariable(ctx: IdentityContext, out: Collector, variable: string): Promise<void> {
    const cmd = ctx.env[variable]
    if (cmd === undefined || cmd.trim() === "") {
        out.lookedIn.push(`${variable} (${cmd === undefined ? "not set" : "empty"})`)
        return
    }
    const runs: (string | undefined)[] = ctx.recipients !== undefined && ctx.recipients.length > 0 ? [...ctx.recipients] : [undefined]
    let found = 0
    let failed = 0
    for (const recipient of runs) {
        let stdout: string
        try {
            stdout = await ctx.runKeyCommand(cmd, ctx.env, recipient)
        } catch (e) {
            failed++
            out.warnings.push(`${variable}: ${describe(e)}`)
            continue
        }
        const before = out.identities.length
        // Output is parsed but not counted in lookedIn per run: one line per variable.
        await fromContent(ctx, out, null, variable, stdout)
        found += out.identities.length - before
    }
    out.lookedIn.push(`${variable} (${failed === runs.length ? "failed" : count(found)})`)
}

async function read(ctx: IdentityContext, out: Collector, place: string, path: string): Promise<Uint8Array | string | null> {
    try {
        return await ctx.readFile(path)
    } catch (e) {
        out.lookedIn.push(`${place} (unreadable)`)
        out.warnings.push(`could not read ${JSON.stringify(path)}: ${describe(e)}`)
        return null
    }
}

/**
 * Parse one source's content and record it. `place` is the lookedIn entry (null:
 * the caller records it); `source` names the source inside parse messages;
 * `keyPath` is set for files, whose SSH keys may have a `.pub` beside them.
 */
async function fromContent(
    ctx: IdentityContext,
    out: Collector,
    place: string | null,
    source: string,
    content: Uint8Array | string,
    preprocess: (text: string) => string = (t) => t,
    keyPath?: string,
): Promise<void> {
    const note = (s: string): void => {
        if (place !== null) out.lookedIn.push(`${place} (${s})`)
    }
    let text: string
    if (isPassphraseProtected(content)) {
        if (ctx.promptPassphrase === undefined) {
            note("passphrase-protected, skipped")
            out.warnings.push(`${source} is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal`)
            return
        }
        const passphrase = await ctx.promptPassphrase(source)
        try {
            text = await decryptIdentityFile(content, passphrase, source)
        } catch (e) {
            note("could not be decrypted")
            out.warnings.push(describe(e))
            return
        }
        await ctx.rememberUnlocked?.({ kind: "keys", source, text })
    } else {
        text = typeof content === "string" ? content : new TextDecoder().decode(content)
    }
    if (isSshPrivateKey(text)) {
        await fromSshKey(ctx, out, note, source, text, keyPath)
        return
    }
    try {
        const ids = parseIdentities(preprocess(text), source)
        found(out, ids, place ?? source)
        note(count(ids.length))
    } catch (e) {
        note("invalid")
        out.warnings.push(describe(e))
    }
}

/**
 * An SSH private key file: its SSH identity and, for ed25519, the X25519 twin
 * (keys/ssh-lazy.ts). A passphrase-protected key is asked for its passphrase
 * only when a file turns out to be encrypted to it, so a locked ~/.ssh/id_ed25519
 * costs nothing on decrypts that do not need it.
 */
async function fromSshKey(
    ctx: IdentityContext,
    out: Collector,
    note: (s: string) => void,
    source: string,
    text: string,
    keyPath: string | undefined,
): Promise<void> {
    let sshPublicKeyLine: string | undefined
    if (keyPath !== undefined && isLockedPemKey(text)) {
        try {
            const pub = await ctx.readFile(`${keyPath}.pub`)
            sshPublicKeyLine = typeof pub === "string" ? pub : new TextDecoder().decode(pub)
        } catch {
            // Reported by parseIdentities, which names the missing .pub.
        }
    }
    const sshUnlock = {
        ...(ctx.promptPassphrase !== undefined ? { askPassphrase: ctx.promptPassphrase.bind(ctx) } : {}),
        report: (message: string) => out.deferred.push(message),
        ...(ctx.rememberUnlocked !== undefined
            ? { unlocked: (key: SshPrivateKey) => ctx.rememberUnlocked!(unlockedSshKey(source, key)) }
            : {}),
    }
    try {
        const { identities, label } = parseSshKeyIdentities(text, source, { sshUnlock, ...(sshPublicKeyLine !== undefined ? { sshPublicKeyLine } : {}) })
        found(out, identities, source)
        note(label)
    } catch (e) {
        note("invalid")
        out.warnings.push(describe(e))
    }
}

/**
 * The 1Password sources, listed only when configured so that users without
 * 1Password see sops's list unchanged. Each distinct reference is read once: a
 * service account's hourly read quota is small (op-cli.md §8), and CI decrypts often.
 * A failed read is one more warning, as for sops's sources; its hint (sign in, set
 * OP_SERVICE_ACCOUNT_TOKEN, fix the reference) goes into the looked-in entry because
 * that list is what the exit-128 error shows.
 */
async function opSources(ctx: IdentityContext, out: Collector): Promise<void> {
    await readOpSettings(ctx, out, userOpSettings(ctx), new Set())
}

/**
 * The repository's `secrets.age_key_op`, for a second try once the identities of
 * {@link collectIdentities} opened nothing. A reference the user also gave (flag,
 * variable) was read then, and is only listed as such here.
 */
export async function collectConfigOpIdentities(ctx: IdentityContext): Promise<CollectedIdentities> {
    const out: Collector = { identities: [], lookedIn: [], warnings: [], deferred: [], origins: new Map() }
    const readBefore = new Set(userOpSettings(ctx).flatMap((s) => (s.ref !== undefined && isOpReference(s.ref) ? [s.ref] : [])))
    await readOpSettings(ctx, out, configOpSettings(ctx), readBefore)
    return out
}

/** `name` is where a setting came from; `ref` is undefined for an invalid config value. */
type OpSetting = { readonly name: string; readonly ref: string | undefined }

/** The user's own settings: `--age-key-op`, then `SECRETS_AGE_KEY_OP`. */
function userOpSettings(ctx: IdentityContext): OpSetting[] {
    const settings: OpSetting[] = []
    for (const flag of ctx.ageKeyOpFlags ?? []) settings.push({ name: "--age-key-op", ref: flag.trim() })
    const env = ctx.env.SECRETS_AGE_KEY_OP?.trim()
    if (env !== undefined && env !== "") settings.push({ name: "SECRETS_AGE_KEY_OP", ref: env })
    return settings
}

function configOpSettings(ctx: IdentityContext): OpSetting[] {
    if (ctx.configAgeKeyOp === undefined) return []
    const { path, value } = ctx.configAgeKeyOp
    const name = `${path} secrets.age_key_op`
    const refs = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined
    return refs === undefined ? [{ name, ref: undefined }] : refs.map((ref) => ({ name, ref: ref.trim() }))
}

async function readOpSettings(ctx: IdentityContext, out: Collector, settings: readonly OpSetting[], seen: Set<string>): Promise<void> {
    for (const { name, ref } of settings) {
        if (ref === undefined) {
            out.lookedIn.push(`${name} (invalid)`)
            out.warnings.push(`${name} must be an op:// reference or a list of them`)
            continue
        }
        if (!isOpReference(ref)) {
            // Not echoed: a text that is not a reference may be a key pasted in by mistake.
            out.lookedIn.push(`${name} (not an op:// reference)`)
            out.warnings.push(`${name}: expected a secret reference such as op://vault/item/field`)
            continue
        }
        const place = `${name}=${ref}`
        if (seen.has(ref)) {
            out.lookedIn.push(`${place} (read above)`)
            continue
        }
        seen.add(ref)
        if (ctx.readOpReference === undefined) {
            out.lookedIn.push(`${place} (1Password not available)`)
            continue
        }
        let text: string
        try {
            text = await ctx.readOpReference(ref)
        } catch (e) {
            // op's own words ("op said: …") stay in the warning; our hints say what to do.
            const hints = e instanceof SecretsError ? e.hints.filter((h) => !h.startsWith("op said:")) : []
            out.lookedIn.push(`${place} (failed${hints.length === 0 ? "" : `: ${hints.join("; ")}`})`)
            out.warnings.push(`${place}: ${describe(e)}`)
            continue
        }
        // Worth keeping: each read may be a Touch ID prompt or a service account's quota.
        // A passphrase-protected one is kept once opened, by fromContent.
        if (!isPassphraseProtected(text)) await ctx.rememberUnlocked?.({ kind: "keys", source: place, text })
        await fromContent(ctx, out, place, place, text)
    }
}

function count(n: number): string {
    return n === 0 ? "no keys" : n === 1 ? "1 key" : `${n} keys`
}

/** Our own errors carry safe messages; anything else is reduced to its code or name, never its text. */
function describe(e: unknown): string {
    if (e instanceof SecretsError) return e.message
    const code = (e as { code?: unknown } | null)?.code
    if (typeof code === "string") return code
    return e instanceof Error ? e.name : "unknown error"
}
