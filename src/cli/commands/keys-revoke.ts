/**
 * `secrets keys revoke NAME` (new data keys for every file the key could open) and
 * `secrets keys rotate NAME` (replace one identity, resumable). The work is in
 * src/fleet/revoke.ts and src/fleet/rotate-identity.ts.
 */
import { Command, Option } from "commander"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface RevokeFlags {
    dryRun?: boolean
    yes?: boolean
}

interface RotateFlags {
    abort?: boolean
    age?: string
    output?: string
    yes?: boolean
}

export function registerKeysRevoke(keys: Command, ctx: CommandContext): void {
    keys.command("revoke")
        .description("remove a named key from .sops.yaml and give every file it could open a new data key")
        .argument("<name>", "the key's name (web1, alice) or anchor (host_web1, user_alice, recovery)")
        .addOption(new Option("--dry-run", "print what would change and the values the key could read; write nothing"))
        .addOption(new Option("-y, --yes", "apply without asking"))
        .action(async (name: string, _opts: RevokeFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RevokeFlags & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("keys revoke", [name], opts, async () => {
                const { revokeKey } = await import("../../fleet/revoke.js")
                const { repoRun } = await import("../report.js")
                await revokeKey(repoRun(ctx.io), name, { configPath: await configPathFor(ctx.io, opts.config), dryRun: opts.dryRun === true, yes: opts.yes === true })
            })
        })

    keys.command("rotate")
        .description("replace a named key with a new one and re-wrap every file for it (resumable)")
        .argument("<name>", "the key's name (web1, alice) or anchor (host_web1, user_alice, recovery)")
        .addOption(new Option("--abort", "drop the state of an interrupted rotation"))
        .addOption(new Option("--age <recipient>", "use this new recipient (a key made on the host) instead of generating one"))
        .addOption(new Option("--output <file>", "write a newly generated identity here when it is not the local user's"))
        .addOption(new Option("-y, --yes", "rotate (or resume) without asking"))
        .action(async (name: string, _opts: RotateFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<Omit<RotateFlags, "age"> & o.GlobalOpts>(), ctx.io.env)
            // Not SOPS_AGE_RECIPIENTS: only an explicit --age names the new key.
            const age = cmd.opts<RotateFlags>().age
            await ctx.dispatch("keys rotate", [name], { ...opts, ...(age !== undefined ? { age } : {}) }, async () => {
                const { rotateIdentity } = await import("../../fleet/rotate-identity.js")
                await rotateIdentity(ctx.io, name, {
                    configPath: await configPathFor(ctx.io, opts.config),
                    abort: opts.abort === true,
                    yes: opts.yes === true,
                    ...(age !== undefined ? { age } : {}),
                    ...(opts.output !== undefined ? { output: opts.output } : {}),
                })
            })
        })
}

/** `--config` / SOPS_CONFIG, else the nearest .sops.yaml from the working directory up. */
async function configPathFor(io: Io, explicit: string | undefined): Promise<string> {
    const { existsSync } = await import("node:fs")
    const { findConfig } = await import("../../config/load.js")
    const { ConfigError } = await import("../../errors.js")
    const path = findConfig({ cwd: io.cwd, ...(explicit !== undefined ? { explicit } : {}), exists: existsSync })
    if (path === undefined) {
        throw new ConfigError("no .sops.yaml found in this directory or above", ["run `secrets init` first, or pass --config"])
    }
    return path
}
