/**
 * `secrets rotate-value FILE KEYPATH` and `secrets rotate-value --due` (issue 16
 * §4): give a value a new random value under its policy in `.sops.yaml`
 * (`secrets.values`, src/fleet/value-policy.ts), put it into service with the
 * policy's hook, and only then write it to the file.
 *
 * Order, and why:
 * 1. Policy and confirmation first, before the lock: a prompt must not hold the
 *    file's lock, and a refusal must change nothing.
 * 2. Under the file's lock (modifyEncryptedFile), after the file opened and its MAC
 *    checked: generate the value, run the hook with it on stdin, then seal. A file
 *    that cannot be opened or written never gets a hook run, so the service is
 *    never given a value the file will not hold; a hook that fails leaves the file
 *    byte-identical (nothing is written when the change throws).
 * 3. Written as `set` writes: every other value keeps its ciphertext (IV stash),
 *    same data key, new MAC and lastmodified, creation-rule checks.
 *
 * The hook comes from `.sops.yaml`, which whoever can push to the repository
 * writes: running it is running their program as you. So it is shown and needs
 * `--yes` or a yes at a terminal, as updatekeys does for key changes.
 */
import { randomBytes } from "node:crypto"
import { relative, resolve, sep } from "node:path"
import { Option, type Command } from "commander"
import { ConfigError, ExitCode, SecretsError, quote } from "../../errors.js"
import type { GeneratorSpec } from "../../core/value-generators.js"
import type { ValuePolicy } from "../../fleet/value-policy.js"
import type { Io } from "../../files/io.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { info } from "../report.js"

export interface RotateValueOptions {
    readonly due?: boolean
    readonly dryRun?: boolean
    readonly yes?: boolean
    readonly json?: boolean
    readonly decryptionOrder?: string
}

const EXAMPLES = `
The value's policy in .sops.yaml must say how to generate it:
  secrets:
    values:
      - path: '["db"]["password"]'
        generate: password:32        # or hex:N, base64:N, uuid
        rotate_every: 90d
        hook: ./scripts/set-db-password.sh   # gets the new value on stdin

Examples:
  secrets rotate-value secrets/app.yaml '["db"]["password"]' --dry-run
  secrets rotate-value secrets/app.yaml '["db"]["password"]' --yes
  secrets rotate-value --due --dry-run
`

export function registerRotateValue(program: Command, ctx: CommandContext): void {
    program
        .command("rotate-value")
        .description("give a value a new random value under its policy in .sops.yaml, running the policy's hook first")
        .argument("[file]", "the encrypted file")
        .argument("[keypath]", `the value, e.g. '["db"]["password"]'`)
        .addOption(new Option("--due", "rotate every value under the config that is due or expired under its policy"))
        .addOption(new Option("--dry-run", "print what would be rotated; generate, run and write nothing"))
        .addOption(new Option("-y, --yes", "run the policies' hooks without asking"))
        .addOption(new Option("--json", "print the result as JSON"))
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string | undefined, keyPath: string | undefined, _opts: unknown, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RotateValueOptions & o.GlobalOpts>(), ctx.io.env)
            if (opts.due === true) {
                if (file !== undefined) cmd.error("error: --due rotates the values their policies say are due: give no file with it", { code: "commander.invalidArgument" })
                await ctx.dispatch("rotate-value --due", [], opts, async () => {
                    const { runRotateValueDue } = await import("./rotate-value-due.js")
                    await runRotateValueDue(o.withIdentityOptions(ctx, opts), opts)
                })
                return
            }
            if (file === undefined || keyPath === undefined) {
                cmd.error("error: rotate-value takes FILE and KEYPATH (or --due)", { code: "commander.missingArgument" })
            }
            await ctx.dispatch("rotate-value", [file, keyPath], opts, async () => {
                const c = o.withIdentityOptions(ctx, opts, file)
                const target = await resolveTarget(c.io, file, keyPath, opts.config)
                if (target.policy.hook !== undefined && opts.dryRun !== true) await confirmHooks(c.io, opts.yes === true, [target])
                const result = await rotateOneValue(c, target, opts)
                printResults(c.io, [result], opts)
            })
        })
}

/** One value to rotate and the policy that says how. */
export interface RotationTarget {
    /** As the user gave it (single) or relative to the cwd (--due). */
    readonly file: string
    /** Relative to the config's directory, `/`-separated. */
    readonly rel: string
    readonly keyPath: string
    readonly policy: ValuePolicy & { readonly generate: GeneratorSpec }
    readonly configDir: string
}

export interface RotationResult {
    readonly file: string
    readonly keyPath: string
    readonly generator: string
    /** "ok" when a hook ran and exited 0; null when the policy has none. */
    readonly hook: "ok" | null
    readonly dryRun: boolean
}

/** The policy of `keyPath` in `file`, which must have `generate:`; else one line naming the config and the fix. */
async function resolveTarget(io: Io, file: string, keyPath: string, explicitConfig: string | undefined): Promise<RotationTarget> {
    const { governingConfig } = await import("../../files/node-identities.js")
    const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const { valuePolicies, policyFor } = await import("../../fleet/value-policy.js")
    const { parseTreePath, describePath } = await import("../../core/tree-path.js")
    const path = parseTreePath(keyPath)
    const configPath = governingConfig(io, { file, ...(explicitConfig !== undefined ? { config: explicitConfig } : {}) })
    if (configPath === undefined) {
        throw new ConfigError(`${quote(file)}: no .sops.yaml governs it, so no policy says how to generate ${describePath(path)}`, [
            "add a secrets.values policy with generate: (see secrets rotate-value --help) to the .sops.yaml above the file",
        ])
    }
    const loaded = await loadFleetConfig(io, configPath)
    const shown = relative(io.cwd, configPath) || configPath
    const policies = valuePolicies(loaded.config.secrets, shown)
    const rel = relative(loaded.dir, resolve(io.cwd, file)).split(sep).join("/")
    const policy = policyFor(policies, rel, path)
    const text = describePath(path)
    if (policy?.generate === undefined) {
        throw new ConfigError(
            policy === undefined ? `${shown}: no secrets.values policy covers ${text} of ${rel}` : `${shown}: secrets.values[${policy.index}] (${policy.pathText}) has no generate:`,
            [`add \`generate: password:32\` (or hex:N, base64:N, uuid) to ${policy === undefined ? `a policy with path: '${text}'` : `secrets.values[${policy.index}]`} in ${shown}`],
        )
    }
    return { file, rel, keyPath: text, policy: { ...policy, generate: policy.generate }, configDir: loaded.dir }
}

