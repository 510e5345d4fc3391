/**
 * `secrets deploy`: install this host's secrets from the manifest into
 * /run/secrets (issue 12; src/delivery/deploy.ts does the work). Thin: flags,
 * where the manifest comes from, and how the result is printed. Output names
 * items and units, never a value, in text and in --json.
 */
import { Command, InvalidArgumentError, Option } from "commander"
import { hostname } from "node:os"
import { dirname, isAbsolute, join, relative, resolve } from "node:path"
import type { DeployManifest } from "../../config/deploy-manifest.js"
import type { DeployAction, DeployResult } from "../../delivery/deploy.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface DeployFlags {
    host?: string
    root?: string
    manifest?: string
    identity?: string[]
    keep?: number
    dryRun?: boolean
    check?: boolean
    rollback?: string | boolean
    json?: boolean
    restart?: boolean
    block?: boolean
    neededForUsers?: boolean
}

export function registerDeploy(program: Command, ctx: CommandContext): void {
    program
        .command("deploy")
        .description("install this host's secrets into /run/secrets: owners, modes, generations, rollback, service restarts")
        .addOption(new Option("--host <name>", "the host's entries to deploy (default: this machine's short host name)"))
        .addOption(new Option("--root <dir>", "deploy into this directory tree instead of / (tests, image builds)"))
        .addOption(new Option("--manifest <file>", "read the manifest from this JSON or YAML file instead of .sops.yaml's secrets:"))
        .addOption(
            new Option("--identity <file>", "decrypt with this age key file or SSH private key (repeatable; default: <root>/etc/ssh/ssh_host_ed25519_key)").argParser(
                (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
            ),
        )
        .addOption(new Option("--keep <n>", "generations to keep, the active one included (default: deploy_options.keep_generations, else 5)").argParser(keepCount))
        .addOption(new Option("--dry-run", "show what would change (names, never values); write nothing"))
        .addOption(new Option("--check", "exit 1 if the deployed secrets differ from the repository or were changed on disk"))
        .addOption(new Option("--rollback [generation]", "switch back to an earlier generation (default: the one before the active one); no decryption"))
        .addOption(new Option("--json", "print the result as JSON"))
        .addOption(new Option("--no-restart", "do not restart or reload the units of changed secrets"))
        .addOption(new Option("--needed-for-users", "deploy only the needed_for_users entries (to /run/secrets-for-users), before users exist; /run/secrets is left alone"))
        .addOption(new Option("--no-block", "queue restarts without waiting for them (systemctl --no-block), for use inside a unit the services are ordered after"))
        .addOption(o.ageKeyOp())
        .action(async (_opts: DeployFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<DeployFlags & o.GlobalOpts & { ageKeyOp?: string[] }>(), ctx.io.env)
            await ctx.dispatch("deploy", [], opts, () => runDeploy(o.withIdentityOptions(ctx, opts), opts))
        })
}

function keepCount(v: string): number {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 2) throw new InvalidArgumentError("must be a whole number of at least 2 (rollback needs the previous generation)")
    return Number(v)
}

