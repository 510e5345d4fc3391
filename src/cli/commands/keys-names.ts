/**
 * `secrets keys list | add-host | add-user | remove`: the named keys of a fleet in
 * `.sops.yaml` (anchors `&host_NAME`, `&user_NAME`, `&recovery`, src/config/named-keys.ts).
 * The config is edited through src/fleet/config-edit.ts, which keeps comments and
 * the layout's rules in step; then every encrypted file whose recipients no longer
 * match its rule is re-keyed (same data key) by src/fleet/rekey-repo.ts, unless
 * `--no-rekey`.
 */
import { Command, Option } from "commander"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface KeyChangeOptions {
    /** false with `--no-rekey`. */
    rekey?: boolean
    yes?: boolean
}

export interface AddHostOptions extends KeyChangeOptions {
    age?: string
    sshHostKey?: string
    toAge?: boolean
}

export interface ListOptions {
    json?: boolean
}

/** One row of `keys list`. */
export interface KeyListing {
    readonly name: string
    readonly anchor: string
    readonly kind: string
    /** x25519, pq, ssh-ed25519, ssh-rsa, or "invalid". */
    readonly type: string
    readonly fingerprint: string
    readonly recipient: string
    /** path_regex of every creation rule whose recipients include it. */
    readonly rules: string[]
    /** Encrypted files (relative to the working directory) whose metadata lists it. */
    readonly files: string[]
}

const changeOptions = () => [
    new Option("--no-rekey", "only edit .sops.yaml; print the files that need re-keying"),
    new Option("-y, --yes", "re-key the affected files without asking"),
]

export function registerKeysNames(keys: Command, ctx: CommandContext): void {
    keys.command("list")
        .description("list the named keys: type, fingerprint, rules and files that use them")
        .addOption(new Option("--json", "print JSON"))
        .action(async (_opts: ListOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ListOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("keys list", [], opts, () => runKeysList(ctx, opts))
        })

    const addHost = keys
        .command("add-host")
        .description("name a host's key (&host_NAME), give it its rule and the shared files, re-key")
        .argument("<name>", "the host name: lowercase letters, digits, _ and -")
        .addOption(new Option("--age <recipient>", "the host's age recipient (age1… or age1pq1…)"))
        .addOption(new Option("--ssh-host-key <file>", "the host's SSH public key, e.g. /etc/ssh/ssh_host_ed25519_key.pub"))
        .addOption(new Option("--to-age", "convert the ssh-ed25519 key to an age1 recipient (as ssh-to-age does)"))
    for (const opt of changeOptions()) addHost.addOption(opt)
    addHost.action(async (name: string, _opts: AddHostOptions, cmd: Command) => {
        const opts = o.withEnvDefaults(cmd.optsWithGlobals<AddHostOptions & o.GlobalOpts>(), ctx.io.env)
        await ctx.dispatch("keys add-host", [name], opts, () => runAddHost(ctx, name, opts))
    })

    const addUser = keys
        .command("add-user")
        .description("name a user's key (&user_NAME), give it its rule, every host's and the shared files, re-key")
        .argument("<name>", "the user name: lowercase letters, digits, _ and -")
        .addOption(new Option("--age <recipient>", "the user's recipient (age1…, age1pq1… or ssh-ed25519 …)"))
    for (const opt of changeOptions()) addUser.addOption(opt)
    addUser.action(async (name: string, _opts: AddHostOptions, cmd: Command) => {
        const opts = o.withEnvDefaults(cmd.optsWithGlobals<AddHostOptions & o.GlobalOpts>(), ctx.io.env)
        await ctx.dispatch("keys add-user", [name], opts, () => runAddUser(ctx, name, opts))
    })

    const remove = keys
        .command("remove")
        .description("remove a named key from .sops.yaml and its rules, then re-key (use revoke for a compromised key)")
        .argument("<name>", "web1, host_web1, alice, user_alice or recovery")
    for (const opt of changeOptions()) remove.addOption(opt)
    remove.action(async (name: string, _opts: KeyChangeOptions, cmd: Command) => {
        const opts = o.withEnvDefaults(cmd.optsWithGlobals<KeyChangeOptions & o.GlobalOpts>(), ctx.io.env)
        await ctx.dispatch("keys remove", [name], opts, () => runRemove(ctx, name, opts))
    })
}

