/**
 * `secrets git diff-text FILE`: git's textconv for encrypted files (issue 15 §2).
 *
 * Git runs a textconv with ONE argument, a temporary copy of the blob named
 * `XXXXXX_<basename>` (so the extension survives), and diffs what it prints. What
 * we print:
 *
 * - for whoever can decrypt: a summary header (recipients, one per line, sorted;
 *   an id of the data key), then the plaintext exactly as `decrypt` prints it. A
 *   diff then reads "+# sops: recipients: host web1" for a recipient added and a
 *   changed `data key` line for a rotation;
 * - for whoever cannot (no identity, or only a passphrase-protected key) and for a
 *   file that is not a sops file: the bytes unchanged. Exit 0 either way: git must
 *   still show a diff.
 *
 * The plaintext goes to stdout only, never to a file: git's `cachetextconv` would
 * store it in refs/notes, which is why `secrets git setup` never enables it.
 */
import { createHmac } from "node:crypto"
import { closeSync, openSync, readSync, statSync } from "node:fs"
import { isAbsolute, relative, resolve } from "node:path"
import { MAX_INPUT_BYTES } from "../core/input-limits.js"
import { FormatError, NoIdentityError, quote, SecretsError } from "../errors.js"
import { formatForPath, type Format } from "../stores/store.js"
import { warn } from "./diagnostics.js"
import type { Io } from "./io.js"
import { governingConfig } from "./node-identities.js"
import { openInput, readInput } from "./open-file.js"
import { recipientNames } from "./recipient-names.js"

/** The HMAC message of the data key id: a label, so that the id is of no use for anything else. */
const DATA_KEY_ID_LABEL = "secrets diff data key id"

/**
 * A short id of a data key that tells two keys apart without revealing either: an
 * HMAC keyed by the data key, not a plain hash (a hash of the key is a fingerprint
 * anyone could compare against a leaked key; the HMAC needs the key to compute).
 */
export function dataKeyId(dataKey: Uint8Array): string {
    return createHmac("sha256", dataKey).update(DATA_KEY_ID_LABEL).digest("hex").slice(0, 8)
}

/**
 * The format of the file git handed over: `--input-type`, else the extension of the
 * temp name (git keeps the basename), else what the content looks like, since a
 * path without a known extension can still carry `diff=secrets`.
 */
export function diffFormat(name: string, bytes: Uint8Array, inputType?: Format): Format {
    if (inputType !== undefined) return inputType
    const byName = formatForPath(name)
    if (byName !== "binary") return byName
    const sniffed = sniffFormat(new TextDecoder().decode(bytes.subarray(0, 1 << 20)))
    // A JSON-shaped file under a name with no known extension is what decrypt opens
    // with the binary store (which reads any sops JSON and prints a binary file's
    // bytes): the same store, so the diff shows what decrypt would print.
    return sniffed === "json" ? "binary" : sniffed
}

/** Each sops store's metadata has a recognisable shape; binary when none fits. */
function sniffFormat(text: string): Format {
    const head = text.trimStart()
    if (head.startsWith("{")) return /"sops"\s*:/.test(text) ? "json" : "binary"
    if (/^\[sops\]\s*$/m.test(text)) return "ini"
    if (/^sops_version=/m.test(text)) return "dotenv"
    if (/^sops:\s*$/m.test(text)) return "yaml"
    return "binary"
}

/** The comment marker of the header: JSON has none, `//` reads as one to a person. */
function commentMarker(format: Format): string {
    return format === "json" ? "//" : "#"
}

/**
 * Recipients as the diff shows them: the `.sops.yaml` name (`host web1`), else the
 * recipient's first 12 characters (enough to tell keys apart in a diff; the full
 * key is in the encrypted text anyway).
 */
function recipientLabels(recipients: readonly string[], configPath: string | undefined): string[] {
    // Names are a courtesy: an unreadable config gives short keys instead.
    const nameOf = recipientNames(configPath)
    const labels = recipients.map((r) => nameOf(r) ?? r.trim().slice(0, 12))
    return [...new Set(labels)].sort()
}

export interface DiffTextOptions {
    readonly inputType?: Format
    /** Above this size the file is shown as it is, undecrypted (MAX_INPUT_BYTES; smaller in tests). */
    readonly maxBytes?: number
}

