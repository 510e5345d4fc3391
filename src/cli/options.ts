/**
 * Options shared by several commands, defined once (sops repeats them per command,
 * PR #1343's review). Names, short forms and environment variables follow sops 3.13.
 */
import { InvalidArgumentError, Option } from "commander"
import { FORMATS } from "../stores/store.js"

export const inPlace = () => new Option("-i, --in-place", "write the output back to the same file instead of stdout")
export const output = () => new Option("--output <path>", "write the output to this file instead of stdout")
export const inputType = () =>
    new Option("--input-type <format>", "the input format, when the file name does not say it").choices(FORMATS)
export const outputType = () =>
    new Option("--output-type <format>", "the output format, to convert between formats").choices(FORMATS)
export const filenameOverride = () =>
    new Option("--filename-override <path>", "use this path for format detection and creation rules (required for stdin)")
export const ignoreMac = () => new Option("--ignore-mac", "do not check the file's MAC (integrity) before using it")
export const decryptionOrder = () =>
    new Option("--decryption-order <types>", "comma-separated key types to try first (env: SOPS_DECRYPTION_ORDER)")
export const age = () => new Option("-a, --age <recipients>", "comma-separated age recipients (env: SOPS_AGE_RECIPIENTS)")
export const extract = () => new Option("--extract <path>", `print only the value at this path, e.g. '["db"]["password"]'`)
/** Profiles (issue 13 point 3): `--profile dev`, or SECRETS_PROFILE when the flag is absent (see {@link profileFrom}). */
export const profile = () => new Option("--profile <name>", "use the files of this profile from .sops.yaml's secrets.profiles (env: SECRETS_PROFILE)")
/** The profile a command runs with: the flag, else a non-empty SECRETS_PROFILE from the injected environment. */
export function profileFrom(opts: { profile?: string }, env: Readonly<Record<string, string | undefined>>): string | undefined {
    if (opts.profile !== undefined) return opts.profile
    const fromEnv = env["SECRETS_PROFILE"]
    return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined
}
export const shamirThreshold = () =>
    new Option("--shamir-secret-sharing-threshold <n>", "number of key groups needed to decrypt").argParser(positiveInt)

/** The encryption-rule flags, as sops names them. */
export const ruleOptions = () => [
    new Option("--unencrypted-suffix <suffix>", "keys ending with this suffix stay in clear (default _unencrypted)"),
    new Option("--encrypted-suffix <suffix>", "only keys ending with this suffix are encrypted"),
    new Option("--unencrypted-regex <regex>", "keys matching this regex stay in clear"),
    new Option("--encrypted-regex <regex>", "only keys matching this regex are encrypted"),
    new Option("--unencrypted-comment-regex <regex>", "values after a comment matching this regex stay in clear"),
    new Option("--encrypted-comment-regex <regex>", "only values after a comment matching this regex are encrypted"),
]

/** Options on the root program that every command sees (sops' global flags). */
export const globalOptions = () => [
    new Option("--config <path>", "the .sops.yaml to use instead of looking it up (env: SOPS_CONFIG)"),
    new Option("--indent <n>", "indentation for YAML (2-9) and JSON (-1 = tab) output").argParser(integer),
    new Option("--mac-only-encrypted", "compute the MAC over encrypted values only (new files)"),
    new Option("--verbose", "print more about what happens (never values)"),
]

function positiveInt(v: string): number {
    const n = integer(v)
    if (n < 1) throw new InvalidArgumentError("must be a positive integer")
    return n
}

function integer(v: string): number {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError("must be an integer")
    return Number.parseInt(v, 10)
}

/** The values of the rule flags as an EncryptionRule. */
export function ruleFromFlags(o: Record<string, unknown>) {
    const s = (k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined)
    return {
        unencryptedSuffix: s("unencryptedSuffix"),
        encryptedSuffix: s("encryptedSuffix"),
        unencryptedRegex: s("unencryptedRegex"),
        encryptedRegex: s("encryptedRegex"),
        unencryptedCommentRegex: s("unencryptedCommentRegex"),
        encryptedCommentRegex: s("encryptedCommentRegex"),
    }
}

/**
 * Environment variables that stand in for flags, as in sops. They are read from the
 * injected Io (not by commander from process.env), so tests control them.
 */
export function withEnvDefaults<T extends { age?: string; decryptionOrder?: string; config?: string }>(
    opts: T,
    env: Readonly<Record<string, string | undefined>>,
): T {
    const pick = (flag: string | undefined, name: string) => (flag !== undefined ? flag : env[name] !== undefined && env[name] !== "" ? env[name] : undefined)
    const age = pick(opts.age, "SOPS_AGE_RECIPIENTS")
    const decryptionOrder = pick(opts.decryptionOrder, "SOPS_DECRYPTION_ORDER")
    const config = pick(opts.config, "SOPS_CONFIG")
    return {
        ...opts,
        ...(age !== undefined ? { age } : {}),
        ...(decryptionOrder !== undefined ? { decryptionOrder } : {}),
        ...(config !== undefined ? { config } : {}),
    }
}

/** Global options as commands receive them through optsWithGlobals(). */
export interface GlobalOpts {
    readonly config?: string
    readonly indent?: number
    readonly macOnlyEncrypted?: boolean
    readonly verbose?: boolean
}

// ---- 1Password identity source (issue 5 §4) -------------------------------------

/**
 * `--age-key-op <ref>` on every command that decrypts: an age identity (or SSH key)
 * stored in 1Password, read with `op read` at decrypt time. Repeatable.
 */
export const ageKeyOp = () =>
    new Option(
        "--age-key-op <ref>",
        "also read an age identity from 1Password with op read, e.g. op://Dev/age/identity (repeatable; env: SECRETS_AGE_KEY_OP)",
    ).argParser((v: string, prev: readonly string[] | undefined) => [...(prev ?? []), v])

// The identity options ride on the Io down to files/node-identities.ts, below the
// CLI; commands keep taking them from here with the other options.
export { identityOptionsOf, withIdentityOptions, type IdentityOptions } from "../files/identity-options.js"