export async function runDeploy(ctx: CommandContext, opts: DeployFlags & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const action = actionOf(opts)
    if (opts.neededForUsers === true && action.kind === "rollback") throw new SecretsError(ExitCode.ConflictingParameters, "--rollback and --needed-for-users cannot be used together")
    const root = resolve(io.cwd, opts.root ?? "/")
    const host = opts.host ?? hostname().split(".")[0] ?? ""
    if (host === "") throw new SecretsError(ExitCode.Generic, "this machine has no host name", ["name the host with --host"])
    const manifest = action.kind === "rollback" ? undefined : await loadManifest(io, opts)
    if (action.kind === "deploy" || action.kind === "rollback") await warnIfOnDisk(io, root)
    const { deploy } = await import("../../delivery/deploy.js")
    const result = await deploy(io, {
        host,
        root,
        ...(manifest !== undefined ? { manifest } : {}),
        identityFiles: (opts.identity ?? []).map((f) => resolve(io.cwd, f)),
        ...(opts.keep !== undefined ? { keep: opts.keep } : {}),
        action,
        restart: opts.restart !== false,
        noBlock: opts.block === false,
        neededForUsersOnly: opts.neededForUsers === true,
    })
    if (opts.json === true) io.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`)
    else printResult(io, result)
    const drift = result.stores.some((s) => s.drift.length > 0)
    const afterSwitch = result.stores.flatMap((s) => s.afterSwitch ?? [])
    if (afterSwitch.length > 0) {
        const { reportError } = await import("../report.js")
        // Exit 1 below, as for a failed restart: the deploy itself went through.
        for (const e of afterSwitch) reportError(io, e)
    }
    for (const f of result.unitFailures) {
        io.stderr.write(`secrets: error: systemctl ${f.verb} ${f.unit} failed: ${f.detail ?? "unknown error"}\n`)
    }
    if (result.unitFailures.length > 0) {
        const active = result.stores.find((s) => s.store === "secrets")?.active
        io.stderr.write(`secrets: hint: the new secrets are in place${active !== undefined ? ` (generation ${active} is active)` : ""}; fix the unit and restart it\n`)
        ctx.state.exitCode = ExitCode.Generic
    } else if ((action.kind === "check" && drift) || afterSwitch.length > 0) {
        ctx.state.exitCode = ExitCode.Generic
    }
}

function actionOf(opts: DeployFlags): DeployAction {
    const chosen = (["dryRun", "check", "rollback"] as const).filter((k) => opts[k] !== undefined && opts[k] !== false)
    if (chosen.length > 1) {
        const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
        throw new SecretsError(ExitCode.ConflictingParameters, `${flag(chosen[0] ?? "")} and ${flag(chosen[1] ?? "")} cannot be used together`)
    }
    if (opts.dryRun === true) return { kind: "dry-run" }
    if (opts.check === true) return { kind: "check" }
    if (opts.rollback === undefined || opts.rollback === false) return { kind: "deploy" }
    if (opts.rollback === true) return { kind: "rollback" }
    if (!/^[1-9]\d{0,14}$/.test(opts.rollback)) throw new SecretsError(ExitCode.Generic, `--rollback takes a generation number, got ${quote(opts.rollback)}`)
    return { kind: "rollback", to: Number(opts.rollback) }
}

async function loadManifest(io: Io, opts: DeployFlags & o.GlobalOpts): Promise<DeployManifest> {
    const { parseDeployManifest, parseManifestFile } = await import("../../config/deploy-manifest.js")
    if (opts.manifest !== undefined) {
        const abs = resolve(io.cwd, opts.manifest)
        const { readFile } = await import("node:fs/promises")
        const text = await readFile(abs, "utf8").catch((e: unknown) => {
            const code = (e as { code?: string }).code
            throw new SecretsError(code === "ENOENT" ? ExitCode.NoFileSpecified : ExitCode.CouldNotReadInputFile, `cannot read the manifest ${quote(opts.manifest ?? "")}: ${code === "ENOENT" ? "no such file" : (code ?? "error")}`)
        })
        return parseManifestFile(text, { source: opts.manifest, baseDir: dirname(abs), absoluteSourcesAllowed: true })
    }
    const { loadConfig } = await import("../../files/encryption-plan.js")
    const loaded = loadConfig(io, undefined, opts.config)
    if (loaded === undefined) {
        throw new ConfigError("no .sops.yaml found from the working directory upwards, so there is no deploy manifest", [
            "run deploy in the repository, or give --manifest FILE",
        ])
    }
    const shown = relative(io.cwd, loaded.path)
    const source = shown === "" || shown.startsWith("..") || isAbsolute(shown) ? loaded.path : shown
    return parseDeployManifest(loaded.config.secrets, { source, baseDir: dirname(loaded.path), absoluteSourcesAllowed: false }, false)
}

/** Plaintext secrets belong on tmpfs/ramfs (/run on a systemd host), not on a disk. */
async function warnIfOnDisk(io: Io, root: string): Promise<void> {
    const { notInMemory } = await import("../../delivery/run-mount.js")
    const run = join(root, "run")
    const type = await notInMemory(run)
    if (type === undefined) return
    const { warn } = await import("../report.js")
    warn(io, `${quote(run)} is on ${type}, not tmpfs or ramfs: the deployed plaintext is written to a disk, where it outlives a reboot`)
}

function printResult(io: Io, r: DeployResult): void {
    const out = (line: string) => io.stdout.write(`${line}\n`)
    for (const s of r.stores) {
        // The store by its path on the host (under --root, where the tree is).
        const store = `/run/${s.store}`
        const was = s.previous === undefined ? "none before" : `was ${s.previous}`
        if (r.action === "check") {
            out(s.drift.length === 0 ? `${store}: generation ${s.active ?? "?"} matches the repository` : `${store}: differs from the repository`)
            for (const d of s.drift) out(`  ${d.name}: ${d.problem}`)
            continue
        }
        if (r.action === "dry-run") out(s.built ? `${store}: would build a new generation (active: ${s.previous ?? "none"})` : `${store}: generation ${s.previous ?? "?"} is up to date; nothing to do`)
        else if (r.action === "rollback") out(`${store}: rolled back to generation ${s.active ?? "?"} (${was})`)
        else out(s.built ? `${store}: generation ${s.active ?? "?"} is active (${was})` : `${store}: generation ${s.active ?? "?"} is up to date; nothing to do`)
        for (const i of s.items) if (i.change !== "unchanged" || r.action === "dry-run") out(`  ${i.change.padEnd(11)} ${i.name}`)
        if (s.pruned.length > 0) out(`  pruned generation${s.pruned.length === 1 ? "" : "s"} ${s.pruned.join(", ")}`)
    }
    const verb = r.action === "dry-run" ? "would restart" : "restarted"
    if (r.restart.length > 0) out(`${verb}: ${r.restart.join(" ")}`)
    if (r.reload.length > 0) out(`${r.action === "dry-run" ? "would reload" : "reloaded"}: ${r.reload.join(" ")}`)
}

/** The --json document: snake_case, as status --json; names and numbers only. */
function toJson(r: DeployResult): object {
    return {
        host: r.host,
        action: r.action,
        stores: r.stores.map((s) => ({
            store: s.store,
            previous: s.previous ?? null,
            active: s.active ?? null,
            built: s.built,
            pruned: s.pruned,
            items: s.items,
            ...(r.action === "check" ? { drift: s.drift } : {}),
        })),
        restart: r.restart,
        reload: r.reload,
        failed_units: r.unitFailures.map((f) => ({ verb: f.verb, unit: f.unit, detail: f.detail ?? null })),
        errors_after_switch: r.stores.flatMap((s) => (s.afterSwitch ?? []).map((e) => e.message)),
        ok: r.unitFailures.length === 0 && r.stores.every((s) => s.drift.length === 0 && (s.afterSwitch ?? []).length === 0),
    }
}
