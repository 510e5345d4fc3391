/**
 * `secrets git setup [--check] [--global] [--json] [--command CMD]` (issue 15 §1):
 * `.gitattributes` lines for the encrypted paths of `.sops.yaml`, the diff and merge
 * drivers in git config, and the pre-commit hook (src/fleet/git-setup.ts). Setup
 * prints one line per thing done, or "already set up"; `--check` changes nothing,
 * prints what is missing or wrong and exits 1 when anything is.
 */
import { Command, Option } from "commander"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface GitSetupFlags {
    check?: boolean
    global?: boolean
    json?: boolean
    command?: string
}

export function registerGitSetup(git: Command, ctx: CommandContext): void {
    git.command("setup")
        .description("set up the repository for encrypted files: .gitattributes, the diff and merge drivers, the pre-commit hook")
        .addOption(new Option("--check", "change nothing: list what is missing or wrong, exit 1 when anything is"))
        .addOption(new Option("--global", "the diff and merge drivers in your global git config only (attributes and hooks are per repository)"))
        .addOption(new Option("--json", "print the result as JSON"))
        .addOption(new Option("--command <cmd>", "the command git runs for secrets (default: the one set up before, else secrets, found on PATH)"))
        .action(async (_opts: GitSetupFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<GitSetupFlags & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("git setup", [], opts, () => runGitSetup(ctx, opts))
        })
}

/** What to do about files whose attributes another line overrides: setup does not edit the user's lines. */
const OVERRIDE_HINT = "remove the diff/merge setting that overrides setup's: a later line in .gitattributes, a .gitattributes in a subdirectory, or .git/info/attributes"

async function runGitSetup(ctx: CommandContext, opts: GitSetupFlags & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { planGitSetup, applyGitSetup } = await import("../../fleet/git-setup.js")
    const { info, warn, hint } = await import("../../files/diagnostics.js")
    const plan = await planGitSetup(io, {
        global: opts.global === true,
        ...(opts.command !== undefined ? { command: opts.command } : {}),
        loadConfig: async () => {
            const { fleetConfigPath } = await import("./status.js")
            const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
            const loaded = await loadFleetConfig(io, await fleetConfigPath(io, opts.config))
            return { path: loaded.path, config: loaded.config }
        },
    })
    if (plan.commandNotOnPath) {
        warn(io, "`secrets` is not on PATH, where git looks for the drivers and the hook")
        hint(io, "put it on PATH, or run setup again with --command /path/to/secrets")
    }
    const base = { scope: plan.scope === "global" ? "global" : "repository", top: plan.top ?? null, notes: plan.notes }
    if (opts.check === true) {
        const problems = plan.items.map((i) => ({ part: i.part, problem: i.problem }))
        // With our block current, ask git what the files really get.
        const overridden = plan.items.some((i) => i.part === "attributes") ? [] : ((await plan.overrides?.()) ?? [])
        for (const problem of overridden) problems.push({ part: "attributes", problem })
        if (opts.json === true) io.stdout.write(`${JSON.stringify({ ok: problems.length === 0, ...base, problems }, null, 2)}\n`)
        else for (const p of problems) io.stdout.write(`${p.problem}\n`)
        for (const n of plan.notes) if (opts.json !== true) info(io, n)
        if (problems.length === 0) {
            if (opts.json !== true) info(io, "already set up")
            return
        }
        const { ExitCode, SecretsError } = await import("../../errors.js")
        const n = problems.length
        const hints = [
            ...(plan.items.length > 0 ? [`run \`secrets git setup${opts.global === true ? " --global" : ""}\``] : []),
            ...(overridden.length > 0 ? [OVERRIDE_HINT] : []),
        ]
        throw new SecretsError(ExitCode.Generic, `not set up: ${n} thing${n === 1 ? "" : "s"} missing or wrong`, hints)
    }
    const done = await applyGitSetup(plan)
    const overridden = (await plan.overrides?.()) ?? []
    for (const line of overridden) warn(io, line)
    if (overridden.length > 0) hint(io, OVERRIDE_HINT)
    if (opts.json === true) io.stdout.write(`${JSON.stringify({ ok: overridden.length === 0, ...base, done, overridden }, null, 2)}\n`)
    else {
        for (const line of done) info(io, line)
        // The notes (paths listed file by file) come with a change; a run with nothing to do stays one line.
        if (done.length > 0) for (const n of plan.notes) info(io, n)
        if (done.length === 0) info(io, "already set up")
    }
}
