/**
 * The files of a profile (config/profiles.ts) on disk: each listed file as is,
 * each listed directory as the encrypted files under it in sorted order (the
 * `filestatus` test: sops metadata with a version and a MAC; a README beside
 * them is not a secret). The order is the profile's: `run --profile` and
 * `secrets get` let a later file's name win, as repeated `--file`s do.
 *
 * `.sops.yaml` is untrusted: a listed path that leads out of the config's
 * directory through a symbolic link is refused, so a committed profile cannot
 * make a CI job put a file from elsewhere on the runner into its environment.
 */
import { realpath, stat } from "node:fs/promises"
import { dirname, join, relative, resolve, sep } from "node:path"
import { parseProfiles, profileDir, profileNamed, checkProfileName, type Profile } from "../config/profiles.js"
import type { Config } from "../config/schema.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import { loadConfig } from "../files/encryption-plan.js"
import type { Io } from "../files/io.js"
import { findEncryptedFiles } from "./rekey-repo.js"

export interface SelectedProfile {
    readonly profile: Profile
    /** The config's absolute path and directory. */
    readonly configPath: string
    readonly root: string
    /** The profile's encrypted files, relative to io.cwd (absolute when outside it), in the profile's order, each once. */
    readonly files: readonly string[]
}

/** A config already read, to look at its profiles without reading (and warning about) it again. */
export interface ConfigRead {
    readonly config: Pick<Config, "secrets">
    /** Absolute. */
    readonly path: string
}

/** The profiles of the config that governs the working directory (none without a config). */
export function loadProfiles(io: Io, configOpt: string | undefined, read?: ConfigRead): { profiles: ReadonlyMap<string, Profile>; configPath?: string } {
    const loaded = read ?? loadConfig(io, undefined, configOpt)
    if (loaded === undefined) return { profiles: new Map() }
    return { profiles: parseProfiles(loaded.config.secrets, shownPath(io, loaded.path)), configPath: loaded.path }
}

/** Profile `name` with its files. */
export async function selectProfile(io: Io, name: string, configOpt: string | undefined, read?: ConfigRead): Promise<SelectedProfile> {
    checkProfileName(name, "--profile")
    const { profiles, configPath } = loadProfiles(io, configOpt, read)
    if (configPath === undefined) {
        throw new ConfigError(`no .sops.yaml found from the working directory upwards, so there is no profile ${quote(name)}`, [
            "run this in the repository, or give --config",
        ])
    }
    const profile = profileNamed(profiles, name, shownPath(io, configPath))
    return { profile, configPath, root: dirname(configPath), files: await profileFiles(io, profile, configPath) }
}

/** The encrypted files of `profile` of the config at `configPath` (absolute), relative to io.cwd, in order, each once. */
export async function profileFiles(io: Io, profile: Profile, configPath: string): Promise<string[]> {
    const { name } = profile
    const root = dirname(configPath)
    const realRoot = await realpath(root).catch(() => root)
    const files: string[] = []
    const seen = new Set<string>()
    const add = (abs: string): void => {
        if (seen.has(abs)) return
        seen.add(abs)
        files.push(shownPath(io, abs))
    }
    for (const path of profile.files) {
        const abs = join(root, path)
        const info = await stat(abs).catch(() => undefined)
        if (info === undefined) {
            // The default directory of a profile nobody has written to yet is empty, not an error.
            if (path === profileDir(name)) continue
            throw new SecretsError(ExitCode.NoFileSpecified, `profile ${quote(name)}: ${quote(path)} does not exist`, [
                `fix secrets.profiles.${name}.files in ${quote(shownPath(io, configPath))}`,
            ])
        }
        const real = await realpath(abs)
        if (real !== realRoot && !real.startsWith(realRoot + sep)) {
            throw new ConfigError(`profile ${quote(name)}: ${quote(path)} leads outside the repository (a symbolic link)`, [
                "a profile lists files inside the config's directory only",
            ])
        }
        if (info.isDirectory()) for (const found of await findEncryptedFiles(io, abs)) add(found.abs)
        else add(abs)
    }
    return files
}

/**
 * Which profile each encrypted file belongs to (absolute path → profile name),
 * for listings that show a file's category; the first profile listing a file wins.
 */
export async function profilesByFile(io: Io, configOpt: string | undefined, read?: ConfigRead): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const loaded = read ?? loadConfig(io, undefined, configOpt)
    if (loaded === undefined) return out
    const { profiles } = loadProfiles(io, configOpt, loaded)
    for (const profile of profiles.values()) {
        for (const file of await profileFiles(io, profile, loaded.path)) {
            const abs = resolve(io.cwd, file)
            if (!out.has(abs)) out.set(abs, profile.name)
        }
    }
    return out
}

/** A profile's files, or a clear error when it has none (for the commands that act on them). */
export function someFiles(selected: SelectedProfile): readonly string[] {
    if (selected.files.length > 0) return selected.files
    const dirs = selected.profile.files.map((f) => `${f}/`).join(", ")
    throw new SecretsError(ExitCode.NoFileSpecified, `profile ${quote(selected.profile.name)} has no encrypted files (in ${dirs})`, [
        `add one: secrets edit ${selected.profile.files[0] ?? profileDir(selected.profile.name)}/app.env`,
    ])
}

function shownPath(io: Io, abs: string): string {
    const rel = relative(io.cwd, abs)
    return rel === "" ? abs : rel.startsWith("..") ? abs : rel
}
