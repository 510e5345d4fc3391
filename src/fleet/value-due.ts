/**
 * Which values of one encrypted file are expired, expiring or due for rotation
 * under the config's per-value policies (issue 16 §4/§5; `status` and
 * `rotate-value --due` read this). Key paths are read from the encrypted file
 * without decrypting it: sops keeps keys in clear (sops-format.md), so the list of
 * values is public anyway; a policy path with `["*"]` is matched against the keys
 * the file really has.
 *
 * When a value last changed: the newest commit that changed that key path
 * (files/value-history.ts, which decrypts only what the ENC strings cannot
 * decide). Where git cannot say — the file is in no work tree or not committed,
 * the newest commit touching the value could not be decided (no identity opens it),
 * or the working copy's value differs from the committed one — the date is the
 * file's sops `lastmodified`, and `source` says so, as key-age.ts does for data
 * keys. `lastmodified` moves on every write of the file, so that fallback can only
 * make a value look younger than it is: a rotation may come late, never early.
 *
 * Only the first document of a multi-document YAML file is considered: `set` and
 * `rotate-value` address only that one (sops' set does the same).
 */
import { realpath } from "node:fs/promises"
import { dirname, relative, sep } from "node:path"
import { leavesOf, type Leaf, type Leaves } from "../core/value-changes.js"
import type { Metadata } from "../core/metadata.js"
import { blobAt, fileCommits, gitTopLevel } from "../integrations/git.js"
import { valueHistory, type ValueHistoryEntry } from "../files/value-history.js"
import type { AgeIdentity } from "../keys/age.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"
import { lastModifiedDate } from "./key-age.js"
import { policyFor, type ValuePolicy } from "./value-policy.js"

const DAY_MS = 86_400_000

/**
 * Where `lastChanged` came from: `git` (the newest commit that changed the value),
 * `lastmodified` (the file's sops field, see `fallback` for why), or `none` when
 * the policy has neither `rotate_every` nor `expires` and the date was not needed.
 */
export type ValueDateSource = "git" | "lastmodified" | "none"

/** Why git could not date a value (with source `lastmodified`). */
export type ValueDateFallback = "not in git" | "not committed" | "uncommitted change" | "undecided in history"

/** One value of the file that a policy names, and what its policy says about it now. */
export interface ValueDue {
    /** Index syntax, `["db"]["password"]`. */
    readonly keyPath: string
    /** 1-based position of the policy in `secrets.values`. */
    readonly policyIndex: number
    readonly category?: string
    /** The policy's expiry date (midnight UTC). */
    readonly expires?: Date
    /** `rotate_every` is set and more than that many days have passed since `lastChanged`. */
    readonly due: boolean
    /** `expires` <= now. */
    readonly expired: boolean
    /** Whole days left (rounded up) when not expired and within the window; absent otherwise. */
    readonly expiringInDays?: number
    /** When the value last changed (computed for policies with `rotate_every` or `expires`). */
    readonly lastChanged?: Date
    readonly source: ValueDateSource
    /** With source `lastmodified`: why git could not date it. */
    readonly fallback?: ValueDateFallback
    /** With source `git`: the commit that last changed the value. */
    readonly commit?: string
}

export interface ValueDueInput {
    /** Absolute path of the encrypted file. */
    readonly abs: string
    /** Path relative to the config's directory, `/`-separated (what `files:` regexes match). */
    readonly path: string
    /** The file's bytes, as read (the caller has them already when it walked the inventory). */
    readonly bytes: Uint8Array
    readonly policies: readonly ValuePolicy[]
    readonly now: Date
    /** A value whose expiry is at most this many days away is `expiring`. */
    readonly windowDays: number
    /** To decide, in history, whether a re-encrypted value changed (retired identities included). */
    readonly identities: readonly AgeIdentity[]
    readonly env: Readonly<Record<string, string | undefined>>
}

/** The file's values that a policy names, in file order, each with its dates. */
export async function valuesDue(input: ValueDueInput): Promise<ValueDue[]> {
    if (input.policies.length === 0) return []
    const store = await loadStore(formatForPath(input.abs))
    const doc = store.parseEncrypted(input.bytes)
    const metadata = metadataFromTree(doc.metadata)
    const leaves = firstDocument(leavesOf(doc.branches))
    const matched: { label: string; policy: ValuePolicy }[] = []
    for (const [label, leaf] of leaves) {
        const policy = policyFor(input.policies, input.path, leaf.path)
        if (policy !== undefined) matched.push({ label, policy })
    }
    if (matched.length === 0) return []
    const needDates = matched.some((m) => m.policy.rotateEveryDays !== undefined || m.policy.expires !== undefined)
    const dates = needDates ? await gitDates(input, leaves, metadata) : undefined
    return matched.map(({ label, policy }) => judge(label, policy, input, dates))
}

function firstDocument(all: Leaves): Map<string, Leaf> {
    return new Map([...all].filter(([, leaf]) => leaf.document === 0))
}

