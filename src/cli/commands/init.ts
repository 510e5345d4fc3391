/**
 * `secrets init`: set up a fleet repository (issue 4 §1). Writes `.sops.yaml` with
 * named keys and THE LAYOUT's rules (src/fleet/layout.ts), the directories
 * `secrets/shared/`, `secrets/hosts/<host>/`, `secrets/users/<user>/`, the user's age
 * identity at sops' default key path and, if asked, a recovery key to be moved
 * offline. Interactive at a terminal, scriptable with flags.
 *
 * Running it again is safe: an existing key file is never overwritten (its key is
 * reused), a key already named in the config is not added twice, and the recovery
 * key is generated only once. Everything is computed and checked before the first
 * byte is written, so bad input leaves the repository as it was.
 */
import { Command, Option } from "commander"
import { GITIGNORE_COMMENT, GITIGNORE_LINES } from "../../core/side-files.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

export interface InitOptions {
    yes?: boolean
    user?: string
    host?: string[]
    recovery?: boolean
    pq?: boolean
    profiles?: string[]
}

/** Where the recovery key is written, relative to the config's directory. */
export const RECOVERY_FILE = "recovery-key.txt"

export function registerInit(program: Command, ctx: CommandContext): void {
    program
        .command("init")
        .description("set up .sops.yaml, the secrets/ layout and your age key (safe to run again)")
        .addOption(new Option("-y, --yes", "do not ask: take everything from the flags"))
        .addOption(new Option("--user <name>", "your name in the config (user_<name>); default $USER"))
        .addOption(new Option("--host <name[=recipient]>", "a host, with its age or ssh recipient if known (repeatable)").argParser(collect).default(undefined))
        .addOption(new Option("--recovery", "generate an offline recovery key that can open every file"))
        .addOption(new Option("--pq", "use a post-quantum (ML-KEM-768 + X25519) identity for your key"))
        .addOption(
            new Option("--profiles <name[=users|hosts],...>", "profiles with their own directory and readers: users (everyone) or hosts (CI and hosts only); dev defaults to users, others to hosts")
                .argParser(collect)
                .default(undefined),
        )
        .action(async (_opts: InitOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<InitOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("init", [], opts, () => runInit(ctx, opts))
        })
}

function collect(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value]
}

interface Answers {
    user: string
    hosts: { name: string; recipient?: string }[]
    recovery: boolean
    pq: boolean
    profiles: { name: string; readers: "users" | "hosts" }[]
}

/** Writes planned by init, done only once everything has been checked. */
interface Plan {
    keyFile?: { path: string; content: string; append: boolean }
    recoveryFile?: { path: string; content: string }
    config?: { path: string; text: string }
    gitignore?: { path: string; text: string }
    dirs: string[]
}

