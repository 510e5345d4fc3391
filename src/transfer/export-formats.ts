/**
 * The text of `secrets export --format env|docker|k8s-secret` from flat pairs
 * (flat-values.ts). Pure: each function returns the whole output or throws before
 * anything is written, naming the key, never the value.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import { entry, map, str, type Branch, type MapItem } from "../core/tree.js"
import { ENV_NAME } from "./dotenv-source.js"

type Pairs = readonly (readonly [string, string])[]

function refuse(message: string, hints: readonly string[] = []): SecretsError {
    return new SecretsError(ExitCode.Generic, message, hints)
}

/** An environment variable cannot hold a NUL byte: execve ends the string there. */
function refuseNul(name: string, value: string): void {
    if (value.includes("\0")) throw refuse(`the value of ${quote(name)} contains a NUL byte, which no environment variable can hold`)
}

/**
 * `NAME='value'` lines that `bash`, `sh`, `zsh` (and `set -a; . ./file`) read back
 * exactly: inside single quotes every byte is literal, newlines included; a single
 * quote itself is written `'\''` (close, escaped quote, reopen), the one POSIX way.
 */
export function envText(pairs: Pairs): string {
    let out = ""
    for (const [name, value] of pairs) {
        if (!ENV_NAME.test(name)) {
            throw refuse(`${quote(name)} is not a shell variable name`, [
                "names are letters, digits and _, not starting with a digit; export with --format json or yaml to keep such keys",
            ])
        }
        refuseNul(name, value)
        out += `${name}='${value.replaceAll("'", "'\\''")}'\n`
    }
    return out
}

/**
 * docker's `--env-file` format (docker/cli opts/envfile.go, parseKeyValueFile): one
 * `NAME=value` per line read verbatim, no quoting and no escapes (quotes would
 * become part of the value); the line is split at the first `=`; a name with
 * whitespace is an error there, and a line starting with `#` is a comment. So a
 * value cannot hold a newline (the line would end) nor a carriage return (the line
 * scanner drops a trailing one), and a name must be non-empty, without `=`,
 * whitespace or a leading `#`.
 */
export function dockerEnvText(pairs: Pairs): string {
    let out = ""
    for (const [name, value] of pairs) {
        if (name === "" || /[\s=]/.test(name) || name.startsWith("#")) {
            throw refuse(`${quote(name)} cannot be a name in a docker env-file (no whitespace, no =, not starting with #)`)
        }
        refuseNul(name, value)
        if (/[\n\r]/.test(value)) {
            throw refuse(`the value of ${quote(name)} has a line break, which a docker env-file cannot hold`, [
                "docker reads one NAME=value per line with no quoting; pass it another way (a mounted file, --format env for a shell)",
            ])
        }
        out += `${name}=${value}\n`
    }
    return out
}

/** Kubernetes' DNS-1123 subdomain (metadata.name of a Secret): apimachinery validation IsDNS1123Subdomain. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
/** A DNS-1123 label (metadata.namespace): IsDNS1123Label, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
/** A key of a Secret's data/stringData: IsConfigMapKey. */
export const SECRET_KEY = /^[-._a-zA-Z0-9]+$/

export function isSecretKey(key: string): boolean {
    return key.length <= 253 && SECRET_KEY.test(key) && key !== "." && key !== ".." && !key.startsWith("..")
}

export function isDns1123Subdomain(name: string): boolean {
    return name.length <= 253 && DNS1123_SUBDOMAIN.test(name)
}

/**
 * The default Secret name from the encrypted file's name: its base name without
 * extensions, lower-cased, every run of other characters a `-`, trimmed to start
 * and end with a letter or digit (`secrets/App_Prod.enc.yaml` -> `app-prod`).
 */
export function secretNameFor(file: string): string | undefined {
    const base = (file.split(/[\\/]/).pop() ?? "").replace(/^\.+/, "")
    const stem = base.includes(".") ? base.slice(0, base.indexOf(".")) : base
    const name = stem
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 253)
        .replace(/-+$/, "")
    return name === "" ? undefined : name
}

export interface SecretManifestOptions {
    readonly name: string
    readonly namespace?: string
}

/**
 * A `v1` `Secret` of type `Opaque` with the values under `stringData` (the API
 * server base64-encodes them into `data`), as a tree for the YAML store. The
 * fields and their rules are those of the Kubernetes API reference (Secret v1 core;
 * names and keys as apimachinery's validation checks them), written down here
 * without kubectl.
 */
export function secretManifest(pairs: Pairs, opts: SecretManifestOptions): Branch {
    if (!isDns1123Subdomain(opts.name)) {
        throw new SecretsError(ExitCode.ConflictingParameters, `${quote(opts.name)} is not a valid Secret name`, [
            "a Secret name is a DNS-1123 subdomain: lower-case letters, digits, - and ., starting and ending with a letter or digit, at most 253 characters",
        ])
    }
    if (opts.namespace !== undefined && (opts.namespace.length > 63 || !DNS1123_LABEL.test(opts.namespace))) {
        throw new SecretsError(ExitCode.ConflictingParameters, `${quote(opts.namespace)} is not a valid namespace`, [
            "a namespace is a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit, at most 63 characters",
        ])
    }
    const data: MapItem[] = []
    for (const [key, value] of pairs) {
        if (!isSecretKey(key)) {
            throw refuse(`${quote(key)} cannot be a key of a Kubernetes Secret`, [
                "Secret keys are letters, digits, -, _ and . (at most 253, not . or .. or starting with ..); rename the key in the file",
            ])
        }
        data.push(entry(key, str(value)))
    }
    const metadata: MapItem[] = [entry("name", str(opts.name))]
    if (opts.namespace !== undefined) metadata.push(entry("namespace", str(opts.namespace)))
    return map(
        entry("apiVersion", str("v1")),
        entry("kind", str("Secret")),
        entry("metadata", map(...metadata)),
        entry("type", str("Opaque")),
        entry("stringData", map(...data)),
    )
}
