/**
 * The values a template's placeholders name (template.ts): file references are
 * decrypted, op references read through `op`. Everything is resolved before anything
 * is rendered, so a placeholder that cannot be resolved fails the render or the
 * deploy with nothing written, and the error names the placeholder's
 * `source:line:column`, the file or reference, never a value.
 *
 * API:
 * ```ts
 * resolveReferences(io, refs, { baseDir, openFile?, op? }): Promise<Map<string, string>>  // keys: referenceKey(ref)
 * ```
 * Pass every reference of every template of a run in one call: each file is then
 * opened (and decrypted) once, and each op reference read once.
 *
 * Which files a placeholder may name: a template comes from the repository, which
 * more people can change than can read the host's secrets, and `secrets deploy`
 * runs as root with the host key. So a file reference must stay inside `baseDir`
 * (the manifest's directory, or the working directory for `secrets render`): no
 * absolute path, no `..` out of it, and no symbolic link leading out of it (checked
 * on the real path). And it must be a sops file this identity opens: openInput
 * refuses a file without sops metadata, so `/etc/shadow` is never read as a value,
 * even from inside baseDir, and its error quotes none of its content.
 */
import { realpath } from "node:fs/promises"
import { isAbsolute, normalize, relative, resolve, sep } from "node:path"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { getAt } from "../core/tree-path.js"
import type { Node } from "../core/tree.js"
import type { OpenedFile } from "../engine/open.js"
import type { OpClient } from "../integrations/op-types.js"
import type { Io } from "../files/io.js"
import { openInput, readInput } from "../files/open-file.js"
import { trace } from "../files/trace.js"
import { valueToString } from "../stores/flatten.js"
import { formatForPath, loadStore, type Store } from "../stores/index.js"
import { describeReference, locationOf, referenceKey, type TemplateReference } from "./template.js"

export interface ResolveOptions {
    /** File references are relative to this directory (resolved against io.cwd) and must stay inside it. */
    readonly baseDir: string
    /**
     * How an encrypted file is opened: by default openInput, with the identities the
     * usual sources give (SOPS_AGE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_FILE, … from
     * io.env). `secrets deploy` passes its own to add the host key. `name` is the
     * file as the first placeholder naming it wrote it, normalised (no `./`), relative
     * to baseDir.
     */
    readonly openFile?: (name: string, input: Uint8Array, store: Store) => Promise<OpenedFile>
    /** The 1Password client; by default opClientFromEnv(io.env), made only when a reference needs it. */
    readonly op?: OpClient
}

type FileReference = Extract<TemplateReference, { kind: "file" }>
type OpReference = Extract<TemplateReference, { kind: "op" }>

/** The value of each reference, keyed by referenceKey; throws on the first that cannot be resolved. */
export async function resolveReferences(io: Io, refs: readonly TemplateReference[], opts: ResolveOptions): Promise<Map<string, string>> {
    const values = new Map<string, string>()
    const fileRefs = refs.filter((r): r is FileReference => r.kind === "file")
    const opRefs = refs.filter((r): r is OpReference => r.kind === "op")
    const baseDir = resolve(io.cwd, opts.baseDir)

    // Every path is checked before any file is decrypted: a template that names
    // /etc/shadow fails before it costs an identity lookup.
    for (const ref of fileRefs) insideBaseDir(ref, baseDir)
    const realBase = await realpath(baseDir).catch(() => baseDir)
    const byFile = new Map<string, FileReference[]>()
    for (const ref of fileRefs) {
        const real = await realInside(ref, resolve(baseDir, ref.file), realBase)
        const group = byFile.get(real)
        if (group === undefined) byFile.set(real, [ref])
        else group.push(ref)
    }
    const opCount = new Set(opRefs.map(referenceKey)).size
    trace(io, `template: ${byFile.size} file${byFile.size === 1 ? "" : "s"} and ${opCount} op reference${opCount === 1 ? "" : "s"} to resolve`)
    const open = opts.openFile ?? ((name: string, input: Uint8Array, store: Store) => openInput(io, name, input, store, {}))
    for (const [real, group] of byFile) {
        const first = group[0]!
        const opened = await openReferencedFile(io, first, real, open)
        for (const ref of group) values.set(referenceKey(ref), valueAt(ref, opened))
    }

    if (opRefs.length > 0) {
        const client = opts.op ?? (await import("../integrations/op.js")).opClientFromEnv(io.env)
        for (const ref of opRefs) {
            const key = referenceKey(ref)
            if (values.has(key)) continue
            try {
                values.set(key, await client.read(ref.reference))
            } catch (e) {
                // op's messages name the reference; we add where the template uses it.
                throw e instanceof SecretsError ? e.about(locationOf(ref)) : e
            }
        }
    }
    return values
}

