/**
 * `path:` links (sops-nix's `path`, deploy-anchors.md §1.8): a symlink at an
 * absolute path elsewhere on the host, pointing at `<root>/run/secrets/<name>`,
 * through the stable link, so it follows every switch and rollback without
 * being touched.
 *
 * What we do better than sops-nix: a link is replaced by renaming a new link
 * over it, so nothing at that path is ever opened or followed (a planted
 * `path -> /etc/shadow` is replaced, /etc/shadow never written); a regular file
 * or directory at the path is refused before anything is built, rather than
 * deleted; and links that the active generation no longer names are removed,
 * but only while they still point into our tree (#574, #605 there).
 */
import { randomBytes } from "node:crypto"
import { lchown, lstat, mkdir, readlink, rename, symlink, unlink } from "node:fs/promises"
import { basename, dirname, join, posix } from "node:path"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { errnoCode, removeStaleTempLinks, storePaths, tempLinkName, type GenerationStore } from "./generation-layout.js"
import type { GenerationManifest } from "./generation-manifest.js"

/** Where the link for an item lives under the store's root. */
export function linkLocation(store: GenerationStore, link: string): string {
    return join(store.root, link)
}

/** What the link says: the item through the stable link. */
export function linkTarget(store: GenerationStore, name: string): string {
    return join(storePaths(store).link, name)
}

/** A `path:` we accept: absolute, normalized, and outside the trees deploy switches and prunes. */
export function checkLinkPath(link: string, item: string): void {
    const own = ["/run/secrets", "/run/secrets.d", "/run/secrets-for-users", "/run/secrets-for-users.d"]
    if (!link.startsWith("/") || link === "/" || link.includes("\0") || posix.normalize(link) !== link || link.endsWith("/") || own.some((t) => link === t || link.startsWith(`${t}/`))) {
        throw new SecretsError(ExitCode.Generic, `${quote(item)}: the path ${quote(link)} must be an absolute, normalized path outside /run/secrets*`)
    }
}

/**
 * Before a build: every link location must be free or hold a symlink, which we
 * may replace. Anything else is someone's file, which deploy will not delete.
 */
export async function checkLinkLocations(store: GenerationStore, items: readonly { name: string; link?: string }[]): Promise<void> {
    for (const item of items) {
        if (item.link === undefined) continue
        checkLinkPath(item.link, item.name)
        const at = linkLocation(store, item.link)
        const st = await lstat(at).catch((e: unknown) => {
            if (errnoCode(e) === "ENOENT") return undefined
            if (errnoCode(e) === "ENOTDIR") throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(item.name)}: cannot make a link at ${quote(at)}: a directory on its path is a file`)
            throw e
        })
        if (st !== undefined && !st.isSymbolicLink()) {
            throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `${quote(item.name)}: refusing to replace ${quote(at)} with a link: it is ${st.isDirectory() ? "a directory" : "a file"}, not a symbolic link`, [
                "move it away (deploy replaces only links), or change the entry's path",
            ])
        }
    }
}

/**
 * Make the links of `active` (the generation just switched to), and remove the
 * links that `others` (every other generation still on disk: the previous one,
 * and any whose switch was cut short) recorded and `active` does not name.
 * Tries them all; any failure is reported at the end in one error.
 */
export async function updatePathLinks(store: GenerationStore, active: GenerationManifest, others: readonly GenerationManifest[]): Promise<void> {
    const failures: string[] = []
    const wanted = new Set<string>()
    for (const item of active.items) {
        if (item.link === undefined) continue
        wanted.add(item.link)
        try {
            await placeLink(linkLocation(store, item.link), linkTarget(store, item.name), item.uid, item.gid)
        } catch (e) {
            failures.push(`could not link ${quote(linkLocation(store, item.link))} to ${quote(item.name)}: ${reason(e)}`)
        }
    }
    const dropped = new Set(others.flatMap((m) => m.items.flatMap((i) => (i.link === undefined || wanted.has(i.link) ? [] : [i.link]))))
    for (const link of dropped) {
        const at = linkLocation(store, link)
        await removeStaleTempLinks(dirname(at), basename(at), (t) => t.startsWith(`${storePaths(store).link}/`))
        try {
            if (await pointsIntoStore(store, at)) await unlink(at)
        } catch (e) {
            if (errnoCode(e) !== "ENOENT") failures.push(`could not remove the old link ${quote(at)}: ${reason(e)}`)
        }
    }
    if (failures.length > 0) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `generation ${active.generation} is active, but ${failures.join("; ")}`)
    }
}

/**
 * A link at `at` saying `target`, owned by uid:gid (the kernel's
 * protected_symlinks lets a service follow a link in a sticky directory only if
 * it owns it). Made under a fresh name beside `at`, then renamed over it:
 * rename(2) replaces the entry and never follows what was there.
 */
async function placeLink(at: string, target: string, uid: number, gid: number): Promise<void> {
    await removeStaleTempLinks(dirname(at), basename(at), (t) => t === target)
    const st = await lstat(at).catch((e: unknown) => (errnoCode(e) === "ENOENT" ? undefined : Promise.reject(e)))
    if (st?.isSymbolicLink() === true && st.uid === uid && st.gid === gid && (await readlink(at)) === target) return
    if (st !== undefined && !st.isSymbolicLink()) throw Object.assign(new Error("not a symbolic link"), { code: "EEXIST" })
    await mkdir(dirname(at), { recursive: true, mode: 0o755 })
    const tmp = join(dirname(at), tempLinkName(basename(at), randomBytes(6).toString("hex")))
    await symlink(target, tmp)
    try {
        await lchown(tmp, uid, gid)
        await rename(tmp, at)
    } catch (e) {
        await unlink(tmp).catch(() => undefined)
        throw e
    }
}

/** `at` is a symlink into this store (the stable link or a generation), so removing it loses nobody's data. */
async function pointsIntoStore(store: GenerationStore, at: string): Promise<boolean> {
    if (!(await lstat(at)).isSymbolicLink()) return false
    const target = await readlink(at)
    const paths = storePaths(store)
    return target.startsWith(`${paths.link}/`) || target.startsWith(`${paths.generations}/`)
}

function reason(e: unknown): string {
    return errnoCode(e) ?? (e instanceof Error ? e.name : "unknown error")
}
