/**
 * The generation store (issue 12): each deploy writes a complete new directory
 * `<root>/run/secrets.d/N`, then switches the `<root>/run/secrets` link to it
 * with one rename(2), so a reader (or a SIGKILL at any moment) only ever sees a
 * whole generation: the old one or the new one. Layout, numbering and pruning
 * follow sops-nix (deploy-anchors.md §1.3); the rest is §5's "do better".
 *
 * - Build: N is one more than the newest complete generation (or the active
 *   one); whatever sits at `secrets.d/N` (a build that died there, a planted
 *   link) is removed first, unfollowed. Files are created O_EXCL|O_NOFOLLOW
 *   0600, then chowned and chmodded to exactly what the entry says, fsynced;
 *   the manifest comes last, by rename, and marks N complete. Any failure
 *   removes N: the active generation is not touched.
 * - Switch: a fresh link beside the stable one, renamed over it; then `path`
 *   links (path-links.ts).
 * - Prune: numeric entries <= active - keep; never the active one, never a
 *   name that is not a number.
 * - Rollback: a switch to an earlier complete generation, no decryption.
 *
 * The caller decrypts and renders everything before building, and holds
 * {@link withStoreLock} across build, switch and prune.
 */
import { randomBytes } from "node:crypto"
import { chmod, mkdir, rename, rm, symlink, unlink } from "node:fs/promises"
import { dirname, join } from "node:path"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { withFileLock } from "../files/file-lock.js"
import {
    GENERATION_DIR_MODE,
    activeGeneration,
    errnoCode,
    generationDir,
    generationEntries,
    linkText,
    prepareStore,
    removeStaleTempLinks,
    storeError,
    storePaths,
    syncDir,
    tempLinkName,
    writeNewFile,
    type GenerationStore,
} from "./generation-layout.js"
import { MANIFEST_NAME, readManifest, serializeManifest, sha256Hex, type GenerationManifest, type ManifestItem } from "./generation-manifest.js"
import { checkItems } from "./deploy-items.js"
import { checkLinkLocations, updatePathLinks } from "./path-links.js"

export { activeGeneration, storePaths, type GenerationStore } from "./generation-layout.js"
export { changedUnits, readManifest, type GenerationManifest, type ManifestItem } from "./generation-manifest.js"
export type { DeployItem } from "./deploy-items.js"
import type { DeployItem } from "./deploy-items.js"

export interface BuildOptions {
    /** Called after each item's file is complete on disk: progress for --verbose (and the crash test's cue). */
    readonly afterItem?: (name: string) => void | Promise<void>
    /** The build time recorded in the manifest. */
    readonly now?: () => Date
}

/**
 * Write generation N = newest complete (or active) + 1 completely; it is not
 * active until {@link switchGeneration}. On failure nothing of N is left and the
 * error names the item; the active generation is unchanged.
 */
export async function buildGeneration(store: GenerationStore, items: readonly DeployItem[], opts: BuildOptions = {}): Promise<number> {
    checkItems(items)
    const paths = await prepareStore(store)
    await checkLinkLocations(store, items)
    const n = await nextGeneration(store)
    const dir = generationDir(store, n)
    let current = "the generation directory"
    try {
        // rm never follows a link: a symlink planted at N is removed, not its target.
        await rm(dir, { recursive: true, force: true })
        await mkdir(dir, { mode: GENERATION_DIR_MODE })
        await chmod(dir, GENERATION_DIR_MODE)
        const dirs = [dir]
        const manifestItems: ManifestItem[] = []
        for (const item of items) {
            current = quote(item.name)
            await makeParents(dir, item.name, dirs)
            await writeNewFile(join(dir, item.name), item.content, item.uid, item.gid, item.mode)
            manifestItems.push({
                name: item.name,
                sha256: sha256Hex(item.content),
                mode: item.mode,
                uid: item.uid,
                gid: item.gid,
                ...(item.link === undefined ? {} : { link: item.link }),
                restartUnits: [...item.restartUnits],
                reloadUnits: [...item.reloadUnits],
            })
            await opts.afterItem?.(item.name)
        }
        current = "the generation's manifest"
        // Every entry durable before the manifest says the generation is complete.
        for (const d of dirs.reverse()) await syncDir(d)
        const manifest: GenerationManifest = { generation: n, created: (opts.now?.() ?? new Date()).toISOString(), items: manifestItems }
        const tmp = join(dir, `${MANIFEST_NAME}.tmp`)
        await writeNewFile(tmp, serializeManifest(manifest), process.geteuid?.() ?? 0, process.getegid?.() ?? 0, 0o400)
        await rename(tmp, join(dir, MANIFEST_NAME))
        await syncDir(dir)
        await syncDir(paths.generations)
    } catch (e) {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined)
        const why = e instanceof SecretsError ? e : undefined
        const reason = why?.detail ?? errnoCode(e) ?? (e instanceof Error ? e.name : "unknown error")
        throw new SecretsError(why?.code ?? ExitCode.CouldNotWriteOutputFile, `could not build generation ${n} in ${quote(paths.generations)}: ${current}: ${reason}`, [
            ...(why?.hints ?? []),
            `nothing was switched: ${quote(paths.link)} is as it was before this deploy`,
        ])
    }
    return n
}

