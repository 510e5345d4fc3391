/**
 * `secrets keys generate`: a new age identity, like age-keygen (issue 4 §3). The
 * recipient goes to stdout, the identity to `--output FILE` (created 0600, never
 * overwritten) or is appended to sops' default key file (sops-format.md §9), whose
 * existing lines are kept byte for byte. `--pq` makes a hybrid post-quantum key,
 * `--ssh FILE` derives the X25519 key from an ed25519 SSH private key as
 * Mic92/ssh-to-age does for sops-nix hosts. `--store op://Vault/Item[/field]` puts
 * the identity into 1Password instead of on disk (issue 5 §4).
 */
import { Command, Option } from "commander"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { OpClient, OpField, OpItem } from "../../integrations/op-types.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface GenerateOptions {
    pq?: boolean
    ssh?: string
    output?: string
    json?: boolean
    store?: string
    force?: boolean
}

export function registerKeysGenerate(keys: Command, ctx: CommandContext): void {
    keys.command("generate")
        .description("generate an age identity: the recipient on stdout, the identity in your key file (or --output)")
        .addOption(new Option("--pq", "a hybrid post-quantum identity (ML-KEM-768 + X25519, age1pq1…)"))
        .addOption(new Option("--ssh <file>", "derive the identity from an ed25519 SSH private key (as ssh-to-age does)"))
        .addOption(new Option("-o, --output <file>", "write the identity to this new file (0600) instead of the default key file"))
        .addOption(new Option("--json", "print {recipient, type, file} (with --store: {recipient, type, reference}) as JSON"))
        .addOption(new Option("--store <ref>", "save the identity in 1Password instead, op://Vault/Item[/field] (field default: identity)"))
        .addOption(new Option("--force", "with --store: replace a different key already in that field"))
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
    /** Where the identity was written, when it went to a file. */
    readonly file?: string
    /** The `op://` reference that reads it back, when it went to 1Password. */
    readonly reference?: string
}

export async function runKeysGenerate(ctx: CommandContext, opts: GenerateOptions): Promise<GenerateResult> {
    const { io } = ctx
    const { resolve } = await import("node:path")
    const { info } = await import("../report.js")
    if (opts.pq === true && opts.ssh !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--pq and --ssh cannot be combined", ["an ed25519 SSH key converts to an X25519 age key only"])
    }
    if (opts.store !== undefined && opts.output !== undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--store and --output cannot be combined", ["the identity goes either to 1Password or to a file"])
    }
    if (opts.force === true && opts.store === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--force goes with --store", ["files are never overwritten; choose another --output"])
    }
    const target = opts.store === undefined ? undefined : parseStoreTarget(opts.store)
    const pair = await makePair(io, opts)
    const type = pair.identity.startsWith("AGE-SECRET-KEY-PQ-1") ? "pq" : "x25519"
    if (target !== undefined) {
        const reference = await storeInOp(io, target, pair, opts.force === true)
        const result: GenerateResult = { recipient: pair.recipient, type, reference }
        io.stdout.write(opts.json === true ? `${JSON.stringify(result)}\n` : `${pair.recipient}\n`)
        return result
    }
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

/** Where `--store` puts the identity. */
interface StoreTarget {
    readonly vault: string
    readonly item: string
    readonly field: string
    readonly text: string
}

/**
 * `op://Vault/Item[/field]`. Not a secret reference yet (the item may not exist and
 * two segments are allowed), so it is split here; `/` cannot occur in a name that a
 * reference can use anyway (op-cli.md §1).
 */
function parseStoreTarget(text: string): StoreTarget {
    const parts = text.startsWith("op://") ? text.slice(5).split("/") : []
    if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p.trim() === "") || text.includes("?")) {
        throw new SecretsError(ExitCode.ConflictingParameters, `--store takes op://Vault/Item or op://Vault/Item/field, not ${quote(text)}`, [
            "for example --store op://Dev/age (the identity goes into the field \"identity\")",
        ])
    }
    const [vault, item, field] = parts as [string, string, string | undefined]
    if (field !== undefined && !/^[A-Za-z0-9 ._-]+$/.test(field)) {
        // The field is read back through a reference, which cannot name it otherwise (op-cli.md §1).
        throw new SecretsError(ExitCode.ConflictingParameters, `--store: the field name ${quote(field)} has characters a secret reference cannot use`, [
            "use letters, digits, -, _, . and spaces",
        ])
    }
    return { vault, item, field: field ?? "identity", text }
}

/**
 * Save the identity into 1Password and return the reference that reads it back.
 *
 * A new item is an API Credential: a Password item cannot be created without a
 * value in its built-in password field ("Password item requires ps value",
 * op-cli.md §4), and an API Credential is what a key is. The identity goes into a
 * CONCEALED field (default `identity`), the recipient into a STRING field
 * `recipient`, and the item is tagged `secrets`. An existing item is edited with
 * its whole template (its other fields kept); a field that already holds a
 * different key is replaced only with --force. Values travel on op's stdin only.
 */
