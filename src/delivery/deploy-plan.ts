/**
 * What a deploy would change, computed without writing: the items of each store
 * (`secrets`, and `secrets-for-users` for entries needed before users exist),
 * how they differ from the active generation's manifest, and whether the files
 * on disk still are what that manifest says (drift, for `--check`).
 *
 * Comparisons use the SHA-256 the manifest records, never old plaintext; reports
 * carry names, never values.
 */
import { constants } from "node:fs"
import { lstat, open, readlink } from "node:fs/promises"
import { join } from "node:path"

import type { DeployEntry, DeployManifest } from "../config/deploy-manifest.js"
import type { Io } from "../files/io.js"
import { loadAccounts, resolveGroup, resolveUser } from "./accounts.js"
import type { DeployItem } from "./deploy-items.js"
import { SourceReader, type HostIdentities } from "./deploy-sources.js"
import { generationDir, octal, type GenerationStore } from "./generation-layout.js"
import { sha256Hex, type GenerationManifest, type ManifestItem } from "./generation-manifest.js"
import { linkLocation, linkTarget } from "./path-links.js"
import { ExitCode, SecretsError, quote } from "../errors.js"

export type StoreBase = GenerationStore["base"]

export interface Plan {
    readonly items: ReadonlyMap<StoreBase, readonly DeployItem[]>
}

/** `.sops.yaml: secrets.deploy.web1[0] ("db-password")`: how messages name an entry. */
export function entryWhere(manifest: DeployManifest, host: string, entry: Pick<DeployEntry, "index" | "name">): string {
    return `${manifest.source}: ${manifest.absoluteSourcesAllowed ? "" : "secrets."}deploy.${host}[${entry.index}] (${JSON.stringify(entry.name)})`
}

/**
 * Every item of `host`, decrypted and rendered in memory, owners resolved. Any
 * failure throws a SecretsError naming the entry, before anything is written.
 */
export async function planItems(io: Io, manifest: DeployManifest, host: string, root: string, identities: HostIdentities): Promise<Plan> {
    const entries = manifest.hosts.get(host)
    if (entries === undefined) {
        const known = [...manifest.hosts.keys()]
        throw new SecretsError(ExitCode.Generic, `${manifest.source}: no deploy entries for host ${quote(host)}`, [
            known.length === 0 ? `add ${manifest.absoluteSourcesAllowed ? "" : "secrets."}deploy.${host}: a list of entries` : `hosts in the manifest: ${known.join(", ")}; choose one with --host`,
        ])
    }
    const reader = new SourceReader(io, manifest, identities)
    const accounts = await loadAccounts(root)
    const items = new Map<StoreBase, DeployItem[]>([["secrets", []], ["secrets-for-users", []]])
    for (const entry of entries) {
        const where = entryWhere(manifest, host, entry)
        const uid = resolveUser(accounts, entry.owner, `${where}.owner`)
        const gid = resolveGroup(accounts, entry.group, `${where}.group`)
        const content = await reader.contentOf(entry, where)
        items.get(entry.neededForUsers ? "secrets-for-users" : "secrets")?.push({
            name: entry.name,
            content,
            uid,
            gid,
            mode: entry.mode,
            ...(entry.path !== undefined ? { link: entry.path } : {}),
            restartUnits: entry.restartUnits,
            reloadUnits: entry.reloadUnits,
        })
    }
    return { items }
}

/** A plan's items as a manifest would record them (for diffs and unit changes before anything is built). */
export function asManifest(items: readonly DeployItem[]): GenerationManifest {
    return {
        generation: 0,
        created: "",
        items: items.map((i) => ({
            name: i.name,
            sha256: sha256Hex(i.content),
            mode: i.mode,
            uid: i.uid,
            gid: i.gid,
            ...(i.link !== undefined ? { link: i.link } : {}),
            restartUnits: i.restartUnits,
            reloadUnits: i.reloadUnits,
        })),
    }
}

export type Change = "added" | "changed" | "permissions" | "unchanged" | "removed"

export interface ItemChange {
    readonly name: string
    /** `permissions`: same content, other owner, group, mode or path link. */
    readonly change: Change
}

/** How `next` differs from `previous`, item by item (next's order, then removed ones). */
export function diffManifests(previous: GenerationManifest | undefined, next: GenerationManifest): ItemChange[] {
    const before = new Map((previous?.items ?? []).map((i) => [i.name, i]))
    const out: ItemChange[] = next.items.map((item) => {
        const old = before.get(item.name)
        if (old === undefined) return { name: item.name, change: "added" }
        if (old.sha256 !== item.sha256) return { name: item.name, change: "changed" }
        return { name: item.name, change: samePermissions(old, item) ? "unchanged" : "permissions" }
    })
    const names = new Set(next.items.map((i) => i.name))
    for (const old of previous?.items ?? []) if (!names.has(old.name)) out.push({ name: old.name, change: "removed" })
    return out
}

function samePermissions(a: ManifestItem, b: ManifestItem): boolean {
    return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.link === b.link
}

export interface Drift {
    readonly name: string
    readonly problem: string
}

/**
 * What differs between the active generation `n` on disk and its manifest: a
 * file changed, removed or re-permissioned behind deploy's back, a `path` link
 * gone or pointing elsewhere. Files are opened O_NOFOLLOW and only hashed.
 */
export async function diskDrift(store: GenerationStore, n: number, manifest: GenerationManifest): Promise<Drift[]> {
    const out: Drift[] = []
    const dir = generationDir(store, n)
    for (const item of manifest.items) {
        const path = join(dir, item.name)
        try {
            const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
            try {
                const st = await fh.stat()
                if (!st.isFile()) out.push({ name: item.name, problem: "is not a regular file" })
                else if (sha256Hex(await fh.readFile()) !== item.sha256) out.push({ name: item.name, problem: "its content differs from what was deployed" })
                if ((st.mode & 0o7777) !== item.mode) out.push({ name: item.name, problem: `mode ${octal(st.mode)}, deployed as ${octal(item.mode)}` })
                if (st.uid !== item.uid || st.gid !== item.gid) out.push({ name: item.name, problem: `owner ${st.uid}:${st.gid}, deployed as ${item.uid}:${item.gid}` })
            } finally {
                await fh.close()
            }
        } catch (e) {
            const code = (e as { code?: string }).code
            out.push({ name: item.name, problem: code === "ENOENT" ? "is missing" : code === "ELOOP" ? "is a symbolic link" : `cannot be read (${code ?? "error"})` })
        }
        if (item.link !== undefined) {
            const at = linkLocation(store, item.link)
            const target = await lstat(at).then((st) => (st.isSymbolicLink() ? readlink(at) : undefined), () => undefined)
            if (target !== linkTarget(store, item.name)) out.push({ name: item.name, problem: `its path link ${quote(at)} ${target === undefined ? "is missing" : "points elsewhere"}` })
        }
    }
    return out
}
