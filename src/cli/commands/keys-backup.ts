/**
 * `secrets keys backup` and `secrets keys restore` (issue 4 §7): the local
 * identities in one passphrase-protected file (age scrypt, armored — Debian's
 * `age -d` opens it too), and back. The bundle format is src/fleet/backup.ts.
 *
 * The passphrase comes from `SECRETS_BACKUP_PASSPHRASE` (scripts, tests) or is asked
 * at a terminal — twice for a backup, since a typo there locks the backup for good.
 * It never travels in argv. Everything is checked before the first byte is written:
 * a mismatch or a wrong passphrase leaves every file as it was.
 */
import { Command, Option } from "commander"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

/** The variable scripts set instead of typing the passphrase. */
export const PASSPHRASE_ENV = "SECRETS_BACKUP_PASSPHRASE"

export interface BackupOptions {
    output?: string
    keyFile?: string[]
}

export interface RestoreOptions {
    output?: string
}

export function registerKeysBackup(keys: Command, ctx: CommandContext): void {
    keys.command("backup")
        .description("write your age identities to a passphrase-protected file (age scrypt)")
        .addOption(new Option("-o, --output <file>", "the backup file to create (0600; never overwritten)").makeOptionMandatory())
        .addOption(new Option("--key-file <file>", "another key file to include (repeatable); the default key file is always included").argParser(collect))
        .action(async (_opts: BackupOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<BackupOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("keys backup", [], opts, () => runKeysBackup(ctx, opts))
        })

    keys.command("restore")
        .description("bring identities back from a backup into your key file (or --output), skipping those already there")
        .argument("<file>", "the backup written by `secrets keys backup`")
        .addOption(new Option("-o, --output <file>", "the key file to merge into instead of the default one"))
        .action(async (file: string, _opts: RestoreOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RestoreOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("keys restore", [file], opts, () => runKeysRestore(ctx, file, opts))
        })
}

function collect(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value]
}

export async function runKeysBackup(ctx: CommandContext, opts: BackupOptions): Promise<void> {
    const { io } = ctx
    const { resolve } = await import("node:path")
    const { info } = await import("../report.js")
    const { buildBackupPayload, sealBackup } = await import("../../fleet/backup.js")
    if (opts.output === undefined) throw new SecretsError(ExitCode.NoFileSpecified, "keys backup needs --output FILE")
    const output = resolve(io.cwd, opts.output)
    if (await exists(output)) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to overwrite ${quote(opts.output)}`, ["choose another --output, or move the old backup away first"])
    }

    const sources: { path: string; text: string }[] = []
    const def = await defaultPath(io)
    const defText = await readOptional(def)
    if (defText !== undefined) sources.push({ path: def, text: defText })
    for (const f of opts.keyFile ?? []) {
        const path = resolve(io.cwd, f)
        if (sources.some((s) => s.path === path)) continue
        const text = await readOptional(path)
        if (text === undefined) throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(f)}: ENOENT`)
        sources.push({ path, text })
    }
    if (sources.length === 0) {
        throw new SecretsError(ExitCode.Generic, `no local identities to back up: ${quote(def)} does not exist`, [
            "generate one with `secrets keys generate`, or name a key file with --key-file FILE",
        ])
    }
    const payload = buildBackupPayload(sources, io.now())

    const passphrase = await newPassphrase(io)
    const sealed = await whileDeriving(io, "sealing the backup", () => sealBackup(payload, passphrase))
    const { writeFile } = await import("node:fs/promises")
    try {
        // "wx": a file that appeared since the check is not overwritten either.
        await writeFile(output, sealed, { flag: "wx", mode: 0o600 })
    } catch (e) {
        const code = (e as { code?: string }).code ?? "error"
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, code === "EEXIST" ? `refusing to overwrite ${quote(opts.output)}` : `could not write ${quote(opts.output)}: ${code}`)
    }
    const { parseBackupPayload } = await import("../../fleet/backup.js")
    const n = parseBackupPayload(payload).length
    info(io, `backed up ${n} ${n === 1 ? "identity" : "identities"} from ${sources.map((s) => quote(s.path)).join(", ")} to ${quote(opts.output)} (mode 0600)`)
    info(io, "keep the backup and its passphrase in different places; `age -d` can open it too")
}