interface DateOf {
    readonly date?: Date
    readonly source: ValueDateSource
    readonly fallback?: ValueDateFallback
    readonly commit?: string
}

function judge(label: string, policy: ValuePolicy, input: ValueDueInput, dates: ((label: string) => DateOf) | undefined): ValueDue {
    const now = input.now.getTime()
    const base = {
        keyPath: label,
        policyIndex: policy.index,
        ...(policy.category !== undefined ? { category: policy.category } : {}),
        ...(policy.expires !== undefined ? { expires: policy.expires } : {}),
    }
    const expired = policy.expires !== undefined && policy.expires.getTime() <= now
    const left = policy.expires === undefined || expired ? undefined : Math.ceil((policy.expires.getTime() - now) / DAY_MS)
    const expiring = left !== undefined && left <= input.windowDays ? { expiringInDays: left } : {}
    if ((policy.rotateEveryDays === undefined && policy.expires === undefined) || dates === undefined) return { ...base, due: false, expired, ...expiring, source: "none" }
    const d = dates(label)
    // No date at all (no history, no valid lastmodified): nothing says the value is old, and
    // calling it due would rotate it on every run; `status` shows it without a date instead.
    const due = policy.rotateEveryDays !== undefined && d.date !== undefined && now - d.date.getTime() > policy.rotateEveryDays * DAY_MS
    return {
        ...base,
        due,
        expired,
        ...expiring,
        ...(d.date !== undefined ? { lastChanged: d.date } : {}),
        source: d.source,
        ...(d.fallback !== undefined ? { fallback: d.fallback } : {}),
        ...(d.commit !== undefined ? { commit: d.commit } : {}),
    }
}

/** A function giving each label's date: from git where it can decide, else `lastmodified`. */
async function gitDates(input: ValueDueInput, leaves: ReadonlyMap<string, Leaf>, metadata: Metadata): Promise<(label: string) => DateOf> {
    const lastmodified = lastModifiedDate(metadata)
    const fallback = (why: ValueDateFallback): DateOf => ({ ...(lastmodified !== undefined ? { date: lastmodified } : {}), source: "lastmodified", fallback: why })
    const top = await gitTopLevel(dirname(input.abs), input.env)
    if (top === undefined) return () => fallback("not in git")
    // git prints the top level with symbolic links resolved: compare like with like.
    const rel = relative(top, await realpath(input.abs)).split(sep).join("/")
    if (rel.startsWith("../")) return () => fallback("not in git")
    const commits = await fileCommits(top, rel, input.env)
    const newest = commits[0]
    if (newest === undefined) return () => fallback("not committed")
    const committed = await committedLeaves(top, newest.commit, rel, input)
    let history: ValueHistoryEntry[]
    try {
        history = await valueHistory(input.abs, { identities: input.identities, env: input.env })
    } catch {
        return () => fallback("not in git")
    }
    return (label) => {
        // A value edited and not yet committed: git's date is older than the value.
        if (committed?.get(label)?.text !== leaves.get(label)?.text) return fallback("uncommitted change")
        for (const e of history) {
            if (e.undecided.includes(label)) return fallback("undecided in history")
            if (e.changes.added.includes(label) || e.changes.changed.includes(label)) return { date: e.date, source: "git", commit: e.commit }
        }
        return fallback("not committed")
    }
}

async function committedLeaves(top: string, commit: string, rel: string, input: ValueDueInput): Promise<Leaves | undefined> {
    const bytes = await blobAt(top, commit, rel, input.env)
    if (bytes === undefined) return undefined
    try {
        const store = await loadStore(formatForPath(input.abs))
        return leavesOf(store.parseEncrypted(bytes).branches)
    } catch {
        return undefined
    }
}

/**
 * Whether `rotate-value --due` should give the value a new value: due under
 * `rotate_every`, or expired and not changed since its expiry date. `expires` is a
 * fixed date in the policy, so a value replaced on or after it stays "expired"
 * (status keeps saying so until the policy gets a new date) but must not be
 * rotated again on every run. With the `lastmodified` fallback a write of any
 * value of the file counts as a change: the rotation may then be skipped, never repeated.
 */
export function needsRotation(v: ValueDue): boolean {
    if (v.due) return true
    if (!v.expired) return false
    return v.lastChanged === undefined || v.expires === undefined || v.lastChanged.getTime() < v.expires.getTime()
}

/** For messages: a due value in one short phrase. */
export function dueReason(v: ValueDue): string {
    if (v.expired) return `expired ${v.expires?.toISOString().slice(0, 10) ?? ""}`.trim()
    if (v.due) return `last changed ${v.lastChanged?.toISOString().slice(0, 10) ?? "?"}, by ${v.source === "git" ? "git history" : `lastmodified (${v.fallback ?? "no history"})`}`
    if (v.expiringInDays !== undefined) return `expires in ${v.expiringInDays} days`
    return "not due"
}