/**
 * Make generation n the active one, atomically, then bring the `path` links in
 * line with it. n must be complete. A failure with the links comes after the
 * switch: the error says that n is active.
 */
export async function switchGeneration(store: GenerationStore, n: number): Promise<void> {
    const paths = await prepareStore(store)
    const next = await readManifest(store, n)
    if (next === undefined) {
        throw new SecretsError(ExitCode.Generic, `generation ${n} in ${quote(paths.generations)} is missing or incomplete (no ${MANIFEST_NAME}); not switching to it`)
    }
    await removeStaleTempLinks(paths.run, store.base, (t) => t.startsWith(`${store.base}.d/`))
    const tmp = join(paths.run, tempLinkName(store.base, randomBytes(6).toString("hex")))
    try {
        // Never unlink-then-create: between the two there would be no /run/secrets.
        await symlink(linkText(store, n), tmp)
        await rename(tmp, paths.link)
        await syncDir(paths.run)
    } catch (e) {
        await unlink(tmp).catch(() => undefined)
        throw storeError(paths.link, e, "could not switch")
    }
    const others: GenerationManifest[] = []
    for (const g of (await generationEntries(store)).numbered) {
        if (g === n) continue
        const m = await readManifest(store, g)
        if (m !== undefined) others.push(m)
    }
    await updatePathLinks(store, next, others)
}

/** Remove generations <= active - keep (never the active one, never non-numeric names); returns the numbers removed. */
export async function pruneGenerations(store: GenerationStore): Promise<number[]> {
    const paths = await prepareStore(store)
    const active = await activeGeneration(store)
    if (active === undefined) return []
    const { numbered, other } = await generationEntries(store)
    const removed: number[] = []
    for (const g of [...numbered, ...other].sort((a, b) => a - b)) {
        if (g === active || g > active - store.keep) continue
        await rm(join(paths.generations, String(g)), { recursive: true, force: true }).catch((e: unknown) => {
            throw storeError(join(paths.generations, String(g)), e, "could not remove")
        })
        removed.push(g)
    }
    return removed
}

export interface GenerationInfo {
    readonly n: number
    readonly active: boolean
    /** Has a manifest: a build that finished. Only complete generations are switched to. */
    readonly complete: boolean
}

/** Every generation directory, ascending. */
export async function listGenerations(store: GenerationStore): Promise<GenerationInfo[]> {
    const active = await activeGeneration(store)
    const list: GenerationInfo[] = []
    for (const n of (await generationEntries(store)).numbered) {
        list.push({ n, active: n === active, complete: (await readManifest(store, n)) !== undefined })
    }
    return list
}

/**
 * The generation `--rollback [N]` switches to: N if it is complete, else the
 * newest complete generation below the active one.
 */
export async function rollbackTarget(store: GenerationStore, n?: number): Promise<number> {
    const list = await listGenerations(store)
    const complete = list.filter((g) => g.complete).map((g) => g.n)
    const have = complete.length > 0 ? `complete generations: ${complete.join(", ")}` : "there is no complete generation"
    if (n !== undefined) {
        if (complete.includes(n)) return n
        throw new SecretsError(ExitCode.Generic, `cannot roll back to generation ${n}: it is ${list.some((g) => g.n === n) ? "incomplete" : "not there"}`, [have])
    }
    const active = await activeGeneration(store)
    const earlier = complete.filter((g) => active === undefined || g < active)
    const target = earlier.at(-1)
    if (target === undefined) {
        throw new SecretsError(ExitCode.Generic, `no earlier generation to roll back to${active === undefined ? " (none is active)" : ` than the active ${active}`}`, [have])
    }
    return target
}

/**
 * Run `fn` holding the store's lock (`<root>/run/<base>.d.lock`), so that two
 * deploys at once cannot both build N, or prune what the other switches to. A
 * lock left by a SIGKILLed deploy is taken over at once (files/file-lock.ts).
 */
export async function withStoreLock<T>(store: GenerationStore, fn: () => Promise<T>): Promise<T> {
    const paths = storePaths(store)
    await mkdir(paths.run, { recursive: true, mode: 0o755 })
    return withFileLock(paths.generations, fn)
}

/** One more than the newest complete or active generation: numbering goes on after a crash, and a dead build's N is reused. */
async function nextGeneration(store: GenerationStore): Promise<number> {
    let newest = (await activeGeneration(store)) ?? 0
    for (const g of (await generationEntries(store)).numbered) {
        if (g > newest && (await readManifest(store, g)) !== undefined) newest = g
    }
    return newest + 1
}

/** mkdir each directory of a nested name ("a/b/c" → a, a/b) inside the generation, 0751 like it. */
async function makeParents(dir: string, name: string, made: string[]): Promise<void> {
    const parent = dirname(name)
    if (parent === ".") return
    let at = dir
    for (const segment of parent.split("/")) {
        at = join(at, segment)
        if (made.includes(at)) continue
        await mkdir(at, { mode: GENERATION_DIR_MODE })
        await chmod(at, GENERATION_DIR_MODE)
        made.push(at)
    }
}