export async function runKeysRestore(ctx: CommandContext, file: string, opts: RestoreOptions): Promise<void> {
    const { io } = ctx
    const { resolve, dirname } = await import("node:path")
    const { readFile, mkdir, writeFile } = await import("node:fs/promises")
    const { info } = await import("../report.js")
    const { openBackup, parseBackupPayload, mergeIdentities } = await import("../../fleet/backup.js")
    let content: Uint8Array
    try {
        content = await readFile(resolve(io.cwd, file))
    } catch (e) {
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(file)}: ${(e as { code?: string }).code ?? "error"}`)
    }
    const target = opts.output !== undefined ? resolve(io.cwd, opts.output) : await defaultPath(io)
    const existing = await readOptional(target)

    const passphrase = await onePassphrase(io, file)
    const payload = await whileDeriving(io, "opening the backup", () => openBackup(content, passphrase, quote(file)))
    const entries = parseBackupPayload(payload, quote(file))
    const merged = await mergeIdentities(existing ?? "", entries, quote(target))

    if (merged.added.length > 0) {
        if (existing === undefined) {
            await mkdir(dirname(target), { recursive: true, mode: 0o700 })
            try {
                await writeFile(target, merged.text, { flag: "wx", mode: 0o600 })
            } catch (e) {
                throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `could not write ${quote(target)}: ${(e as { code?: string }).code ?? "error"}`)
            }
        } else {
            const { writeFileAtomic } = await import("../../files/fs-atomic.js")
            await writeFileAtomic(target, Buffer.from(merged.text), { mode: 0o600, private: true })
        }
    }
    const added = merged.added.length
    info(io, `restored ${added} ${added === 1 ? "identity" : "identities"} into ${quote(target)}, ${merged.present} already present`)
    for (const r of merged.added) io.stdout.write(`${r}\n`)
}

/**
 * Run the scrypt step with a line saying what the wait is, at a terminal: age's
 * scrypt (work factor 2^18) takes seconds and shows nothing, which looks like a
 * hang right after the passphrase was typed. typage derives the key in one
 * synchronous call with no progress callback, so the line names the step rather
 * than a percentage; a TTY's stderr is written synchronously, so it shows before
 * the event loop blocks. Erased afterwards, also on a wrong passphrase.
 */
async function whileDeriving<T>(io: Io, what: string, work: () => Promise<T>): Promise<T> {
    const { progressLine } = await import("../progress.js")
    const progress = progressLine(io)
    progress.step(`${what} (scrypt: a few seconds)…`)
    try {
        return await work()
    } finally {
        progress.clear()
    }
}

/** A passphrase for a new backup: the variable, or asked twice at a terminal. */
async function newPassphrase(io: Io): Promise<string> {
    const { checkPassphrase, confirmPassphrase } = await import("../../fleet/backup.js")
    const fromEnv = io.env[PASSPHRASE_ENV]
    if (fromEnv !== undefined) {
        checkPassphrase(fromEnv)
        return fromEnv
    }
    const first = await ask(io, "passphrase for the backup")
    const second = await ask(io, "the same passphrase again")
    return confirmPassphrase(first, second)
}

async function onePassphrase(io: Io, file: string): Promise<string> {
    const fromEnv = io.env[PASSPHRASE_ENV]
    if (fromEnv !== undefined) return fromEnv
    return ask(io, `passphrase for ${quote(file)}`)
}

async function ask(io: Io, message: string): Promise<string> {
    if (io.stdin.isTTY !== true) {
        throw new SecretsError(ExitCode.Generic, "no passphrase: not at a terminal and " + PASSPHRASE_ENV + " is not set", [
            `set ${PASSPHRASE_ENV} in the environment of scripts (never on the command line)`,
        ])
    }
    const { password } = await import("@inquirer/prompts")
    try {
        return await password({ message, mask: true }, { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream })
    } catch {
        throw new SecretsError(ExitCode.Generic, "cancelled: nothing written")
    }
}

async function defaultPath(io: Io): Promise<string> {
    const { homedir } = await import("node:os")
    const { defaultKeyFile } = await import("../../files/identity-sources.js")
    const def = defaultKeyFile(io.env, io.env.HOME ?? homedir(), process.platform)
    if ("problem" in def) {
        throw new ConfigError(`cannot find the default age key path: ${def.problem}`, ["pass the key file explicitly, or set HOME or XDG_CONFIG_HOME"])
    }
    return def.path
}

async function readOptional(path: string): Promise<string | undefined> {
    const { readFile } = await import("node:fs/promises")
    try {
        return await readFile(path, "utf8")
    } catch (e) {
        const code = (e as { code?: string }).code
        if (code === "ENOENT") return undefined
        throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(path)}: ${code ?? "error"}`)
    }
}

async function exists(path: string): Promise<boolean> {
    const { lstat } = await import("node:fs/promises")
    try {
        await lstat(path)
        return true
    } catch {
        return false
    }
}
