/**
 * Which temp files beside a lock may be debris of killed processes, found without
 * reading the lock's directory on every lock (issue 14 target 5).
 *
 * A waiter's temp file is named `.<lock name>.<12 random hex>.tmp` (lock-files.ts
 * writeCandidate): the random part cannot be derived from the lock, so finding the
 * temps of a lock needs a listing of its directory. Listing it on every lock made
 * a re-key of N files in one directory read N names N times (quadratic: ~1 s of
 * CPU for 1,000 files). Instead a directory is listed once, the lock temps in it are
 * grouped by the lock they belong to, and each lock taken afterwards gets only its
 * own group, once. Debris is only made by SIGKILL, so what a listing misses (a
 * process killed after it) is found by the next run, or by this one after
 * `relistAfterMs` (a long-running `op sync --watch`); meanwhile it is a hidden,
 * git-ignored file, never a lock anyone waits for. The break lock's name is
 * derived from the lock, so it needs no listing (lock-files.ts tidyAbandoned).
 */
import { readdir } from "node:fs"
import { basename, dirname, join } from "node:path"

/** `.NAME.lock.<12 hex>.tmp`: a lock's temp file, the group being `NAME.lock`. */
const LOCK_TEMP = /^\.(.+\.lock)\.[0-9a-f]{12}\.tmp$/

export interface DebrisIndexOptions {
    /** How a directory is listed; injectable so that a test can count the listings. */
    readonly readdir?: (dir: string) => Promise<string[]>
    /** The clock for `relistAfterMs`. */
    readonly now?: () => number
    /** List a directory again once its listing is this old (default one minute). */
    readonly relistAfterMs?: number
}

interface Listing {
    readonly at: number
    /** Lock name -> the temp names seen for it, not yet handed out. */
    readonly temps: Map<string, string[]>
}

export interface DebrisIndex {
    /** The temp files (full paths) that may be debris of `lockPath`'s lock, each handed out once per listing. */
    tempsOf(lockPath: string): Promise<string[]>
}

export function createDebrisIndex(opts: DebrisIndexOptions = {}): DebrisIndex {
    // node:fs's callback form: node:fs/promises loads readline's internals, a cost the
    // fast paths (which take the audit log's lock) avoid at start-up (issue 14 target 2).
    const list = opts.readdir ?? ((dir: string) => new Promise<string[]>((done, fail) => readdir(dir, (e, names) => (e ? fail(e) : done(names)))))
    const now = opts.now ?? Date.now
    const relistAfterMs = opts.relistAfterMs ?? 60_000
    const listings = new Map<string, Promise<Listing>>()

    async function listingOf(dir: string): Promise<Listing> {
        const cached = listings.get(dir)
        if (cached !== undefined) {
            if (now() - (await cached).at < relistAfterMs) return cached
            // The same stale promise may be seen by several locks at once: one relists.
            if (listings.get(dir) !== cached) return listingOf(dir)
        }
        // Stored as a promise: eight files of one directory locked at once share one listing.
        const fresh = readListing(dir)
        listings.set(dir, fresh)
        return fresh
    }

    async function readListing(dir: string): Promise<Listing> {
        const at = now()
        const temps = new Map<string, string[]>()
        let names: string[]
        try {
            names = await list(dir)
        } catch {
            // Best effort, like all of the tidying: an unreadable directory is left
            // alone, and not tried again on every lock either.
            return { at, temps }
        }
        for (const name of names) {
            const lock = LOCK_TEMP.exec(name)?.[1]
            if (lock === undefined) continue
            const group = temps.get(lock)
            if (group === undefined) temps.set(lock, [name])
            else group.push(name)
        }
        return { at, temps }
    }

    return {
        async tempsOf(lockPath) {
            const dir = dirname(lockPath)
            const listing = await listingOf(dir)
            const lock = basename(lockPath)
            const names = listing.temps.get(lock) ?? []
            listing.temps.delete(lock)
            return names.map((n) => join(dir, n))
        },
    }
}
