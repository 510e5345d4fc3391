/**
 * `secrets keys retired [--remove] [-y] [--key-file FILE]`: the identities that
 * `keys rotate` retired (src/fleet/retired-identities.ts), listed by recipient and
 * retirement date, and their removal.
 *
 * Removing is the one step that makes old git revisions unreadable with this key
 * file, so it is its own command, names what goes, and asks (or takes `--yes`);
 * without a terminal and without `--yes` nothing is written. Only the retired
 * identities go: every other line of the key file stays as it was.
 */
import { Command, Option } from "commander"
import type { CommandContext } from "../context.js"

interface RetiredFlags {
    remove?: boolean
    yes?: boolean
    keyFile?: string
}

export function registerKeysRetired(keys: Command, ctx: CommandContext): void {
    keys.command("retired")
        .description("list the identities keys rotate retired (they still open old revisions); --remove deletes them")
        .addOption(new Option("--remove", "delete the retired identities from the key file (asks first)"))
        .addOption(new Option("-y, --yes", "remove without asking"))
        .addOption(new Option("--key-file <file>", "the key file to look in instead of the default one"))
        .action(async (_opts: RetiredFlags, cmd: Command) => {
            const opts = cmd.opts<RetiredFlags>()
            await ctx.dispatch("keys retired", [], opts, () => runKeysRetired(ctx, opts))
        })
}

export async function runKeysRetired(ctx: CommandContext, opts: RetiredFlags): Promise<void> {
    const { io } = ctx
    const { readFile } = await import("node:fs/promises")
    const { homedir } = await import("node:os")
    const { relative, resolve } = await import("node:path")
    const { ExitCode, SecretsError, quote } = await import("../../errors.js")
    const { defaultKeyFile } = await import("../../files/identity-sources.js")
    const { isPassphraseProtected } = await import("../../keys/identity-file.js")
    const { listRetired, withoutRetired } = await import("../../fleet/retired-identities.js")
    const { confirmOrRefuse } = await import("../../fleet/rekey-repo.js")
    const { writeFileAtomic } = await import("../../files/fs-atomic.js")
    const { info } = await import("../report.js")
    const { table } = await import("./status.js")

    let path: string
    if (opts.keyFile !== undefined) path = resolve(io.cwd, opts.keyFile)
    else {
        const def = defaultKeyFile(io.env, homedir(), process.platform)
        if ("problem" in def) throw new SecretsError(ExitCode.Generic, `no default key file: ${def.problem}`, ["pass --key-file FILE"])
        path = def.path
    }
    const shown = quote(opts.keyFile ?? path)
    let text: string
    try {
        text = await readFile(path, "utf8")
    } catch (e) {
        throw new SecretsError(ExitCode.Generic, `cannot read the key file ${shown}: ${(e as { code?: string }).code ?? "error"}`, ["pass --key-file FILE to name another key file"])
    }
    if (isPassphraseProtected(text)) {
        throw new SecretsError(ExitCode.Generic, `${shown} is passphrase-protected; keys rotate retires identities only in plain key files`)
    }

    const retired = await listRetired(text)
    if (retired.length === 0) {
        info(io, `no retired identities in ${shown}`)
        return
    }
    io.stdout.write(table([["RECIPIENT", "RETIRED", "KEY"], ...retired.map((r) => [r.recipient, r.date, r.anchor])]))
    const n = `${retired.length} retired identit${retired.length === 1 ? "y" : "ies"}`
    if (opts.remove !== true) {
        const they = retired.length === 1 ? "it opens" : "they open"
        info(io, `${n} in ${shown}: ${they} only old revisions (git history); \`secrets keys retired --remove\` deletes ${retired.length === 1 ? "it" : "them"}`)
        return
    }
    info(io, `after removal, revisions encrypted only to ${retired.length === 1 ? "it" : "them"} no longer open with ${shown}`)
    await confirmOrRefuse(io, opts.yes === true, `remove ${n} from ${relative(io.cwd, path) || path}?`, ["pass --yes to remove them without a terminal"])
    // Read again under the answer: the file may have changed while the question was open.
    const { text: kept, removed } = await withoutRetired(await readFile(path, "utf8"))
    await writeFileAtomic(path, new TextEncoder().encode(kept), { mode: 0o600 })
    info(io, `removed ${removed.length} retired identit${removed.length === 1 ? "y" : "ies"} from ${shown}`)
}
