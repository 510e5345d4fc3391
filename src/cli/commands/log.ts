/**
 * `secrets log FILE [KEYPATH] [--json] [-n N]` (issue 15 §4): the commits where a
 * value of FILE (or the one at KEYPATH, or under it) changed, newest first, with
 * their author, date and the key paths added, changed and removed. Never a value:
 * key paths are what the encrypted file shows anyone anyway. The engine is
 * files/value-history.ts (one git log pass, one cat-file batch, decryption only
 * where the ENC strings cannot decide).
 *
 * A revision no identity opens (encrypted to someone else, or to a key retired and
 * then removed) is reported as such with the paths it leaves undecided, never a
 * crash; a retired identity in the key file opens its old revisions.
 */
import { Command, InvalidArgumentError, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { info } from "../report.js"

interface LogOptions {
    json?: boolean
    maxCount?: number
}

const EXAMPLES = `
Each commit is one line (short id, author date in UTC, author) followed by the key
paths it changed: + added, ~ changed, - removed, ? not known (no identity opens
that revision or the one before it). Commits that changed no value (a re-key, a
reformat) are left out.

Examples:
  secrets log secrets/app.yaml
  secrets log secrets/app.yaml '["db"]["password"]' -n 5
  secrets log --json secrets/app.yaml | jq -r '.[0].commit'
`

const count = (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("expected a whole number of commits, 1 or more")
    return Number(v)
}

export function registerLog(program: Command, ctx: CommandContext): void {
    program
        .command("log")
        .description("list the commits that changed a file's values (key paths only, never values)")
        .argument("<file>", "the encrypted file (it may since have been deleted)")
        .argument("[keypath]", `only changes at or under this path, e.g. '["db"]["password"]'`)
        .addOption(new Option("-n, --max-count <n>", "show only the newest N commits").argParser(count))
        .addOption(new Option("--json", "print a JSON array of {commit, date, author, added, changed, removed, undecided, unreadable}"))
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, keyPath: string | undefined, _opts: LogOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<LogOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("log", [file, keyPath], opts, () => runLog(o.withIdentityOptions(ctx, opts, file), file, keyPath, opts))
        })
}

async function runLog(ctx: CommandContext, file: string, keyPath: string | undefined, opts: LogOptions): Promise<void> {
    const { io } = ctx
    const { resolve, dirname } = await import("node:path")
    // A malformed path fails before git runs (exit 91, as `set` and `--extract`).
    if (keyPath !== undefined) (await import("../../core/tree-path.js")).parseTreePath(keyPath)
    const abs = resolve(io.cwd, file)
    const { gitTopLevel, fileCommits } = await import("../../integrations/git.js")
    const { existingAncestor } = await import("../../files/revision-open.js")
    // A deleted file's directory may be gone too: its history is still there.
    const top = await gitTopLevel(existingAncestor(dirname(abs)), io.env)
    if (top === undefined) {
        throw new SecretsError(ExitCode.Generic, `${quote(file)} is not in a git work tree: it has no history to list`, ["run this inside the repository that holds the file"])
    }
    const { valueHistory } = await import("../../files/value-history.js")
    const { withIdentities } = await import("../../files/node-identities.js")
    const { NO_IDENTITY_ADVICE } = await import("../../files/open-file.js")
    // Every identity of the key files, retired ones included: they open old revisions.
    const entries = await withIdentities(io, [], NO_IDENTITY_ADVICE, (identities) =>
        valueHistory(abs, { identities, env: io.env, ...(keyPath !== undefined ? { keyPath } : {}) }),
    )
    if (entries.length === 0) {
        const { realpathSync } = await import("node:fs")
        const { relative, sep } = await import("node:path")
        let real = abs
        try {
            real = realpathSync.native(abs)
        } catch {
            // A deleted file: its path as given.
        }
        if ((await fileCommits(top, relative(top, real).split(sep).join("/"), io.env)).length === 0) {
            throw new SecretsError(ExitCode.Generic, `${quote(file)} has never been committed: it has no history yet`, [`commit it first: git add ${file} && git commit`])
        }
    }
    const shown = opts.maxCount === undefined ? entries : entries.slice(0, opts.maxCount)
    const { isoDate } = await import("../../files/revision-open.js")
    if (opts.json === true) {
        const out = shown.map((e) => ({
            commit: e.commit,
            date: isoDate(e.date),
            author: e.author,
            added: e.changes.added,
            changed: e.changes.changed,
            removed: e.changes.removed,
            undecided: e.undecided,
            ...(e.unreadable !== undefined ? { unreadable: e.unreadable } : {}),
        }))
        io.stdout.write(JSON.stringify(out, null, 2) + "\n")
        return
    }
    const lines: string[] = []
    for (const e of shown) {
        lines.push(`${e.commit.slice(0, 7)} ${isoDate(e.date)} ${e.author === "" ? "(unknown author)" : e.author}`)
        for (const p of e.changes.added) lines.push(`    + ${p}`)
        for (const p of e.changes.changed) lines.push(`    ~ ${p}`)
        for (const p of e.changes.removed) lines.push(`    - ${p}`)
        for (const p of e.undecided) lines.push(`    ? ${p}`)
        if (e.unreadable !== undefined) lines.push(`    (${e.unreadable})`)
    }
    if (lines.length > 0) io.stdout.write(lines.join("\n") + "\n")
    else info(io, `no commit changed ${keyPath === undefined ? "a value of" : keyPath + " in"} ${quote(file)}`)
}
