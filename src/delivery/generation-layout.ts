/**
 * Where a generation store lives on the host, and the checks that make it safe
 * to write there as root (issue 12; layout as sops-nix's sops-install-secrets,
 * deploy-anchors.md §1.3):
 *
 *     <root>/run/secrets.d/N/…      one directory per generation (0751)
 *     <root>/run/secrets            symlink "secrets.d/N", the active generation
 *
 * and the same with `secrets-for-users` for the entries needed before users
 * exist. Node has no openat(2), so every write goes through a path. The paths
 * are safe only while nobody but us can change the directories on them, so
 * before writing we refuse a `secrets.d` that is a symlink, is not ours, or is
 * writable by group or others: then only root could plant a link inside it.
 */
import { constants } from "node:fs"
import { chmod, lstat, mkdir, open, readdir, readlink, unlink, type FileHandle } from "node:fs/promises"
import { join } from "node:path"

import { ExitCode, SecretsError, quote } from "../errors.js"

/** One set of generations: `<root>/run/<base>.d/N` and the `<root>/run/<base>` link. */
export interface GenerationStore {
    /** "/" on the host, or the `--root` directory (tests, image builds). */
    readonly root: string
    readonly base: "secrets" | "secrets-for-users"
    /** How many generations pruning keeps (counting the active one). */
    readonly keep: number
}

/** Generation directories: the owner writes, secret owners traverse (o+x), nobody lists. */
export const GENERATION_DIR_MODE = 0o751

export interface StorePaths {
    /** `<root>/run` */
    readonly run: string
    /** `<root>/run/secrets.d` */
    readonly generations: string
    /** `<root>/run/secrets`, the stable link */
    readonly link: string
}

export function storePaths(store: GenerationStore): StorePaths {
    const run = join(store.root, "run")
    return { run, generations: join(run, `${store.base}.d`), link: join(run, store.base) }
}

export function generationDir(store: GenerationStore, n: number): string {
    return join(storePaths(store).generations, String(n))
}

/** The link's text for generation n: relative, so the tree also works under --root. */
export function linkText(store: GenerationStore, n: number): string {
    return `${store.base}.d/${n}`
}

/** "12" → 12; "012", "12a", "-1", "" and other names are not generations. */
export function generationNumber(name: string): number | undefined {
    if (!/^[1-9][0-9]{0,14}$/.test(name)) return undefined
    return Number(name)
}

/** The generation the stable link points at, if it is a link of the form we (or sops-nix) make. */
export async function activeGeneration(store: GenerationStore): Promise<number | undefined> {
    const paths = storePaths(store)
    let target: string
    try {
        target = await readlink(paths.link)
    } catch (e) {
        // ENOENT: first deploy. EINVAL: something that is not a link (checkStore refuses it).
        if (errnoCode(e) === "ENOENT" || errnoCode(e) === "EINVAL") return undefined
        throw storeError(paths.link, e)
    }
    const prefixes = [`${store.base}.d/`, `${paths.generations}/`]
    // sops-nix links /run/secrets -> /run/secrets.d/N (absolute); on "/" that is ours too.
    if (store.root === "/") prefixes.push(`/run/${store.base}.d/`)
    for (const prefix of prefixes) {
        if (target.startsWith(prefix)) return generationNumber(target.slice(prefix.length))
    }
    return undefined
}

/** Numeric entries of `<base>.d` that are real directories (a planted symlink is not one), ascending. */
export async function generationEntries(store: GenerationStore): Promise<{ numbered: number[]; other: number[] }> {
    const dir = storePaths(store).generations
    let entries
    try {
        entries = await readdir(dir, { withFileTypes: true })
    } catch (e) {
        if (errnoCode(e) === "ENOENT") return { numbered: [], other: [] }
        throw storeError(dir, e)
    }
    const numbered: number[] = []
    const other: number[] = []
    for (const e of entries) {
        const n = generationNumber(e.name)
        if (n === undefined) continue
        ;(e.isDirectory() ? numbered : other).push(n)
    }
    const up = (a: number, b: number): number => a - b
    return { numbered: numbered.sort(up), other: other.sort(up) }
}

/**
 * Make sure the store can be written safely, creating `<root>/run` and
 * `<root>/run/<base>.d` when missing: the generations directory must be a real
 * directory (lstat: a symlink there would send every write elsewhere), owned by
 * us and writable by nobody else; the stable link must be absent or a symlink
 * (a real directory there is someone else's data, which we do not delete).
 */
