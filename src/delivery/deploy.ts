/**
 * `secrets deploy` (issue 12): a host's secrets from the manifest into
 * `<root>/run/secrets`, as sops-nix's sops-install-secrets does under NixOS
 * (deploy-anchors.md §1), on any Linux host:
 *
 * 1. plan: decrypt and render every entry, resolve owners (deploy-plan.ts); a
 *    failure here changes nothing and names the entry;
 * 2. per store, under its lock: build generation N (unless the active one is
 *    already exactly the plan, files on disk included: a refresh timer must not
 *    push the real previous generation out of the rollback window), switch the
 *    link, prune;
 * 3. after every switch (not before, as sops-nix does), restart or reload the
 *    units whose items are new or changed by content, each once; nothing on a
 *    first install. A failing unit is reported; the switch stands.
 *
 * `--dry-run` stops after the plan, `--check` compares plan and disk with the
 * active generation, `--rollback` switches `secrets` back without decrypting.
 */
import type { DeployManifest } from "../config/deploy-manifest.js"
import { ExitCode, SecretsError } from "../errors.js"
import type { Io } from "../files/io.js"
import { trace } from "../files/trace.js"
import { runUnitActions, type UnitAction, type UnitOutcome } from "../integrations/systemctl.js"
import type { DeployItem } from "./deploy-items.js"
import { asManifest, diffManifests, diskDrift, planItems, type Drift, type ItemChange, type StoreBase } from "./deploy-plan.js"
import { loadHostIdentities } from "./deploy-sources.js"
import {
    activeGeneration,
    buildGeneration,
    changedUnits,
    pruneGenerations,
    readManifest,
    rollbackTarget,
    switchGeneration,
    withStoreLock,
    type GenerationManifest,
    type GenerationStore,
} from "./generations.js"

export type DeployAction = { readonly kind: "deploy" } | { readonly kind: "dry-run" } | { readonly kind: "check" } | { readonly kind: "rollback"; readonly to?: number }

export interface DeployRequest {
    readonly host: string
    /** Absolute: "/" or the --root directory. */
    readonly root: string
    /** Undefined only for a rollback, which reads no manifest. */
    readonly manifest?: DeployManifest
    /** Absolute paths of --identity files; empty for the default host key. */
    readonly identityFiles: readonly string[]
    /** --keep; else the manifest's deploy_options.keep_generations. */
    readonly keep?: number
    readonly action: DeployAction
    /** False for --no-restart. */
    readonly restart: boolean
    readonly noBlock: boolean
    /**
     * --needed-for-users: only the needed_for_users entries, into secrets-for-users
     * (the NixOS module's step before users exist: sops-nix's setupSecretsForUsers).
     * The other entries are not planned, so their owners need not exist yet, and
     * /run/secrets is left as it is.
     */
    readonly neededForUsersOnly?: boolean
}

export interface StoreResult {
    readonly store: StoreBase
    readonly previous?: number
    /** The active generation afterwards (or that would be, for --dry-run: undefined when nothing would be built). */
    readonly active?: number
    /** A new generation was (or would be) built. */
    readonly built: boolean
    readonly pruned: readonly number[]
    readonly items: readonly ItemChange[]
    /** --check: how the active generation differs from the repository or from what was deployed. */
    readonly drift: readonly Drift[]
    /** Failures once the new generation was active (a `path` link, pruning): reported, the switch stands. */
    readonly afterSwitch?: readonly SecretsError[]
}

export interface DeployResult {
    readonly host: string
    readonly action: DeployAction["kind"]
    readonly stores: readonly StoreResult[]
    /** Units restarted (or that would be), each once. */
    readonly restart: readonly string[]
    readonly reload: readonly string[]
    /** Restarts and reloads that failed, after the switch. */
    readonly unitFailures: readonly UnitOutcome[]
}

/** What deploy did or would do. Throws (changing nothing) when the plan fails. */
export async function deploy(io: Io, req: DeployRequest): Promise<DeployResult> {
    if (req.action.kind === "rollback") return rollback(io, req, req.action.to)
    if (req.manifest === undefined) throw new SecretsError(ExitCode.Generic, "deploy needs a manifest")
    const manifest = req.neededForUsersOnly === true ? onlyNeededForUsers(req.manifest) : req.manifest
    const keep = req.keep ?? manifest.keepGenerations
    const identities = await loadHostIdentities(req.root, req.identityFiles)
    const plan = await planItems(io, manifest, req.host, req.root, identities)
    trace(io, `deploy: ${[...plan.items.values()].reduce((n, l) => n + l.length, 0)} items planned for ${req.host}`)

    const stores: StoreResult[] = []
    const restart = new Set<string>()
    const reload = new Set<string>()
    // secrets-for-users first, as sops-nix installs them before users are created.
    const bases: readonly StoreBase[] = req.neededForUsersOnly === true ? ["secrets-for-users"] : ["secrets-for-users", "secrets"]
    for (const base of bases) {
        const items = plan.items.get(base) ?? []
        const store: GenerationStore = { root: req.root, base, keep }
        // A store never used and still empty is not created (most hosts have no for-users entries).
        if (items.length === 0 && base === "secrets-for-users" && (await activeGeneration(store)) === undefined) continue
        const step = () => applyToStore(io, req.action.kind, store, items, restart, reload)
        // A deploy compares and switches under the store's lock, so that a second
        // deploy running at once compares against what the first one switched to.
        stores.push(req.action.kind === "deploy" ? await withStoreLock(store, step) : await step())
    }
    return finish(io, req, stores, restart, reload)
}