export async function runInit(ctx: CommandContext, opts: InitOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { resolve, dirname, join, relative } = await import("node:path")
    const { readFile } = await import("node:fs/promises")
    const { info } = await import("../report.js")
    const { addNamedKey, checkName, declareHost, syncLayout } = await import("../../fleet/config-edit.js")
    const { readNamedKeys } = await import("../../config/named-keys.js")
    const { dirFor } = await import("../../fleet/layout.js")
    const { parseRecipient } = await import("../../keys/recipient.js")

    const a = await answers(io, opts)
    checkName("user", a.user)
    for (const h of a.hosts) {
        checkName("host", h.name)
        if (h.recipient !== undefined) parseRecipient(h.recipient)
    }

    const configPath = resolve(io.cwd, opts.config ?? ".sops.yaml")
    const root = dirname(configPath)
    const shownConfig = relative(io.cwd, configPath) || configPath
    const original = await readText(readFile, configPath)
    const named = readNamedKeys(original ?? "")
    const plan: Plan = { dirs: [] }
    const said: string[] = []

    // The user's identity: reused when the key file exists, never overwritten.
    const user = await userRecipient(io, a, named.find((k) => k.anchor === `user_${a.user}`)?.recipient, said)
    if (user.write !== undefined) plan.keyFile = user.write

    // The recovery key: generated once; the config (or the file left from a run that failed later) says if it exists.
    let recovery: string | undefined
    if (a.recovery) {
        const inConfig = named.find((k) => k.anchor === "recovery")
        const recoveryPath = join(root, RECOVERY_FILE)
        const leftover = await readText(readFile, recoveryPath)
        if (inConfig !== undefined) {
            said.push("already initialised: the config has a recovery key (&recovery)")
        } else if (leftover !== undefined) {
            recovery = await recipientOfKeyFile(leftover, RECOVERY_FILE)
            said.push(`reusing the recovery key in ${quote(RECOVERY_FILE)}`)
        } else {
            const { generateX25519Identity } = await import("../../keys/age.js")
            const pair = await generateX25519Identity()
            recovery = pair.recipient
            plan.recoveryFile = { path: recoveryPath, content: keyFileText(io, [pair], "secrets recovery key: keep it offline, it opens every file") }
        }
    }

    let text = original ?? ""
    const notes: string[] = []
    const add = (kind: "host" | "user" | "recovery", name: string, recipient: string) => {
        const r = addNamedKey(text, { kind, name, recipient }, shownConfig)
        if (r.changed) {
            text = r.text
            notes.push(...r.notes)
        } else if (original !== undefined) {
            said.push(`already initialised: ${kind === "recovery" ? "recovery" : `${kind}_${name}`} is in ${quote(shownConfig)}`)
        }
    }
    add("user", a.user, user.recipient)
    for (const h of a.hosts) if (h.recipient !== undefined) add("host", h.name, h.recipient)
    if (recovery !== undefined) add("recovery", "", recovery)
    // A host without a key yet still gets its directory's rule (users and recovery),
    // so `secrets edit secrets/hosts/web1/…` works now; `keys add-host` adds the host.
    for (const h of a.hosts) {
        if (h.recipient !== undefined) continue
        const r = declareHost(text, h.name, shownConfig)
        text = r.text
        notes.push(...r.notes)
    }
    const synced = syncLayout(text, shownConfig)
    if (synced.changed) {
        text = synced.text
        notes.push(...synced.notes)
    }
    if (a.profiles.length > 0) {
        const { declareProfiles } = await import("../../fleet/config-edit.js")
        const declared = declareProfiles(text, a.profiles, shownConfig)
        if (declared.changed) {
            text = declared.text
            notes.push(...declared.notes)
        } else {
            said.push(...declared.notes)
        }
    }
    if (text !== (original ?? "")) plan.config = { path: configPath, text }

    plan.dirs = [dirFor("shared", ""), ...a.hosts.map((h) => dirFor("host", h.name)), dirFor("user", a.user), ...a.profiles.map((p) => dirFor("profile", p.name))].map((d) => join(root, d))
    const gitignorePath = join(root, ".gitignore")
    const gitignore = gitignoreWith(await readText(readFile, gitignorePath), a.recovery)
    if (gitignore !== undefined) plan.gitignore = { path: gitignorePath, text: gitignore }

    await apply(plan)

    for (const line of said) info(io, line)
    if (plan.keyFile !== undefined) {
        info(io, `${plan.keyFile.append ? "added a post-quantum identity to" : "generated your age key in"} ${quote(plan.keyFile.path)} (mode 0600)`)
    }
    if (plan.gitignore !== undefined) {
        info(io, `${quote(relative(io.cwd, plan.gitignore.path) || plan.gitignore.path)} ignores secrets' lock and temp files${a.recovery ? " and the recovery key" : ""}`)
    }
    if (plan.config !== undefined) info(io, `${original === undefined ? "created" : "updated"} ${quote(shownConfig)}: ${notes.join("; ")}`)
    else info(io, `${quote(shownConfig)} already initialised: nothing to change`)
    if (plan.recoveryFile !== undefined) {
        const shown = relative(io.cwd, plan.recoveryFile.path) || plan.recoveryFile.path
        io.stderr.write(
            [
                "",
                "secrets: !!! RECOVERY KEY WRITTEN TO " + quote(shown) + " !!!",
                "secrets: it can decrypt every file in this repository. Move it offline NOW",
                "secrets: (a password manager, a USB stick in a safe, paper), then delete it here.",
                "secrets: never commit it: it is written only once and never again.",
                "",
            ].join("\n"),
        )
    }
    const keyed = new Set([...a.hosts.filter((h) => h.recipient !== undefined).map((h) => h.name), ...named.filter((k) => k.kind === "host").map((k) => k.name)])
    io.stdout.write(nextSteps(a, user.recipient, keyed))
}