export async function prepareStore(store: GenerationStore): Promise<StorePaths> {
    if (!Number.isInteger(store.keep) || store.keep < 1) {
        throw new SecretsError(ExitCode.Generic, `keep must be a whole number of at least 1, got ${store.keep}`)
    }
    const paths = storePaths(store)
    await mkdir(paths.run, { recursive: true, mode: 0o755 }).catch((e: unknown) => {
        throw storeError(paths.run, e)
    })
    try {
        await mkdir(paths.generations, { mode: GENERATION_DIR_MODE })
        await chmod(paths.generations, GENERATION_DIR_MODE)
    } catch (e) {
        if (errnoCode(e) !== "EEXIST") throw storeError(paths.generations, e)
    }
    const st = await lstat(paths.generations).catch((e: unknown) => {
        throw storeError(paths.generations, e)
    })
    const uid = process.geteuid?.() ?? st.uid
    if (!st.isDirectory()) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to deploy into ${quote(paths.generations)}: it is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}`, [
            "remove it; deploy creates the directory itself",
        ])
    }
    if (st.uid !== uid || (st.mode & 0o022) !== 0) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to deploy into ${quote(paths.generations)}: it is owned by uid ${st.uid} with mode ${octal(st.mode & 0o7777)}, so someone else could change what is in it`, [
            `make it owned by uid ${uid} and writable only by its owner (chmod 0751), or remove it`,
        ])
    }
    const link = await lstat(paths.link).catch((e: unknown) => (errnoCode(e) === "ENOENT" ? undefined : Promise.reject(storeError(paths.link, e))))
    if (link !== undefined && !link.isSymbolicLink()) {
        throw new SecretsError(ExitCode.CouldNotWriteOutputFile, `refusing to replace ${quote(paths.link)}: it is not a symbolic link, so it is not one deploy made`, [
            "move it away; deploy makes it a link to the active generation",
        ])
    }
    return paths
}

/**
 * Create `path` (which must not exist: O_EXCL, and O_NOFOLLOW so a planted link
 * is never followed), give it its owner and exact mode, write it and fsync it.
 * Written while 0600 and ours; fchmod after fchown because chown clears set-id
 * bits, and fchmod (unlike open's mode) is exact, whatever the umask.
 */
export async function writeNewFile(path: string, data: Uint8Array, uid: number, gid: number, mode: number): Promise<void> {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
        await writeAll(fh, data)
        await fh.chown(uid, gid)
        await fh.chmod(mode)
        await fh.sync()
    } finally {
        await fh.close()
    }
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
    let off = 0
    while (off < data.length) {
        const { bytesWritten } = await fh.write(data, off, data.length - off)
        off += bytesWritten
    }
}

/**
 * fsync a directory, so that the entries made in it survive a power cut. Some
 * file systems (9p, some FUSE ones) refuse fsync on a directory: there is nothing
 * more to do on them, and the order of the steps still holds for a crash of the
 * process, which is what the kernel's page cache sees.
 */
export async function syncDir(dir: string): Promise<void> {
    const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
    try {
        await fh.sync()
    } catch (e) {
        if (!["EINVAL", "ENOTSUP", "EOPNOTSUPP"].includes(errnoCode(e) ?? "")) throw e
    } finally {
        await fh.close()
    }
}

export function octal(mode: number): string {
    return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`
}

export function errnoCode(e: unknown): string | undefined {
    const code = (e as { code?: unknown } | null)?.code
    return typeof code === "string" ? code : undefined
}

/** A system error on a store path: the path and the code (ENOSPC, EACCES…), nothing else. */
export function storeError(path: string, e: unknown, what = "could not write"): SecretsError {
    if (e instanceof SecretsError) return e
    return new SecretsError(ExitCode.CouldNotWriteOutputFile, `${what} ${quote(path)}: ${errnoCode(e) ?? (e instanceof Error ? e.name : "unknown error")}`)
}

/** The name of a fresh temp link beside `name` (switch and path links rename it over `name`). */
export function tempLinkName(name: string, random: string): string {
    return `.${name}.${random}.tmp`
}

/**
 * Remove the temp links a SIGKILL left between symlink(2) and rename(2) beside
 * `name` in `dir`: only symlinks named as {@link tempLinkName} makes them and
 * saying what `ours` accepts, so nobody else's file is touched. Best effort: a
 * leftover costs a directory entry, not safety.
 */
export async function removeStaleTempLinks(dir: string, name: string, ours: (target: string) => boolean): Promise<void> {
    const pattern = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.[0-9a-f]{12}\\.tmp$`)
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
        if (!e.isSymbolicLink() || !pattern.test(e.name)) continue
        const path = join(dir, e.name)
        const target = await readlink(path).catch(() => undefined)
        if (target !== undefined && ours(target)) await unlink(path).catch(() => undefined)
    }
}
