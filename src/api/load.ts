/**
 * `load()` and `get()`: a program's secrets from sops files, decrypted in its own
 * process with the identities the CLI would use (SOPS_AGE_KEY_FILE, the default
 * key file, SSH keys, key commands, 1Password references; files/node-identities.ts).
 *
 * Values become strings by the rules of `secrets exec-env` (files/env-from-tree.ts),
 * so a program gets from `load()` exactly the variables `exec-env` would give it:
 * a null is left out, a nested value is refused unless `flatten`, and a value
 * that was not encrypted never sets PATH, LD_PRELOAD, NODE_OPTIONS and the like
 * (`into` is usually process.env, which every child process inherits).
 */
import { getAt, parseTreePath, type PathStep } from "../core/tree-path.js"
import { aadFor } from "../core/walk.js"
import type { Branch } from "../core/tree.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { envFromBranch } from "../files/env-from-tree.js"
import type { Io } from "../files/io.js"
import { openInput, readInput } from "../files/open-file.js"
import type { OpenedFile } from "../engine/open.js"
import { valueToString } from "../stores/flatten.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { selectProfile, someFiles } from "../fleet/profile-files.js"
import { apiIo, ioForFile } from "./api-io.js"
import { flattenBranch } from "./flatten-branch.js"
import type { GetOptions, LoadOptions } from "./options.js"

/** Decrypt a profile's files and `files`, and return their top-level values as strings (and assign them to `into`). */
export async function load(options: LoadOptions): Promise<Record<string, string>> {
    const given = options.files === undefined ? [] : typeof options.files === "string" ? [options.files] : options.files
    if (!Array.isArray(given) || !given.every((f) => typeof f === "string" && f !== "")) {
        throw new SecretsError(ExitCode.NoFileSpecified, "load() needs files: one file name or a list of them", [`load({ files: ["secrets/app.yaml"] })`])
    }
    const io = apiIo(options)
    const profileName = options.profile ?? nonEmpty(io.env["SECRETS_PROFILE"])
    let files: readonly string[] = given
    let flattenProfile = false
    if (profileName !== undefined) {
        if (typeof profileName !== "string") throw new SecretsError(ExitCode.Generic, "load(): profile must be a profile name")
        const selected = await selectProfile(io, profileName, nonEmpty(io.env["SOPS_CONFIG"]))
        files = [...someFiles(selected), ...given]
        flattenProfile = selected.profile.flatten
    }
    if (files.length === 0) {
        throw new SecretsError(ExitCode.NoFileSpecified, "load() needs files or a profile", [`load({ files: ["secrets/app.yaml"] }) or load({ profile: "dev" })`])
    }
    // No prototype: a key named "__proto__" is a variable like any other.
    const values = Object.create(null) as Record<string, string>
    for (const file of files) {
        for (const [name, value] of await variablesOf(io, file, options.flatten === true || flattenProfile)) values[name] = value
    }
    if (options.into !== undefined) assign(options.into, values, options.override === true)
    return values
}

/**
 * One value of `file`: `keyPath` in sops index syntax (`["db"]["password"]`,
 * `["hosts"][0]`), or a plain top-level key name (`DB_PASSWORD`). A scalar comes
 * back as the text `load()` would give it (a null as ""); a mapping or list is refused.
 */
export async function get(file: string, keyPath: string, options: GetOptions = {}): Promise<string> {
    if (typeof file !== "string" || file === "") throw new SecretsError(ExitCode.NoFileSpecified, "get() needs a file name")
    if (typeof keyPath !== "string" || keyPath === "") {
        throw new SecretsError(ExitCode.InvalidTreePathFormat, "get() needs a key: a top-level name or a path like '[\"db\"][\"password\"]'")
    }
    const path: PathStep[] = keyPath.trimStart().startsWith("[") ? parseTreePath(keyPath) : [keyPath]
    const opened = await openFile(apiIo(options), file)
    const first = opened.branches[0]
    const node = first === undefined ? undefined : getAt(first, path)
    if (node === undefined) throw new SecretsError(ExitCode.Generic, `${quote(file)} has no value at ${keyPath}`)
    if (node.kind === "map" || node.kind === "list") {
        throw new SecretsError(ExitCode.Generic, `${quote(file)}: the value at ${keyPath} is ${node.kind === "map" ? "a mapping" : "a list"}, not one value`, [
            "name a value inside it, or use load({ files, flatten: true }) for all of them",
        ])
    }
    return valueToString(node)
}

async function openFile(io: Io, file: string): Promise<OpenedFile> {
    // readInput reads stdin for "-"; the API opens files only.
    const name = file === "-" ? "./-" : file
    const store = await loadStore(formatForPath(name))
    const fileIo = ioForFile(io, name)
    const input = await readInput(fileIo, name)
    return openInput(fileIo, name, input, store, {})
}

async function variablesOf(io: Io, file: string, flatten: boolean): Promise<ReturnType<typeof envFromBranch>> {
    const opened = await openFile(io, file)
    // Only the first document counts, as for exec-env (sops-format.md §11.8).
    const first: Branch | undefined = opened.branches[0]
    if (first === undefined) return []
    try {
        const flat = flatten ? flattenBranch(first) : undefined
        return envFromBranch(flat?.branch ?? first, {
            // As exec-env: the IV stash holds exactly the values that passed AES-GCM
            // under their own key path, so only those may set a dangerous name.
            wasDecrypted: (name, value) => opened.stash.lookup(aadFor(flat?.keyPaths.get(name) ?? [name]), value) !== undefined,
            onSkip: (name, reason) =>
                io.stderr.write(
                    reason.kind === "null"
                        ? `secrets: warning: ${quote(file)}: ${quote(name)} is null and was left out\n`
                        : `secrets: warning: ${quote(file)}: ${quote(name)} was left out: it changes ${reason.what}, and its value is not encrypted, so nothing shows who wrote it; encrypt the value to load it\n`,
                ),
        })
    } catch (e) {
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
}

/** dotenv's rule: a name already present in `into` stays unless `override`. */
function assign(into: Record<string, string | undefined>, values: Record<string, string>, override: boolean): void {
    for (const [name, value] of Object.entries(values)) {
        if (!override && Object.prototype.hasOwnProperty.call(into, name)) continue
        // defineProperty, not `into[name] = value`: on a plain object, assigning
        // "__proto__" would replace its prototype instead of adding a key.
        Object.defineProperty(into, name, { value, writable: true, enumerable: true, configurable: true })
    }
}

function nonEmpty(v: string | undefined): string | undefined {
    return v === undefined || v === "" ? undefined : v
}
