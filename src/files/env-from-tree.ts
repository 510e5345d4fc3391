/**
 * The environment variables `exec-env` adds for the child (sops-format.md §10):
 * one per top-level key of the first document, its value as text. Pure: the
 * caller decides what the variables are added to.
 *
 * Two departures from sops keep a file that others can write from steering the
 * command (env-denylist.ts): a null is left out instead of becoming an empty
 * variable, and a value that was not decrypted never sets a variable of a
 * dangerous family such as PATH or LD_PRELOAD.
 */
import type { Branch, Scalar } from "../core/tree.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { valueToString } from "../stores/flatten.js"
import { dangerousFamily } from "./env-denylist.js"

/** One variable: its name and value, in the order the keys appear in the file. */
export type EnvPair = readonly [name: string, value: string]

/** Why a key of the file did not become a variable. */
export type SkipReason =
    | { readonly kind: "null" }
    /** A name of a dangerous family, from a value that was not decrypted. */
    | { readonly kind: "not-encrypted"; readonly what: string }

export interface EnvFromBranchOptions {
    /**
     * Whether the value at top-level `key` was decrypted, i.e. passed AES-GCM with
     * its key path as additional data. Default: none was, so no value sets a
     * dangerous name.
     */
    readonly wasDecrypted?: (key: string, value: Scalar) => boolean
    /** Told about each key left out; it gets the key and why, never the value. */
    readonly onSkip?: (key: string, reason: SkipReason) => void
}

/**
 * Turn the top-level entries of `branch` into environment variables.
 *
 * - Comments are skipped, as sops skips `sops.Comment` keys.
 * - A nested mapping or list cannot be one variable: sops refuses it with exit 1
 *   ("cannot use complex value in environment"), and so do we — but naming the
 *   key, where sops prints the value itself.
 * - A key containing `=` would be split by every libc at the first `=`, giving a
 *   different name and value; sops refuses it, and so do we.
 * - Non-string scalars become text with sops' ValueToString (floats `G`-style with
 *   `.0`, bools `true`/`false`), as the dotenv store writes them.
 * - A null is skipped (sops exports it as empty): nothing authenticates a null,
 *   which is never encrypted and never hashed into the MAC, and an empty PATH
 *   means "the current directory".
 * - A name of a dangerous family (PATH, LD_*, NODE_OPTIONS, …) is skipped unless
 *   its value was decrypted.
 * - An empty key, or a NUL in a key or value, cannot be passed through execve at
 *   all (Go would fail at exec time); we refuse them up front, naming the key.
 *
 * Errors are SecretsError with exit code 1 and never contain a value.
 */
export function envFromBranch(branch: Branch, opts: EnvFromBranchOptions = {}): EnvPair[] {
    const out: EnvPair[] = []
    for (const item of branch.items) {
        if (item.kind !== "entry") continue
        const { key, value } = item
        if (key === "") {
            throw new SecretsError(ExitCode.Generic, "an empty key cannot be an environment variable name")
        }
        if (key.includes("=")) {
            throw new SecretsError(ExitCode.Generic, `the key ${quote(key)} contains "=" and cannot be an environment variable name`, [
                "rename the key, or use exec-file to read the whole file instead",
            ])
        }
        if (key.includes("\0")) {
            throw new SecretsError(ExitCode.Generic, `the key ${quote(key)} contains a NUL character and cannot be an environment variable name`)
        }
        if (value.kind === "map" || value.kind === "list") {
            const what = value.kind === "map" ? "a mapping" : "a list"
            throw new SecretsError(ExitCode.Generic, `the value of ${quote(key)} is ${what}; only top-level scalar values can be environment variables`, [
                "move nested values to the top level, or use exec-file to pass the whole file",
            ])
        }
        if (value.kind === "null") {
            opts.onSkip?.(key, { kind: "null" })
            continue
        }
        const text = valueToString(value)
        if (text.includes("\0")) {
            throw new SecretsError(ExitCode.Generic, `the value of ${quote(key)} contains a NUL character and cannot be put into the environment`)
        }
        const family = dangerousFamily(key)
        if (family !== undefined && opts.wasDecrypted?.(key, value) !== true) {
            opts.onSkip?.(key, { kind: "not-encrypted", what: family.what })
            continue
        }
        out.push([key, text])
    }
    return out
}

/**
 * The child's whole environment: `base` (ours) with the file's variables on top,
 * so a key in the file wins over an inherited variable of the same name, as in
 * sops (Go's os/exec keeps the last duplicate). `pristine` drops `base` entirely.
 */
export function childEnvironment(
    base: Readonly<Record<string, string | undefined>>,
    vars: readonly EnvPair[],
    pristine: boolean,
): Record<string, string> {
    // No prototype: a key named "__proto__" must be a variable, not a prototype change.
    const env = Object.create(null) as Record<string, string>
    if (!pristine) {
        for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
    }
    for (const [k, v] of vars) env[k] = v
    return env
}