export async function runAddHost(ctx: CommandContext, name: string, opts: AddHostOptions & o.GlobalOpts): Promise<void> {
    const recipient = await hostRecipient(ctx.io, opts)
    await changeConfig(ctx, opts, async (text, shown) => {
        const { addNamedKey } = await import("../../fleet/config-edit.js")
        return refuseNoop(addNamedKey(text, { kind: "host", name, recipient }, shown), `host_${name}`, shown)
    })
    await makeLayoutDir(ctx, "host", name, opts)
}

export async function runAddUser(ctx: CommandContext, name: string, opts: AddHostOptions & o.GlobalOpts): Promise<void> {
    if (opts.age === undefined || opts.age.trim() === "") {
        throw new SecretsError(ExitCode.Generic, "add-user needs the user's recipient", ["pass --age age1… (the user gets it from `secrets keys generate` or age-keygen -y)"])
    }
    const recipient = opts.age
    await changeConfig(ctx, opts, async (text, shown) => {
        const { addNamedKey } = await import("../../fleet/config-edit.js")
        return refuseNoop(addNamedKey(text, { kind: "user", name, recipient }, shown), `user_${name}`, shown)
    })
    await makeLayoutDir(ctx, "user", name, opts)
}

/**
 * The new rule's directory (`secrets/hosts/NAME/`), next to the config, as
 * `secrets init` makes the others: where the new key's files go is then plain to
 * see. An existing directory is left alone.
 */
async function makeLayoutDir(ctx: CommandContext, kind: "host" | "user", name: string, opts: o.GlobalOpts): Promise<void> {
    const { mkdir } = await import("node:fs/promises")
    const { dirname, join } = await import("node:path")
    const { dirFor } = await import("../../fleet/layout.js")
    const root = dirname(await configPath(ctx.io, opts.config))
    await mkdir(join(root, dirFor(kind, name)), { recursive: true })
}

export async function runRemove(ctx: CommandContext, name: string, opts: KeyChangeOptions & o.GlobalOpts): Promise<void> {
    let left: string | undefined
    await changeConfig(ctx, opts, async (text, shown) => {
        const { removeNamedKey } = await import("../../fleet/config-edit.js")
        const { dirFor } = await import("../../fleet/layout.js")
        const r = removeNamedKey(text, name, shown)
        if (r.removed.kind === "host" || r.removed.kind === "user") left = dirFor(r.removed.kind, r.removed.name)
        return r
    })
    if (left !== undefined) {
        const { info } = await import("../report.js")
        info(ctx.io, `${left}/ has no rule any more: files left there keep their old recipients; delete or move them`)
    }
}

/**
 * Adding a key that is already there with the same recipient changes nothing and
 * goes on to the re-key: so a run whose re-key was refused can simply be repeated.
 */
function refuseNoop<T extends { changed: boolean; notes: string[] }>(r: T, anchor: string, shown: string): T {
    if (!r.changed) r.notes.push(`${quote(shown)} already has ${anchor} with this recipient`)
    return r
}

