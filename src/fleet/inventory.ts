/**
 * What is under a fleet's config directory, read without decrypting anything: each
 * file's format, whether it is a sops file at all, the age recipients stored in its
 * metadata, the recipients its creation rule asks for, and its `lastmodified`.
 * `access`, `status` and `rotate --due` all start from this.
 *
 * Plaintext files are listed only under `secrets/` (THE LAYOUT's root): there a
 * plaintext file is a leak waiting for `git push`; elsewhere in the repository it
 * is ordinary source.
 */
import { createHash } from "node:crypto"
import { readFileSync, statSync } from "node:fs"
import { relative, sep } from "node:path"
import { InputLimitError } from "../core/input-limits.js"
import { quote } from "../errors.js"
import type { Metadata } from "../core/metadata.js"
import { diffGroups, hasChanges } from "../engine/rekey.js"
import type { Io } from "../files/io.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { Format } from "../stores/store.js"
import { ruleGroupsFor, type LoadedFleetConfig } from "./rekey-repo.js"
import { repoFiles } from "./repo-files.js"

/** Files that keep directories in git or configure it; never secrets. */
const SKIPPED_FILES = new Set([".sops.yaml", ".gitkeep", ".gitignore", ".gitattributes"])
/** Encrypted files are small; anything bigger is not parsed (a build artefact, a database). */
const MAX_FILE_BYTES = 16 * 1024 * 1024
/** THE LAYOUT's root, relative to the config's directory. */
const SECRETS_DIR = "secrets/"

/** One file of the inventory. */
export interface InventoryEntry {
    readonly abs: string
    /** Relative to the config's directory, with `/`: stable whatever the working directory. */
    readonly path: string
    readonly format: Format
    readonly encrypted: boolean
    /** The parsed metadata of an encrypted file. */
    readonly metadata?: Metadata
    /** Age recipients stored in the file, in group order, each once. Empty when not encrypted. */
    readonly recipients: string[]
    /** Age recipients its creation rule asks for, each once; undefined when no rule matches. */
    readonly expected?: string[]
    /** Encrypted, a rule matches, and the stored recipients are the rule's (group by group). */
    readonly inStep: boolean
    /** `lastmodified` as written, "" when not encrypted. */
    readonly lastModified: string
    /**
     * SHA-256 (hex) of the bytes `metadata` was read from: a version in git history
     * with the same bytes has the same metadata, unparsed (src/fleet/key-dates.ts).
     */
    readonly digest?: string
}

/**
 * Every file the inventory covers under the config's directory, sorted by path.
 * `onFile` hears how many of the files walked have been read (for a progress line):
 * the walk is listed first, so the total is known before the slow part.
 */
export async function takeInventory(io: Io, loaded: LoadedFleetConfig, onFile?: (done: number, total: number) => void): Promise<InventoryEntry[]> {
    const files: string[] = []
    for await (const abs of repoFiles(loaded.dir, SKIPPED_FILES, { skipNestedProjects: true })) files.push(abs)
    const out: InventoryEntry[] = []
    for (const [i, abs] of files.entries()) {
        onFile?.(i, files.length)
        const entry = await inspect(io, loaded, abs)
        if (entry !== undefined) out.push(entry)
    }
    return out
}

/** The age recipients of metadata key groups, flattened, each once. */
export function flatRecipients(groups: readonly (readonly string[])[]): string[] {
    return [...new Set(groups.flat())]
}

async function inspect(io: Io, loaded: LoadedFleetConfig, abs: string): Promise<InventoryEntry | undefined> {
    const path = relative(loaded.dir, abs).split(sep).join("/")
    const format = formatForPath(abs)
    const read = await readMetadata(abs, format)
    if (read === undefined) {
        if (!path.startsWith(SECRETS_DIR)) return undefined
        return { abs, path, format, encrypted: false, recipients: [], inStep: false, lastModified: "" }
    }
    const { metadata, digest } = read
    const stored = metadata.keyGroups.map((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient.trim()] : [])))
    const rule = ruleGroupsFor(io, loaded, abs)
    const inStep = rule !== undefined && !hasChanges(diffGroups(metadata.keyGroups, rule))
    return {
        abs,
        path,
        format,
        encrypted: true,
        metadata,
        recipients: flatRecipients(stored),
        ...(rule !== undefined ? { expected: flatRecipients(rule) } : {}),
        inStep,
        lastModified: metadata.lastModified,
        digest,
    }
}

/** The file's sops metadata when it is a sops file (has a version and a MAC, as `filestatus` asks). */
async function readMetadata(abs: string, format: Format): Promise<{ metadata: Metadata; digest: string } | undefined> {
    try {
        // Read synchronously: encrypted files are small, and on a loaded machine each
        // awaited read of 1,000 waited its turn on the thread pool (issue 14 target 7:
        // `access` spent half its time idle).
        if (statSync(abs).size > MAX_FILE_BYTES) return undefined
        const store = await loadStore(format)
        const bytes = readFileSync(abs)
        const metadata = metadataFromTree(store.parseEncrypted(bytes).metadata)
        if (metadata.version === "" || metadata.mac === "") return undefined
        return { metadata, digest: createHash("sha256").update(bytes).digest("hex") }
    } catch (e) {
        // A file that breaks an input bound (a "billion laughs" file) is no plaintext
        // to list: name it instead.
        if (e instanceof InputLimitError) throw e.about(quote(abs))
        // Not a sops file, or not one we can parse: to the inventory it is plaintext.
        return undefined
    }
}