async function storeInOp(io: Io, target: StoreTarget, pair: { identity: string; recipient: string }, force: boolean): Promise<string> {
    const { opClientFromEnv } = await import("../../integrations/op.js")
    const { info } = await import("../report.js")
    const op = opClientFromEnv(io.env)
    const item = await existingItem(op, target)
    const identityField: OpField = { id: target.field, type: "CONCEALED", label: target.field, value: pair.identity }
    const recipientField: OpField = { id: "recipient", type: "STRING", label: "recipient", value: pair.recipient }
    let stored: OpItem
    if (item === undefined) {
        stored = await op.createItem(target.vault, {
            title: target.item,
            category: "API_CREDENTIAL",
            tags: ["secrets"],
            fields: target.field === "recipient" ? [identityField] : [identityField, recipientField],
        })
        info(io, `created the 1Password item ${quote(`${target.vault}/${target.item}`)} with the identity in the field ${quote(target.field)}`)
    } else {
        const fields = item.fields ?? []
        const current = fields.find((f) => isField(f, target.field))
        if (current?.value !== undefined && current.value.trim() === pair.identity) {
            const reference = readBackReference(target, item)
            info(io, `${reference} already holds this identity: nothing written`)
            return reference
        }
        if (current?.value !== undefined && current.value.trim() !== "" && !force) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to replace the key in ${target.text}`, [
                "the field already holds a different key; pass --force to replace it (files encrypted only to the old key then need re-keying first), or choose another field: op://Vault/Item/field",
            ])
        }
        const kept = fields.filter((f) => !isField(f, target.field) && !(target.field !== "recipient" && isField(f, "recipient")))
        stored = await op.editItem(target.vault, item.id, {
            title: item.title,
            category: item.category,
            tags: [...new Set([...(item.tags ?? []), "secrets"])],
            ...(item.sections !== undefined ? { sections: item.sections } : {}),
            fields: [...kept, { ...identityField, id: current?.id ?? target.field }, ...(target.field === "recipient" ? [] : [recipientField])],
        })
        info(io, `saved the identity in the field ${quote(target.field)} of the 1Password item ${quote(`${target.vault}/${target.item}`)}`)
    }
    const reference = readBackReference(target, stored)
    info(io, `decrypt with it: SECRETS_AGE_KEY_OP=${reference}`)
    return reference
}

/** The item, or undefined when op says there is none (any other failure is thrown). */
async function existingItem(op: OpClient, target: StoreTarget): Promise<OpItem | undefined> {
    try {
        return await op.getItem(target.vault, target.item)
    } catch (e) {
        if ((e as { kind?: unknown }).kind === "item-not-found") return undefined
        throw e
    }
}

/** A top-level field by label or id (a reference without a section prefers those, op-cli.md §1). */
function isField(f: OpField, name: string): boolean {
    return f.section === undefined && (f.label?.toLowerCase() === name.toLowerCase() || f.id === name)
}

/**
 * The reference as the user named things, unless a name has a character references
 * cannot carry (op-cli.md §1: letters, digits, `-`, `_`, `.`, space); then the IDs,
 * which also cost a service account fewer reads.
 */
function readBackReference(target: StoreTarget, item: OpItem): string {
    const ok = (s: string) => /^[A-Za-z0-9 ._-]+$/.test(s)
    if (ok(target.vault) && ok(target.item) && ok(target.field)) return `op://${target.vault}/${target.item}/${target.field}`
    return `op://${item.vault.id}/${item.id}/${target.field}`
}

/** The passphrase of a protected SSH key, asked on the terminal (stderr). */
async function askSshPassphrase(io: Io, path: string): Promise<string> {
    if (io.stdin.isTTY !== true || io.stderr.isTTY !== true) {
        throw new SecretsError(ExitCode.Generic, `${quote(path)} is protected by a passphrase and there is no terminal to ask for it`, ["run the command in a terminal"])
    }
    const { password } = await import("@inquirer/prompts")
    return password({ message: `passphrase for ${path}`, mask: true }, { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream })
}

async function makePair(io: Io, opts: GenerateOptions): Promise<{ identity: string; recipient: string }> {
    const age = await import("../../keys/age.js")
    if (opts.ssh === undefined) return opts.pq === true ? age.generatePqIdentity() : age.generateX25519Identity()
    const { readFile } = await import("node:fs/promises")
    const { resolve } = await import("node:path")
    const { readSshKeyFile } = await import("../../keys/ssh-parse.js")
    const { x25519IdentityOf } = await import("../../keys/ssh-to-age.js")
    const { identityToRecipient } = await import("age-encryption")
    let text: string
    try {
        text = await readFile(resolve(io.cwd, opts.ssh), "utf8")
    } catch (e) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(opts.ssh)}: ${(e as { code?: string }).code ?? "error"}`)
    }
    // Messages from the key parser already start with the file's name.
    const path = opts.ssh
    const file = readSshKeyFile(text, path)
    const notEd25519 = () => new SecretsError(ExitCode.Generic, `${quote(path)}: only ssh-ed25519 keys can be converted to age keys`)
    if (file.publicKey?.type !== "ssh-ed25519") throw notEd25519()
    const key = file.encrypted ? await file.unlock(await askSshPassphrase(io, path)) : file.key
    if (key.type !== "ssh-ed25519") throw notEd25519()
    const identity = x25519IdentityOf(key)
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
    const { defaultKeyFile } = await import("../../files/identity-sources.js")
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
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    const sep = existing === "" || existing.endsWith("\n") ? "" : "\n"
    await writeFileAtomic(path, Buffer.from(existing + sep + block), { mode: 0o600, private: true })
    return true
}