function placeholderError(ref: TemplateReference, why: string, hints: readonly string[] = []): SecretsError {
    return new SecretsError(ExitCode.Generic, `${locationOf(ref)}: ${describeReference(ref)}: ${why}`, hints)
}

/** The lexical check: relative, and no `..` out of baseDir. */
function insideBaseDir(ref: FileReference, baseDir: string): void {
    const where = `placeholder files are relative to ${quote(baseDir)} and must stay inside it`
    if (isAbsolute(ref.file)) throw placeholderError(ref, "an absolute path is not accepted", [where])
    if (escapes(baseDir, resolve(baseDir, ref.file))) throw placeholderError(ref, "the path leads out of the base directory", [where])
}

function escapes(dir: string, path: string): boolean {
    const rel = relative(dir, path)
    return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)
}

/** The file's real path, which must still be inside the base directory once symbolic links are followed. */
async function realInside(ref: FileReference, path: string, realBase: string): Promise<string> {
    let real: string
    try {
        real = await realpath(path)
    } catch {
        // readInput gives the precise error (missing, unreadable) for the path itself.
        return path
    }
    if (escapes(realBase, real)) {
        throw placeholderError(ref, "the file is a symbolic link (or lies under one) that leads out of the base directory", [
            "placeholders may only name sops files inside the repository",
        ])
    }
    return real
}

async function openReferencedFile(
    io: Io,
    ref: FileReference,
    path: string,
    open: (name: string, input: Uint8Array, store: Store) => Promise<OpenedFile>,
): Promise<OpenedFile> {
    const subject = `${locationOf(ref)}: ${quote(ref.file)}`
    try {
        const input = await readInput(io, path)
        // The format follows the name as written, as sops picks a store by suffix.
        const store = await loadStore(formatForPath(ref.file))
        // Normalised (`./a.yaml` is `a.yaml`): deploy caches opened files by this name.
        return await open(normalize(ref.file), input, store)
    } catch (e) {
        throw e instanceof SecretsError ? e.about(subject) : e
    }
}

/** The text of the one scalar at the reference's path (first document, as --extract). */
function valueAt(ref: FileReference, opened: OpenedFile): string {
    const doc = opened.branches[0]
    const node = doc === undefined ? undefined : getAt(doc, ref.steps)
    if (node === undefined) throw placeholderError(ref, "the file has no value at this key path", ["`secrets decrypt FILE` shows the keys the file has"])
    return scalarText(ref, node)
}

function scalarText(ref: FileReference, node: Node): string {
    const one = ["a placeholder takes one value (a string, number or boolean): name one inside it, e.g. " + `${ref.file}#${ref.path}["key"]`]
    if (node.kind === "map") throw placeholderError(ref, "the value is a mapping", one)
    if (node.kind === "list") throw placeholderError(ref, "the value is a list", [one[0]!.replace(`["key"]`, "[0]")])
    // A null is never encrypted nor in the MAC, and an empty password rendered in
    // its place would fail late and far away: better to fail here.
    if (node.kind === "null") throw placeholderError(ref, "the value is null", ["give the key a value, or remove the placeholder"])
    if (node.kind === "bytes") {
        // Not UTF-8 (stores keep valid UTF-8 as str): a text template cannot hold it
        // without corrupting it.
        throw placeholderError(ref, "the value is not UTF-8 text and cannot go into a template", [
            "deploy it as a file entry of its own (format: binary)",
        ])
    }
    return valueToString(node)
}