/** The recipient from --age or --ssh-host-key (kept as ssh, or converted with --to-age). */
async function hostRecipient(io: Io, opts: AddHostOptions): Promise<string> {
    const { parseRecipient } = await import("../../keys/recipient.js")
    const given = [opts.age, opts.sshHostKey].filter((v) => v !== undefined)
    if (given.length !== 1) {
        throw new SecretsError(given.length === 0 ? ExitCode.Generic : ExitCode.ConflictingParameters, given.length === 0 ? "add-host needs the host's key" : "give either --age or --ssh-host-key, not both", [
            "pass --age age1… or --ssh-host-key /etc/ssh/ssh_host_ed25519_key.pub (fetch it with ssh-keyscan -t ed25519 HOST)",
        ])
    }
    if (opts.age !== undefined) {
        if (opts.toAge === true) throw new SecretsError(ExitCode.ConflictingParameters, "--to-age only applies to --ssh-host-key")
        return parseRecipient(opts.age).text
    }
    const file = opts.sshHostKey ?? ""
    const { readFile } = await import("node:fs/promises")
    const { resolve } = await import("node:path")
    let text: string
    try {
        text = await readFile(resolve(io.cwd, file), "utf8")
    } catch (e) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `cannot read ${quote(file)}: ${(e as { code?: string }).code ?? "error"}`)
    }
    const { isSshPrivateKey, parseSshPublicKey, formatSshPublicKey } = await import("../../keys/ssh-parse.js")
    // Never echo it: a private key passed by mistake is a secret.
    if (isSshPrivateKey(text)) throw new SecretsError(ExitCode.Generic, `${quote(file)} is a private key`, ["pass the public key: the file ending in .pub"])
    const line = text.split("\n").find((l) => l.trim() !== "" && !l.trimStart().startsWith("#")) ?? ""
    let pub: string
    try {
        pub = formatSshPublicKey(parseSshPublicKey(line))
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
    if (opts.toAge === true) {
        const { sshEd25519ToAgeRecipient } = await import("../../keys/ssh-to-age.js")
        return sshEd25519ToAgeRecipient(pub)
    }
    return parseRecipient(pub).text
}

/**
 * Read `.sops.yaml` under its lock, edit it, write it atomically when it changed,
 * then re-key the repository (or, with --no-rekey, show what would be).
 */
async function changeConfig(
    ctx: CommandContext,
    opts: KeyChangeOptions & o.GlobalOpts,
    edit: (text: string, shown: string) => Promise<{ text: string; changed: boolean; notes: string[] }>,
): Promise<void> {
    const { io } = ctx
    const { readFile } = await import("node:fs/promises")
    const { relative } = await import("node:path")
    const { withFileLock } = await import("../../files/file-lock.js")
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    const { info, repoRun } = await import("../report.js")
    const path = await configPath(io, opts.config)
    const shown = relative(io.cwd, path) || path
    await withFileLock(path, async () => {
        const text = await readFile(path, "utf8")
        const r = await edit(text, shown)
        if (!r.changed) {
            for (const note of r.notes) info(io, note)
            return
        }
        if (opts.rekey !== false) await refuseEarly(ctx, opts, path, r.text)
        await writeFileAtomic(path, Buffer.from(r.text), { mode: 0o644 })
        info(io, `updated ${quote(shown)}: ${r.notes.join("; ")}`)
    })
    const { rekeyRepo } = await import("../../fleet/rekey-repo.js")
    if (opts.rekey === false) {
        const report = await rekeyRepo(repoRun(io), { configPath: path, dryRun: true, yes: false })
        if (report.changed.length > 0) info(io, `not re-keyed (--no-rekey): run \`secrets updatekeys -y ${report.changed.join(" ")}\` to apply`)
        return
    }
    await rekeyRepo(repoRun(io), { configPath: path, dryRun: false, yes: opts.yes === true })
}

/**
 * Without --yes and without a terminal the re-key would be refused after the config
 * was already written; refuse before, so nothing changes, when any file would need it.
 */
async function refuseEarly(ctx: CommandContext, opts: KeyChangeOptions & o.GlobalOpts, path: string, text: string): Promise<void> {
    if (opts.yes === true || ctx.io.stdin.isTTY === true) return
    const { dirname } = await import("node:path")
    const { parseConfig } = await import("../../config/load.js")
    const { planRepo } = await import("../../fleet/rekey-repo.js")
    const { renderRekeyTable } = await import("../../files/rekey-file.js")
    const loaded = { path, dir: dirname(path), text, config: parseConfig(text, path) }
    const { plans } = await planRepo(ctx.io, loaded)
    if (plans.length === 0) return
    ctx.io.stdout.write(renderRekeyTable(plans.map((p) => ({ file: p.file.shown, diff: p.diff }))))
    throw new SecretsError(ExitCode.Generic, `${plans.length} file${plans.length === 1 ? "" : "s"} would need re-keying: nothing changed without confirmation`, [
        "pass --yes to edit .sops.yaml and re-key them, or --no-rekey to only edit .sops.yaml",
    ])
}

