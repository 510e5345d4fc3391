/**
 * Whether the deployed secrets live in memory. sops-nix and agenix mount a ramfs
 * (or tmpfs) for them (deploy-anchors.md §4, "ramfs vs tmpfs"): plaintext on a
 * disk outlives a reboot and a `rm`, and ends up in backups and snapshots. We do
 * not mount anything (that is the init system's job: /run is a tmpfs on every
 * systemd host); we warn when the target is on something else.
 */
import { readFile, realpath } from "node:fs/promises"
import { dirname } from "node:path"

const MEMORY_FILESYSTEMS = new Set(["tmpfs", "ramfs"])

/** One mount of /proc/self/mountinfo (proc(5)): where, and its file system type. */
export interface MountEntry {
    readonly mountPoint: string
    readonly fsType: string
}

/** The mounts listed in mountinfo `text`, in order (later mounts shadow earlier ones). */
export function parseMountinfo(text: string): MountEntry[] {
    const out: MountEntry[] = []
    for (const line of text.split("\n")) {
        const fields = line.split(" ")
        const dash = fields.indexOf("-")
        const mountPoint = fields[4]
        const fsType = fields[dash + 1]
        if (dash < 6 || mountPoint === undefined || fsType === undefined) continue
        // Spaces, tabs, newlines and backslashes are written as octal escapes.
        out.push({ mountPoint: mountPoint.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))), fsType })
    }
    return out
}

/** The file system type `path` (absolute, symlinks resolved) is on: the last, longest mount point above it. */
export function fsTypeOf(mounts: readonly MountEntry[], path: string): string | undefined {
    let best: MountEntry | undefined
    for (const m of mounts) {
        const inside = m.mountPoint === "/" || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`)
        if (inside && (best === undefined || m.mountPoint.length >= best.mountPoint.length)) best = m
    }
    return best?.fsType
}

/**
 * The file system type of `dir` when it is not in memory, or undefined when it
 * is (or when this cannot be told: no /proc, as on macOS).
 */
export async function notInMemory(dir: string): Promise<string | undefined> {
    let text: string
    try {
        text = await readFile("/proc/self/mountinfo", "utf8")
    } catch {
        return undefined
    }
    // `dir` may not exist yet on a first deploy: its nearest existing ancestor decides.
    let at = dir
    let real: string | undefined
    for (let i = 0; i < 4096 && real === undefined; i++) {
        real = await realpath(at).catch(() => undefined)
        if (real === undefined) {
            const up = dirname(at)
            if (up === at) return undefined
            at = up
        }
    }
    if (real === undefined) return undefined
    const type = fsTypeOf(parseMountinfo(text), real)
    return type === undefined || MEMORY_FILESYSTEMS.has(type) ? undefined : type
}