/** The flags, or the answers at a terminal when neither --yes nor a pipe says otherwise. */
async function answers(io: Io, opts: InitOptions): Promise<Answers> {
    const hosts = (opts.host ?? []).flatMap((h) => h.split(",")).map((h) => h.trim()).filter((h) => h !== "")
    let user = opts.user ?? defaultUserName(io)
    let hostSpecs = hosts
    let recovery = opts.recovery === true
    let pq = opts.pq === true
    if (opts.yes !== true && io.stdin.isTTY === true) {
        const { input, confirm } = await import("@inquirer/prompts")
        const ctx = { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream }
        try {
            user = (await input({ message: "your user name (user_<name> in .sops.yaml)", default: user, required: true }, ctx)).trim()
            const h = await input({ message: "hosts, comma-separated (name or name=recipient; empty for none)", default: hostSpecs.join(",") }, ctx)
            hostSpecs = h.split(",").map((s) => s.trim()).filter((s) => s !== "")
            recovery = await confirm({ message: "generate an offline recovery key?", default: recovery }, ctx)
            pq = await confirm({ message: "use a post-quantum identity for your key?", default: pq }, ctx)
        } catch {
            throw new SecretsError(ExitCode.Generic, "init cancelled: nothing written")
        }
    }
    if (user === "") {
        throw new ConfigError("no user name", ["pass --user NAME"])
    }
    return {
        user,
        hosts: hostSpecs.map((spec) => {
            const eq = spec.indexOf("=")
            return eq === -1 ? { name: spec } : { name: spec.slice(0, eq).trim(), recipient: spec.slice(eq + 1).trim() }
        }),
        recovery,
        pq,
        profiles: await profileAnswers(opts),
    }
}

/**
 * `--profiles dev,prod=hosts`: each profile with whose keys read it. Without
 * `=`, developers' profiles (dev, local, test) are read by users too, the
 * others by hosts only (config/profiles.ts defaultReaders).
 */
async function profileAnswers(opts: InitOptions): Promise<Answers["profiles"]> {
    const { checkProfileName, defaultReaders } = await import("../../config/profiles.js")
    const out: Answers["profiles"] = []
    for (const spec of (opts.profiles ?? []).flatMap((p) => p.split(",")).map((p) => p.trim()).filter((p) => p !== "")) {
        const [name = "", readers] = spec.split("=", 2).map((s) => s.trim())
        checkProfileName(name, "--profiles")
        if (readers !== undefined && readers !== "users" && readers !== "hosts") {
            throw new ConfigError(`--profiles: ${quote(spec)}: readers must be users or hosts`, ["e.g. --profiles dev=users,prod=hosts"])
        }
        if (out.some((p) => p.name === name)) throw new ConfigError(`--profiles: ${quote(name)} is named twice`)
        out.push({ name, readers: readers ?? defaultReaders(name) })
    }
    return out
}

/** $USER made anchor-safe, or empty. */
function defaultUserName(io: Io): string {
    const raw = (io.env.USER ?? io.env.USERNAME ?? "").toLowerCase()
    return raw.replace(/[^a-z0-9_-]/g, "-").replace(/^[-_]+/, "")
}

/**
 * The user's recipient and, if the key file must be written, what to write. An
 * existing key file is only ever appended to (a post-quantum identity asked for
 * with --pq); its identities stay.
 */