/**
 * Show every hook that would run and go on only with `--yes` or a yes at a
 * terminal: the commands come from `.sops.yaml`, which a repository's author controls.
 */
export async function confirmHooks(io: Io, yes: boolean, targets: readonly RotationTarget[]): Promise<void> {
    const { hookArgv } = await import("../../integrations/value-hook.js")
    const { confirmOrRefuse } = await import("../../fleet/rekey-repo.js")
    const hooks = [...new Map(targets.flatMap((t) => (t.policy.hook === undefined ? [] : [[`${t.configDir}\0${t.policy.hook}`, t] as const]))).values()]
    if (hooks.length === 0) return
    for (const t of hooks) {
        const { program, args } = hookArgv(t.policy.hook ?? "", t.configDir)
        io.stderr.write(`secrets: the value policy in .sops.yaml runs: ${[program, ...args].join(" ")} (in ${t.configDir}, new value on stdin)\n`)
    }
    const hint = "the hook comes from .sops.yaml and runs as you: read it, then pass --yes to run it without a terminal (or --dry-run to only see what would happen)"
    if (!yes && io.stdin.isTTY !== true) throw new SecretsError(ExitCode.Generic, "not running a hook from .sops.yaml without confirmation, and there is no terminal to ask at", [hint])
    await confirmOrRefuse(io, yes, `run ${hooks.length === 1 ? "this hook" : "these hooks"} with the new value${targets.length === 1 ? "" : "s"}?`, [hint])
}

export function generatorText(g: GeneratorSpec): string {
    return g.kind === "uuid" ? "uuid" : `${g.kind}:${g.kind === "password" ? g.length : g.bytes}`
}

/** Generate, run the hook, write: see the head comment for the order. */
export async function rotateOneValue(ctx: CommandContext, t: RotationTarget, opts: RotateValueOptions & o.GlobalOpts): Promise<RotationResult> {
    const { io } = ctx
    const { noteFile, noteKeyPath } = await import("../../files/audit-collector.js")
    noteFile(io, t.file)
    noteKeyPath(io, t.keyPath)
    const base = { file: t.file, keyPath: t.keyPath, generator: generatorText(t.policy.generate), dryRun: opts.dryRun === true }
    if (opts.dryRun === true) return { ...base, hook: t.policy.hook === undefined ? null : "ok" }
    const { generateValue } = await import("../../core/value-generators.js")
    const { parseTreePath, setAt } = await import("../../core/tree-path.js")
    const { runValueHook } = await import("../../integrations/value-hook.js")
    const { modifyEncryptedFile } = await import("../../files/modify-file.js")
    const { assertFileExists, firstDocument, sealAgain } = await import("./set.js")
    const { creationRuleOf, warnRuleDrift, checkClearValues } = await import("../rule-checks.js")
    await assertFileExists(io, t.file)
    const creation = creationRuleOf(io, t.file, opts.config)
    const path = parseTreePath(t.keyPath)
    await modifyEncryptedFile(
        io,
        t.file,
        { ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}), ...(opts.indent !== undefined ? { indent: opts.indent } : {}) },
        async (opened, store) => {
            const drift = creation === undefined ? undefined : warnRuleDrift(io, t.file, opened.metadata, creation, store.format === "binary")
            const first = firstDocument(opened, t.file)
            const value = generateValue(t.policy.generate, (n) => randomBytes(n))
            const branches = [setAt(first, path, { kind: "str", value }), ...opened.branches.slice(1)]
            // A value the rule leaves in clear is refused before the hook runs: the service must not get it either.
            checkClearValues(io, "rotate-value", t.file, opened.branches, branches, drift, false)
            const sealed = await sealAgain(branches, store, opened, io, t.file)
            if (t.policy.hook !== undefined) {
                await runValueHook({
                    hook: t.policy.hook,
                    configDir: t.configDir,
                    value,
                    file: t.rel,
                    keyPath: t.keyPath,
                    ...(t.policy.category !== undefined ? { category: t.policy.category } : {}),
                    env: io.env,
                    onOutput: (text) => io.stderr.write(text),
                })
            }
            return sealed
        },
    )
    return { ...base, hook: t.policy.hook === undefined ? null : "ok" }
}

export function printResults(io: Io, results: readonly RotationResult[], opts: RotateValueOptions): void {
    if (opts.json === true) {
        io.stdout.write(`${JSON.stringify(results.length === 1 && opts.due !== true ? results[0] : results, null, 2)}\n`)
        return
    }
    for (const r of results) {
        const how = r.hook === null ? r.generator : `${r.generator}, hook ${r.dryRun ? "would run" : "ok"}`
        io.stdout.write(`${r.dryRun ? "would rotate" : "rotated"} ${r.keyPath} in ${r.file} (${how})\n`)
    }
    if (opts.dryRun === true) info(io, "dry run: nothing generated, run or written")
}
