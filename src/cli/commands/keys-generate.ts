/**
 * `secrets keys generate`: a new age identity, like age-keygen (issue 4 §3). The
 * recipient goes to stdout, the identity to `--output FILE` (created 0600, never
 * overwritten) or is appended to sops' default key file (sops-format.md §9), whose
 * existing lines are kept byte for byte. `--pq` makes a hybrid post-quantum key,
 * `--ssh FILE` derives the X25519 key from an ed25519 SSH private key as
 * Mic92/ssh-to-age does for sops-nix hosts.
 */
import { Command, Option } from "commander"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface GenerateOptions {
    pq?: boolean
    ssh?: string
    output?: string
    json?: boolean
}

export function registerKeysGenerate(keys: Command, ctx: CommandContext): void {
    keys.command("generate")
        .description("generate an age identity: the recipient on stdout, the identity in your key file (or --output)")
        .addOption(new Option("--pq", "a hybrid post-quantum identity (ML-KEM-768 + X25519, age1pq1…)"))
        .addOption(new Option("--ssh <file>", "derive the identity from an ed25519 SSH private key (as ssh-to-age does)"))
        .addOption(new Option("-o, --output <file>", "write the identity to this new file (0600) instead of the default key file"))
        .addOption(new Option("--json", "print {recipient, type, file} as JSON"))
        .action(async (_opts: GenerateOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<GenerateOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("keys generate", [], opts, async () => {
                await runKeysGenerate(ctx, opts)
            })
        })
}

/** What was generated and where it went. */
export interface GenerateResult {
    readonly recipient: string
    readonly type: "x25519" | "pq"
    readonly file: string
}

export async function runKeysGenerate(ctx: CommandContext, opts: GenerateOptions): Promise<GenerateResult> {
    const { io } = ctx
    const { resolve } = await import("node:path")
    const { info } = await import("../report.js")
    if (opts.pq === true && opts.ssh !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--pq and --ssh cannot be combined", ["an ed25519 SSH key converts to an X25519 age key only"])
    }
    const pair = await makePair(io, opts)
    const type = pair.identity.startsWith("AGE-SECRET-KEY-PQ-1") ? "pq" : "x25519"
    const block = keyBlock(io, pair, opts.ssh === undefined ? undefined : resolve(io.cwd, opts.ssh))

    let file: string
    if (opts.output !== undefined) {
        file = resolve(io.cwd, opts.output)
        await writeNew(file, block)
        info(io, `wrote the identity to ${quote(opts.output)} (mode 0600)`)
    } else {
        file = await defaultPath(io)
        const appended = await appendToKeyFile(file, block, pair.recipient)
        info(io, appended ? `added the identity to ${quote(file)}` : `${quote(file)} already has this identity: nothing written`)
    }
    const result: GenerateResult = { recipient: pair.recipient, type, file }
    io.stdout.write(opts.json === true ? `${JSON.stringify(result)}\n` : `${pair.recipient}\n`)
    return result
}

async function makePair(io: Io, opts: GenerateOptions): Promise<{ identity: string; recipient: string }> {
    const age = await import("../../keys/age.js")
    if (opts.ssh === undefined) return opts.pq === true ? age.generatePqIdentity() : age.generateX25519Identity()
    const { readFile } = await import("node:fs/promises")
    const { resolve } = await import("node:path")
    const { sshEd25519PrivateToAgeIdentity } = await import("../../keys/ssh-to-age.js")
    const { identityToRecipient } = await import("age-encryption")
    let text: string
    try {
        text = await readFile(resolve(io.cwd, opts.ssh), "utf8")
    } catch (e) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(opts.ssh)}: ${(e as { code?: string }).code ?? "error"}`)
    }
    let identity: string
    try {
        identity = sshEd25519PrivateToAgeIdentity(text, opts.ssh)
    } catch (e) {
        if (e instanceof SecretsError) throw e.about(quote(opts.ssh))
        throw e
    }
    return { identity, recipient: await identityToRecipient(identity) }
}

/** age-keygen's layout: `# created:` (RFC 3339, seconds), `# public key:`, the identity. */
function keyBlock(io: Io, pair: { identity: string; recipient: string }, sshFile: string | undefined): string {
    const created = io.now().toISOString().replace(/\.\d{3}Z$/, "Z")
    const from = sshFile === undefined ? "" : `# derived from ssh key: ${sshFile.replace(/[\r\n]/g, "")}\n`
    return `# created: ${created}\n${from}# public key: ${pair.recipient}\n${pair.identity}\n`
}

async function defaultPath(io: Io): Promise<string> {
    const { homedir } = await import("node:os")
    const { defaultKeyFile } = await import("../identity-sources.js")
    const def = defaultKeyFile(io.env, io.env.HOME ?? homedir(), process.platform)
    if ("problem" in def) {
        throw new ConfigError(`cannot find the default age key path: ${def.problem}`, ["pass --output FILE, or set HOME or XDG_CONFIG_HOME"])
    }
    return def.path
}

/** A new file, 0600 from its first byte; "wx" refuses one that exists (or appeared meanwhile). */
async function writeNew(path: string, text: string): Promise<void> {
    const { writeFile } = await import("node:fs/promises")
    try {
        await writeFile(path, text, { flag: "wx", mode: 0o600 })
    } catch (e) {
        const code = (e as { code?: string }).code
        if (code === "EEXIST") {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to overwrite ${quote(path)}`, ["choose another --output, or remove the file if you no longer need its key"])
        }
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not write ${quote(path)}: ${code ?? "error"}`)
    }
}

/**
 * Append to the default key file, creating it (dirs 0700, file 0600) if needed. The
 * old text stays as it was; the new text is written atomically so a crash cannot
 * leave half a key file. Returns false when the file already holds the identity
 * (the same SSH key converted twice).
 */
async function appendToKeyFile(path: string, block: string, recipient: string): Promise<boolean> {
    const { mkdir, readFile } = await import("node:fs/promises")
    const { dirname } = await import("node:path")
    let existing: string | undefined
    try {
        existing = await readFile(path, "utf8")
    } catch (e) {
        if ((e as { code?: string }).code !== "ENOENT") {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(path)}: ${(e as { code?: string }).code ?? "error"}`)
        }
    }
    if (existing === undefined) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 })
        await writeNew(path, block)
        return true
    }
    const { isPassphraseProtected, parseIdentities, identityToRecipientString } = await import("../../keys/identity-file.js")
    if (isPassphraseProtected(existing)) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(path)} is passphrase-protected: cannot add to it`, ["write the new identity with --output FILE"])
    }
    for (const id of parseIdentities(existing, path)) {
        if ((await identityToRecipientString(id)) === recipient) return false
    }
    const { writeFileAtomic } = await import("../fs-atomic.js")
    const sep = existing === "" || existing.endsWith("\n") ? "" : "\n"
    await writeFileAtomic(path, Buffer.from(existing + sep + block), { mode: 0o600 })
    return true
}