async function userRecipient(
    io: Io,
    a: Answers,
    named: string | undefined,
    said: string[],
): Promise<{ recipient: string; write?: { path: string; content: string; append: boolean } }> {
    const { homedir } = await import("node:os")
    const { readFile } = await import("node:fs/promises")
    const { defaultKeyFile } = await import("../../files/identity-sources.js")
    const { generatePqIdentity, generateX25519Identity } = await import("../../keys/age.js")
    const def = defaultKeyFile(io.env, io.env.HOME ?? homedir(), process.platform)
    if ("problem" in def) {
        throw new ConfigError(`cannot find the default age key path: ${def.problem}`, ["set HOME or XDG_CONFIG_HOME"])
    }
    const existing = await readText(readFile, def.path)
    if (existing === undefined) {
        const pairs = [await generateX25519Identity(), ...(a.pq ? [await generatePqIdentity()] : [])]
        const mine = pairs[pairs.length - 1]
        if (mine === undefined) throw new ConfigError("internal: no key generated")
        return { recipient: mine.recipient, write: { path: def.path, content: keyFileText(io, pairs, "secrets init"), append: false } }
    }
    const { isPassphraseProtected } = await import("../../keys/identity-file.js")
    if (isPassphraseProtected(existing)) {
        if (named !== undefined) {
            said.push(`reusing your passphrase-protected key in ${quote(def.path)}`)
            return { recipient: named }
        }
        throw new ConfigError(`your key file ${quote(def.path)} is passphrase-protected, so init cannot read its recipient`, [
            "add yourself with `secrets keys add-user NAME --age RECIPIENT`, then run init again",
        ])
    }
    const recipients = await recipientsOf(existing, def.path)
    const pq = recipients.find((r) => r.startsWith("age1pq1"))
    const x = recipients.find((r) => r.startsWith("age1") && !r.startsWith("age1pq1"))
    said.push(`reusing your existing key in ${quote(def.path)} (not overwritten)`)
    if (a.pq && pq === undefined) {
        const pair = await generatePqIdentity()
        const sep = existing.endsWith("\n") || existing === "" ? "" : "\n"
        return { recipient: pair.recipient, write: { path: def.path, content: existing + sep + keyFileText(io, [pair], "secrets init"), append: true } }
    }
    // The recipient already named wins, so a second run never fights the first one.
    if (named !== undefined && recipients.includes(named)) return { recipient: named }
    const chosen = (a.pq ? pq : undefined) ?? x ?? recipients[0]
    if (chosen === undefined) throw new ConfigError(`your key file ${quote(def.path)} has no identity`, ["remove the empty file, or add a key to it"])
    return { recipient: chosen }
}

async function recipientsOf(text: string, source: string): Promise<string[]> {
    const { parseIdentities, identityToRecipientString } = await import("../../keys/identity-file.js")
    const out: string[] = []
    for (const id of parseIdentities(text, source)) out.push(await identityToRecipientString(id))
    return out
}

async function recipientOfKeyFile(text: string, source: string): Promise<string> {
    const r = (await recipientsOf(text, source))[0]
    if (r === undefined) throw new ConfigError(`${quote(source)} has no identity`, ["remove it to generate a new recovery key"])
    return r
}

/** The age-keygen file format: a created line, the public key, the identity. */
function keyFileText(io: Io, pairs: readonly { identity: string; recipient: string }[], comment: string): string {
    const created = io.now().toISOString().replace(/\.\d{3}Z$/, "Z")
    return pairs.map((p) => `# created: ${created} by ${comment}\n# public key: ${p.recipient}\n${p.identity}\n`).join("")
}

async function readText(read: (p: string, enc: "utf8") => Promise<string>, path: string): Promise<string | undefined> {
    try {
        return await read(path, "utf8")
    } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined
        throw e
    }
}