/** --config / SOPS_CONFIG, else the nearest .sops.yaml from the working directory up; absolute. */
async function configPath(io: Io, explicit: string | undefined): Promise<string> {
    const { existsSync } = await import("node:fs")
    const { resolve } = await import("node:path")
    const { findConfig } = await import("../../config/load.js")
    const found = findConfig({ cwd: io.cwd, ...(explicit !== undefined ? { explicit } : {}), exists: existsSync })
    if (found === undefined || !existsSync(resolve(io.cwd, found))) {
        throw new ConfigError(found === undefined ? "no .sops.yaml found in this directory or above" : `config ${quote(found)} not found`, [
            "run `secrets init` first, or pass --config",
        ])
    }
    return resolve(io.cwd, found)
}

export async function runKeysList(ctx: CommandContext, opts: ListOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const listing = await listKeys(io, opts.config)
    if (opts.json === true) {
        io.stdout.write(JSON.stringify(listing, null, 2) + "\n")
        return
    }
    if (listing.length === 0) {
        const { info } = await import("../report.js")
        info(io, "no named keys in the config: add them with `secrets keys add-host` / `add-user`")
        return
    }
    const rows = [["NAME", "KIND", "TYPE", "FINGERPRINT", "RULES", "FILES"]]
    for (const k of listing) rows.push([k.anchor, k.kind, k.type, k.fingerprint, k.rules.join(",") || "-", k.files.join(",") || "-"])
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? []
    io.stdout.write(rows.map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell)).join("  ").trimEnd() + "\n").join(""))
}

/** The named keys, with the rules and files that use each; nothing is decrypted. */
export async function listKeys(io: Io, explicit?: string): Promise<KeyListing[]> {
    const path = await configPath(io, explicit)
    const { readFile } = await import("node:fs/promises")
    const { relative } = await import("node:path")
    const { parseConfig } = await import("../../config/load.js")
    const { planForRule } = await import("../../config/match.js")
    const { readNamedKeys } = await import("../../config/named-keys.js")
    const { findEncryptedFiles, loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const text = await readFile(path, "utf8")
    const shown = relative(io.cwd, path) || path
    const config = parseConfig(text, shown)
    const ruleRecipients = (config.creation_rules ?? []).map((rule, i) => {
        let recipients: string[] = []
        try {
            recipients = planForRule(rule).groups.flat()
        } catch {
            // A rule with no keys lists nobody.
        }
        return { label: rule.path_regex ?? `rule ${i + 1}`, recipients }
    })
    const loaded = await loadFleetConfig(io, path)
    const files = (await findEncryptedFiles(io, loaded.dir)).map((f) => ({
        shown: f.shown,
        recipients: f.metadata.keyGroups.flat().flatMap((k) => (k.type === "age" ? [k.recipient] : [])),
    }))
    const out: KeyListing[] = []
    for (const k of readNamedKeys(text)) {
        out.push({
            name: k.name,
            anchor: k.anchor,
            kind: k.kind,
            type: await typeOf(k.recipient),
            fingerprint: await fingerprint(k.recipient),
            recipient: k.recipient,
            rules: ruleRecipients.filter((r) => r.recipients.includes(k.recipient)).map((r) => r.label),
            files: files.filter((f) => f.recipients.includes(k.recipient)).map((f) => f.shown),
        })
    }
    return out
}

async function typeOf(recipient: string): Promise<string> {
    const { parseRecipient } = await import("../../keys/recipient.js")
    try {
        return parseRecipient(recipient).kind
    } catch {
        return "invalid"
    }
}

/**
 * Short and recognisable: an age recipient's first 16 characters; for an SSH key
 * the start of its SHA-256 fingerprint as `ssh-keygen -l` prints it (the first 16
 * characters of an ssh line are the same for every key of a type).
 */
export async function fingerprint(recipient: string): Promise<string> {
    if (!recipient.startsWith("ssh-")) return recipient.slice(0, 16)
    const { createHash } = await import("node:crypto")
    const b64 = recipient.trim().split(/\s+/)[1] ?? ""
    const digest = createHash("sha256").update(Buffer.from(b64, "base64")).digest("base64").replace(/=+$/, "")
    return `SHA256:${digest.slice(0, 16)}`
}