/** Print the diff text of `file` on io.stdout. */
export async function diffText(io: Io, file: string, opts: DiffTextOptions = {}): Promise<void> {
    const maxBytes = opts.maxBytes ?? MAX_INPUT_BYTES
    const size = fileSize(io, file)
    if (size !== undefined && size > maxBytes) {
        // Too large to decrypt (input-limits.ts): a diff of the encrypted text is still a
        // diff, where failing would break `git log -p` for the whole range.
        warn(io, `${quote(file)} is too large to decrypt for a diff (${size} bytes); showing the encrypted text`)
        await copyToStdout(io, resolve(io.cwd, file))
        return
    }
    const bytes = await readInput(io, file, { bytes: maxBytes, tooLarge: () => new FormatError(`${quote(file)} grew while being read`) })
    const format = diffFormat(file, bytes, opts.inputType)
    const { loadStore } = await import("../stores/index.js")
    const store = await loadStore(format, {})
    const quiet = quietIo(io)
    let opened
    try {
        opened = await openInput(quiet, file, bytes, store, {})
    } catch (e) {
        // Not a sops file, or nobody here can read it: git still needs a diff, of the
        // encrypted text. A MAC that fails is said, as decrypt would refuse the file.
        if (!(e instanceof SecretsError)) throw e
        // A FormatError is the quiet case for a file that is no sops file at all (a
        // `diff=secrets` pattern may cover clear files); one that looks like a sops
        // file but does not parse as one is said, since decrypt would refuse it.
        const looksSops = sniffFormat(new TextDecoder().decode(bytes.subarray(0, 1 << 20))) !== "binary"
        const say = e instanceof FormatError ? looksSops : !(e instanceof NoIdentityError)
        if (say) warn(io, `${e.message}; showing the encrypted text`)
        io.stdout.write(bytes)
        return
    }
    const recipients = opened.metadata.keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
    let out: Uint8Array
    let shown = format
    try {
        out = store.emitPlain(opened.branches)
    } catch (e) {
        // The binary store prints only a binary file's `data`; any other JSON file under
        // a name without an extension is printed as JSON (decrypt asks for --output-type).
        if (!(e instanceof SecretsError) || format !== "binary") throw e
        shown = "json"
        out = (await loadStore("json", {})).emitPlain(opened.branches)
    }
    const c = commentMarker(shown)
    const header = [
        ...recipientLabels(recipients, governingConfig(io, configSearchFrom(io, file))).map((r) => `${c} sops: recipients: ${r}`),
        `${c} sops: data key ${dataKeyId(opened.dataKey)}`,
    ]
    io.stdout.write(header.join("\n") + "\n")
    io.stdout.write(out)
}

/** The file's size, or undefined when it cannot be stat'ed (readInput then says why). */
function fileSize(io: Io, file: string): number | undefined {
    try {
        return statSync(resolve(io.cwd, file)).size
    } catch {
        return undefined
    }
}

/** Copy a file to stdout a MiB at a time, waiting for a pipe to drain (bounded memory). */
async function copyToStdout(io: Io, path: string): Promise<void> {
    const out = io.stdout as Io["stdout"] & { once?: (event: "drain", cb: () => void) => unknown }
    const fd = openSync(path, "r")
    try {
        const chunk = Buffer.alloc(1 << 20)
        for (;;) {
            const n = readSync(fd, chunk, 0, chunk.length, null)
            if (n === 0) return
            const flowing = out.write(Buffer.from(chunk.subarray(0, n)))
            if (flowing === false && out.once !== undefined) await new Promise<void>((done) => out.once?.("drain", done))
        }
    } finally {
        closeSync(fd)
    }
}

/**
 * Where the `.sops.yaml` that names recipients is looked for: from the file, unless
 * the file is outside the working directory, as git's temporary copies are
 * (`/tmp/git-blob-XXXXXX/app.yaml`, with git running us at the repository's top):
 * then from the working directory, so that no stray config above /tmp is read.
 */
export function configSearchFrom(io: Io, file: string): { file?: string } {
    const rel = relative(io.cwd, resolve(io.cwd, file))
    return rel.startsWith("..") || isAbsolute(rel) ? {} : { file }
}

/**
 * The Io with a stdin that is never a terminal: a textconv runs under `git diff`,
 * maybe in a pager or a GUI, and must not wait on a passphrase prompt. A key that
 * only a passphrase opens is then skipped, and the file shows encrypted.
 */
function quietIo(io: Io): Io {
    const quiet = Object.create(io) as Io
    Object.defineProperty(quiet, "stdin", { value: { isTTY: false } })
    return quiet
}