async function apply(plan: Plan): Promise<void> {
    const { mkdir, writeFile, access } = await import("node:fs/promises")
    const { dirname, join } = await import("node:path")
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    if (plan.keyFile !== undefined) {
        await mkdir(dirname(plan.keyFile.path), { recursive: true, mode: 0o700 })
        if (plan.keyFile.append) await writeFileAtomic(plan.keyFile.path, Buffer.from(plan.keyFile.content), { mode: 0o600, private: true })
        // "wx": a key file that appeared since we looked is not overwritten.
        else await writeFile(plan.keyFile.path, plan.keyFile.content, { flag: "wx", mode: 0o600 })
    }
    // Ignored before it exists: `git add .` never sees the recovery key.
    if (plan.gitignore !== undefined) await writeFileAtomic(plan.gitignore.path, Buffer.from(plan.gitignore.text), { mode: 0o644 })
    if (plan.recoveryFile !== undefined) {
        await writeFile(plan.recoveryFile.path, plan.recoveryFile.content, { flag: "wx", mode: 0o600 })
    }
    for (const dir of plan.dirs) {
        await mkdir(dir, { recursive: true })
        const keep = join(dir, ".gitkeep")
        try {
            await access(keep)
        } catch {
            await writeFile(keep, "", { flag: "wx" })
        }
    }
    if (plan.config !== undefined) await writeFileAtomic(plan.config.path, Buffer.from(plan.config.text), { mode: 0o644 })
}

/**
 * The repository's `.gitignore` with what init needs in it, existing lines kept
 * and nothing added twice; undefined when nothing is missing. `git add .` must not
 * pick up the recovery key while it waits to be moved offline, nor a lock or an
 * unfinished atomic write that a running or killed `secrets` left beside a secret
 * (core/side-files.ts).
 */
function gitignoreWith(current: string | undefined, recovery: boolean): string | undefined {
    const have = new Set((current ?? "").split("\n").map((l) => l.trim()))
    const missing: string[] = []
    if (recovery && !have.has(`/${RECOVERY_FILE}`) && !have.has(RECOVERY_FILE)) missing.push(`/${RECOVERY_FILE}`)
    const patterns = GITIGNORE_LINES.filter((l) => !have.has(l))
    if (patterns.length > 0 && !have.has(GITIGNORE_COMMENT)) missing.push(GITIGNORE_COMMENT)
    missing.push(...patterns)
    if (missing.length === 0) return undefined
    const text = current ?? ""
    return `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${missing.join("\n")}\n`
}

/** What to do next; `keyed` are the hosts whose key the config has (from the flags or an earlier run). */
function nextSteps(a: Answers, recipient: string, keyed: ReadonlySet<string>): string {
    const lines = ["", "next steps:"]
    const keyless = a.hosts.filter((h) => !keyed.has(h.name))
    for (const h of keyless) {
        lines.push(`  secrets keys add-host ${h.name} --ssh-host-key ssh_host_ed25519_key.pub [--to-age]   # or --age age1…`)
    }
    lines.push(`  secrets edit secrets/shared/app.yaml          # readable by every user${a.hosts.length > 0 ? ", host" : ""} and the recovery key`)
    lines.push(`  secrets edit secrets/users/${a.user}/notes.yaml   # only you (and the recovery key)`)
    const host = a.hosts[0]
    if (host !== undefined) {
        const who = keyed.has(host.name) ? "that host and the users" : "the users now, the host once added"
        lines.push(`  secrets edit secrets/hosts/${host.name}/env.yaml   # ${who}`)
    }
    for (const p of a.profiles) {
        lines.push(`  secrets edit secrets/${p.name}/app.env${" ".repeat(Math.max(1, 17 - p.name.length))}# profile ${p.name}: ${p.readers === "users" ? "every user and host" : "hosts and CI only"}`)
    }
    if (keyed.size === 0 && a.profiles.some((p) => p.readers === "hosts")) lines.push("  secrets keys add-host ci --age age1…         # CI is a host: it opens the hosts-only profiles")
    lines.push("  secrets keys add-user NAME --age age1…       # a colleague")
    lines.push("  secrets keys list                            # who is who")
    lines.push(`your recipient: ${recipient.length > 80 ? `${recipient.slice(0, 40)}…` : recipient}`)
    return lines.join("\n") + "\n"
}
