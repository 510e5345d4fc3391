/**
 * The options of load() and get(). Self-contained (no imports) on purpose: these
 * are the API's public types, and their declarations ship as they are
 * (scripts/api-declarations.mjs).
 */

/** Where a call runs: the options load() and get() share. */
export interface IoOptions {
    /** Relative file names and the `.sops.yaml` search start here. Default: process.cwd(). */
    readonly cwd?: string
    /** Where SOPS_AGE_KEY_FILE and the other identity sources are read. Default: process.env. */
    readonly env?: Readonly<Record<string, string | undefined>>
    /**
     * Told each warning (a null left out, a dangerous name from an unencrypted
     * value), as the line the CLI would print. Warnings name files and keys,
     * never values. Default: written to process.stderr.
     */
    readonly onWarning?: (line: string) => void
}

export interface LoadOptions extends IoOptions {
    /** The encrypted files, read in order (after the profile's); a name in a later file replaces the same name from an earlier one. */
    readonly files?: string | readonly string[]
    /**
     * A profile of the `.sops.yaml` found from `cwd` upwards (`secrets.profiles`):
     * its files are read first, in its order. Default: process.env.SECRETS_PROFILE
     * when `env` has it, else none.
     */
    readonly profile?: string
    /**
     * Where to assign the values as well, usually process.env. As dotenv does, a
     * name that `into` already has is left alone unless `override` is true.
     */
    readonly into?: Record<string, string | undefined>
    /** Replace names that `into` already has. Default false. */
    readonly override?: boolean
    /** Nested values as `PARENT__CHILD` (list items `LIST__0`) instead of an error. Default false. */
    readonly flatten?: boolean
}

export interface GetOptions extends IoOptions {}
