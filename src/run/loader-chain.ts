/**
 * The loader chain of `secrets get NAME` (issue 13 point 4): loaders are asked in
 * a configured order and the first one that has the name answers. Pure: the
 * loaders themselves (run/get-value.ts) do the reading.
 *
 * Two rules make the order mean something, and are property-tested:
 * - a name present in several loaders always comes from the first of them in
 *   the order;
 * - the loaders after a hit are never asked. Asking costs (1Password is a
 *   process and maybe a network round trip or an approval prompt) and can fail
 *   (op not installed, not signed in): a developer whose shell already has the
 *   name must not need op at all. So a failing loader fails the chain only
 *   when no loader before it had the name.
 */
import type { LoaderName } from "../config/profiles.js"

/** A value found, and where: `env`, `file secrets/dev/app.env`, `op op://Dev/app/DB_PASSWORD`. Never the value in `source`. */
export interface Hit {
    readonly value: string
    readonly source: string
}

export interface Loader {
    readonly name: LoaderName
    /** The value of `name`, or undefined when this loader does not have it; throws when it cannot tell. */
    lookup(name: string): Promise<Hit | undefined>
    /** Where it looks, for the not-found message: "the environment", "2 files", … */
    readonly where?: string
}

/** A hit and the loader that gave it. */
export interface ChainHit extends Hit {
    readonly loader: LoaderName
}

/**
 * Ask the loaders named in `order`, in that order, for `name`; the first hit wins
 * and ends the walk. A name in `order` without a loader in `loaders` is skipped
 * (it has nothing to look in).
 */
export async function firstHit(order: readonly LoaderName[], loaders: readonly Loader[], name: string): Promise<ChainHit | undefined> {
    for (const which of order) {
        const loader = loaders.find((l) => l.name === which)
        if (loader === undefined) continue
        const hit = await loader.lookup(name)
        if (hit !== undefined) return { loader: which, value: hit.value, source: hit.source }
    }
    return undefined
}
