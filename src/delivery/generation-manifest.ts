/**
 * `N/.manifest.json`: what a generation holds, without any value (root-only,
 * 0400). It is written last, by rename, so its presence is what makes a
 * generation complete: a directory without it is a build that died half-way and
 * is never switched to. It records a SHA-256 per item, so that the units to
 * restart are found without the old plaintext (sops-nix compares the files byte
 * by byte, deploy-anchors.md §1.7) and `--check` can tell drift, and each
 * item's `path` link, so that links a later generation drops can be removed
 * (sops-nix never removes them, §1.8).
 */
import { createHash } from "node:crypto"
import { constants } from "node:fs"
import { lstat, open } from "node:fs/promises"
import { join } from "node:path"

import { errnoCode, generationDir, octal, storeError, type GenerationStore } from "./generation-layout.js"

export const MANIFEST_NAME = ".manifest.json"
const VERSION = 1

export interface ManifestItem {
    readonly name: string
    /** Hex SHA-256 of the file's bytes. */
    readonly sha256: string
    readonly mode: number
    readonly uid: number
    readonly gid: number
    /** Absolute path (on the host, without --root) of the symlink to this item, if any. */
    readonly link?: string
    readonly restartUnits: readonly string[]
    readonly reloadUnits: readonly string[]
}

export interface GenerationManifest {
    readonly generation: number
    /** When the generation was built (ISO 8601), for listings. */
    readonly created: string
    readonly items: readonly ManifestItem[]
}

export function sha256Hex(data: Uint8Array): string {
    return createHash("sha256").update(data).digest("hex")
}

/** The manifest's bytes. Modes as octal strings, for a reader with `cat`. */
export function serializeManifest(m: GenerationManifest): Uint8Array {
    const items = m.items.map((i) => ({
        name: i.name,
        sha256: i.sha256,
        mode: octal(i.mode),
        uid: i.uid,
        gid: i.gid,
        ...(i.link === undefined ? {} : { link: i.link }),
        restart_units: i.restartUnits,
        reload_units: i.reloadUnits,
    }))
    return Buffer.from(`${JSON.stringify({ version: VERSION, generation: m.generation, created: m.created, items }, null, 2)}\n`)
}

/** The manifest in `text`, or undefined if it is not one we wrote (then the generation counts as incomplete). */
export function parseManifest(text: string): GenerationManifest | undefined {
    let v: unknown
    try {
        v = JSON.parse(text)
    } catch {
        return undefined
    }
    if (!isRecord(v) || v.version !== VERSION || !isId(v.generation) || typeof v.created !== "string" || !Array.isArray(v.items)) return undefined
    const items: ManifestItem[] = []
    for (const raw of v.items as unknown[]) {
        if (!isRecord(raw)) return undefined
        const { name, sha256, mode, uid, gid, link } = raw
        const restart = strings(raw.restart_units)
        const reload = strings(raw.reload_units)
        if (typeof name !== "string" || typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) return undefined
        if (typeof mode !== "string" || !/^0[0-7]{3}$/.test(mode) || !isId(uid) || !isId(gid)) return undefined
        if ((link !== undefined && typeof link !== "string") || restart === undefined || reload === undefined) return undefined
        items.push({ name, sha256, mode: Number.parseInt(mode, 8), uid, gid, ...(link === undefined ? {} : { link }), restartUnits: restart, reloadUnits: reload })
    }
    return { generation: v.generation, created: v.created, items }
}

/**
 * Generation n's manifest, or undefined when n is not a complete generation:
 * missing, not a real directory (a symlink planted at `secrets.d/N` is never
 * read through), or without a manifest we can parse.
 */
export async function readManifest(store: GenerationStore, n: number): Promise<GenerationManifest | undefined> {
    const dir = generationDir(store, n)
    const path = join(dir, MANIFEST_NAME)
    try {
        if (!(await lstat(dir)).isDirectory()) return undefined
        const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
        try {
            if (!(await fh.stat()).isFile()) return undefined
            const m = parseManifest(await fh.readFile("utf8"))
            return m?.generation === n ? m : undefined
        } finally {
            await fh.close()
        }
    } catch (e) {
        const code = errnoCode(e)
        if (code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR") return undefined
        throw storeError(path, e, "could not read")
    }
}

/**
 * The units to restart and reload when `next` replaces `previous` (sops-nix's
 * handleModifications, done better as deploy-anchors.md §5 says): nothing on a
 * first install (no previous generation: the services start after us); an item
 * counts when it is new or its content hash changed, never for a mode or owner
 * change alone; a removed item restarts nothing (its units may be gone too); each
 * unit once, in first-seen order; a unit both restarted and reloaded is only
 * restarted.
 */
export function changedUnits(previous: GenerationManifest | undefined, next: GenerationManifest): { restart: string[]; reload: string[] } {
    if (previous === undefined) return { restart: [], reload: [] }
    const before = new Map(previous.items.map((i) => [i.name, i.sha256]))
    const restart = new Set<string>()
    const reload = new Set<string>()
    for (const item of next.items) {
        if (before.get(item.name) === item.sha256) continue
        for (const u of item.restartUnits) restart.add(u)
        for (const u of item.reloadUnits) reload.add(u)
    }
    return { restart: [...restart], reload: [...reload].filter((u) => !restart.has(u)) }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}

function isId(v: unknown): v is number {
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xfffffffe
}

function strings(v: unknown): string[] | undefined {
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined
}