/** One store: compare the plan with the active generation, then check, plan or build, switch and prune. */
async function applyToStore(io: Io, action: DeployAction["kind"], store: GenerationStore, items: readonly DeployItem[], restart: Set<string>, reload: Set<string>): Promise<StoreResult> {
    const base = store.base
    const previous = await activeGeneration(store)
    const before = previous === undefined ? undefined : await readManifest(store, previous)
    const planned = asManifest(items)
    const changes = diffManifests(before, planned)
    const drift = before === undefined || previous === undefined ? [] : await diskDrift(store, previous, before)
    const upToDate = before !== undefined && drift.length === 0 && changes.every((c) => c.change === "unchanged")
    const was = previous !== undefined ? { previous } : {}

    if (action === "check") {
        const notDeployed =
            before === undefined
                ? [{ name: "*", problem: "nothing is deployed" }]
                : changes.filter((c) => c.change !== "unchanged").map((c) => ({ name: c.name, problem: `${c.change} in the repository, not deployed` }))
        return { store: base, ...was, ...(previous !== undefined ? { active: previous } : {}), built: false, pruned: [], items: changes, drift: [...notDeployed, ...drift] }
    }
    if (action === "dry-run") {
        addUnits(changedUnits(before, planned), restart, reload)
        return { store: base, ...was, built: !upToDate, pruned: [], items: changes, drift: [] }
    }
    if (upToDate) {
        trace(io, `deploy: ${base}: generation ${previous} already holds exactly this; nothing built`)
        return { store: base, ...was, active: previous, built: false, pruned: [], items: changes, drift: [] }
    }
    const n = await buildGeneration(store, items, { now: () => io.now(), afterItem: (name) => trace(io, `deploy: ${base}: wrote ${JSON.stringify(name)}`) })
    const afterSwitch: SecretsError[] = []
    try {
        await switchGeneration(store, n)
    } catch (e) {
        // A `path` link that could not be made fails after the link switched: the new
        // secrets are live, so their services are still restarted; the error is kept.
        if (!(e instanceof SecretsError) || (await activeGeneration(store)) !== n) throw e
        afterSwitch.push(e)
    }
    const next = await readManifest(store, n)
    const pruned = await pruneGenerations(store).catch((e: unknown) => {
        if (!(e instanceof SecretsError)) throw e
        afterSwitch.push(e)
        return []
    })
    if (next !== undefined) addUnits(changedUnits(before, next), restart, reload)
    return { store: base, ...was, active: n, built: true, pruned, items: changes, drift: [], afterSwitch }
}

function onlyNeededForUsers(manifest: DeployManifest): DeployManifest {
    return { ...manifest, hosts: new Map([...manifest.hosts].map(([host, entries]) => [host, entries.filter((e) => e.neededForUsers)])) }
}

async function rollback(io: Io, req: DeployRequest, to: number | undefined): Promise<DeployResult> {
    // Only `secrets`: the for-users store holds root's pre-user secrets, numbered on its own.
    const store: GenerationStore = { root: req.root, base: "secrets", keep: req.keep ?? 2 }
    const restart = new Set<string>()
    const reload = new Set<string>()
    const result = await withStoreLock(store, async () => {
        const previous = await activeGeneration(store)
        const before = previous === undefined ? undefined : await readManifest(store, previous)
        const target = await rollbackTarget(store, to)
        await switchGeneration(store, target)
        const next = (await readManifest(store, target)) as GenerationManifest
        // No first-install rule here: rolling back to a generation is a change to it.
        addUnits(changedUnits(before ?? { generation: 0, created: "", items: [] }, next), restart, reload)
        return { store: "secrets" as const, ...(previous !== undefined ? { previous } : {}), active: target, built: false, pruned: [], items: diffManifests(before, next), drift: [] }
    })
    return finish(io, req, [result], restart, reload)
}

function addUnits(units: { restart: string[]; reload: string[] }, restart: Set<string>, reload: Set<string>): void {
    for (const u of units.restart) restart.add(u)
    for (const u of units.reload) reload.add(u)
}

async function finish(io: Io, req: DeployRequest, stores: StoreResult[], restartSet: Set<string>, reloadSet: Set<string>): Promise<DeployResult> {
    const restart = [...restartSet]
    const reload = [...reloadSet].filter((u) => !restartSet.has(u))
    let unitFailures: UnitOutcome[] = []
    const acts = req.action.kind === "deploy" || req.action.kind === "rollback"
    if (acts && req.restart && restart.length + reload.length > 0) {
        const actions: UnitAction[] = [...restart.map((unit) => ({ verb: "try-restart" as const, unit })), ...reload.map((unit) => ({ verb: "try-reload-or-restart" as const, unit }))]
        trace(io, `deploy: systemctl for ${actions.map((a) => a.unit).join(", ")}`)
        unitFailures = (await runUnitActions(actions, io.env, { noBlock: req.noBlock })).filter((o) => !o.ok)
    }
    return { host: req.host, action: req.action.kind, stores, restart: acts && !req.restart ? [] : restart, reload: acts && !req.restart ? [] : reload, unitFailures }
}
