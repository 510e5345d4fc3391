/**
 * Which keys open which profile (issue 13 point 3, for `secrets status`): for
 * each profile, the keys every one of its files is encrypted to (they open the
 * whole profile) and the keys only some files list. Read from the files' own
 * metadata, not from the rules, so a file out of step shows as it really is;
 * a profile with no file yet shows who its creation rule would give it to.
 * Nothing is decrypted.
 */
import { join, resolve } from "node:path"
import { planForRule } from "../config/match.js"
import { SecretsError } from "../errors.js"
import type { Io } from "../files/io.js"
import { recipientNamer } from "../files/recipient-names.js"
import type { InventoryEntry } from "./inventory.js"
import { profileDir } from "../config/profiles.js"
import { loadProfiles, profileFiles } from "./profile-files.js"
import type { LoadedFleetConfig } from "./rekey-repo.js"
import { creationRuleFor } from "./rule-recipients.js"

export interface ProfileStatus {
    readonly name: string
    /** How many encrypted files the profile has. */
    readonly files: number
    /** Keys (by their `.sops.yaml` names) that every file of the profile lists. */
    readonly openedBy: string[]
    /** Keys only some of its files list. */
    readonly openedBySome: string[]
    /** With no file yet: the keys its creation rule would encrypt a new file to (null: no rule matches). */
    readonly ruleWouldUse: string[] | null
    /** Why the profile's files could not be listed (a path that does not exist or leads outside), if so. */
    readonly problem?: string
}

export async function profileStatuses(io: Io, loaded: LoadedFleetConfig, entries: readonly InventoryEntry[]): Promise<ProfileStatus[]> {
    const { profiles } = loadProfiles(io, undefined, loaded)
    if (profiles.size === 0) return []
    const name = recipientNamer(loaded.path)
    const byAbs = new Map(entries.map((e) => [e.abs, e]))
    const out: ProfileStatus[] = []
    for (const profile of profiles.values()) {
        let files: string[]
        try {
            files = await profileFiles(io, profile, loaded.path)
        } catch (e) {
            // One broken profile must not hide the rest of the status report.
            if (!(e instanceof SecretsError)) throw e
            out.push({ name: profile.name, files: 0, openedBy: [], openedBySome: [], ruleWouldUse: null, problem: e.message })
            continue
        }
        const lists = files.map((f) => byAbs.get(resolve(io.cwd, f))?.recipients ?? [])
        const all = new Set(lists.flat())
        const everywhere = [...all].filter((r) => lists.every((l) => l.includes(r)))
        const some = [...all].filter((r) => !everywhere.includes(r))
        let wouldUse: string[] | null = null
        if (lists.length === 0) {
            const rule = creationRuleFor(loaded.config, loaded.dir, join(loaded.dir, profile.files[0] ?? profileDir(profile.name), "new.env"))
            wouldUse = rule === undefined ? null : [...new Set(planForRule(rule).groups.flat())].map(name)
        }
        out.push({ name: profile.name, files: lists.length, openedBy: everywhere.map(name), openedBySome: some.map(name), ruleWouldUse: wouldUse })
    }
    return out
}

/** The profiles under the status table, one line each. */
export function renderProfileStatuses(profiles: readonly ProfileStatus[]): string {
    if (profiles.length === 0) return ""
    const width = Math.max("PROFILE".length, ...profiles.map((p) => p.name.length))
    const lines = ["", `${"PROFILE".padEnd(width)}  FILES  OPENED BY`]
    for (const p of profiles) {
        let who: string
        if (p.problem !== undefined) who = `cannot list its files: ${p.problem}`
        else if (p.files === 0) who = p.ruleWouldUse === null ? "no file yet, and no creation rule matches its directory" : `no file yet; new files go to ${p.ruleWouldUse.join(", ")}`
        else who = [p.openedBy.join(", ") || "no key opens every file", ...(p.openedBySome.length > 0 ? [`some files only: ${p.openedBySome.join(", ")}`] : [])].join("; ")
        lines.push(`${p.name.padEnd(width)}  ${String(p.files).padStart(5)}  ${who}`)
    }
    return lines.join("\n") + "\n"
}
