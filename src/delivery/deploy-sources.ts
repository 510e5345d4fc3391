/**
 * The bytes of each manifest entry, all in memory before any generation exists
 * (deploy-anchors.md §1.6: decrypt first, so a failure changes nothing): an
 * encrypted file (whole, converted, or one value), a template file, or inline
 * template text, whose placeholders name values of encrypted files or 1Password.
 *
 * Each encrypted file is read and decrypted once, however many entries and
 * placeholders name it. Identities: the host's key (by default its SSH host key,
 * `<root>/etc/ssh/ssh_host_ed25519_key`, through its X25519 twin, as sops-nix
 * does) or `--identity` files, tried first, then every source the other commands
 * use (SOPS_AGE_KEY_FILE, …).
 *
 * Sources named by `.sops.yaml` must stay inside its directory after symlinks are
 * resolved: a committed manifest (or a symlink committed beside it) must not make
 * a root deploy copy `/etc/shadow` or the host key into a file another user reads.
 */
import { readFile, realpath } from "node:fs/promises"
import { isAbsolute, relative, resolve, sep } from "node:path"

import type { DeployEntry, DeployManifest } from "../config/deploy-manifest.js"
import { getAt, type PathStep } from "../core/tree-path.js"
import { openEncrypted, type OpenedFile } from "../engine/open.js"
import { ExitCode, NoIdentityError, SecretsError, quote } from "../errors.js"
import type { Io } from "../files/io.js"
import { withIdentities } from "../files/node-identities.js"
import { trace } from "../files/trace.js"
import type { OpClient } from "../integrations/op-types.js"
import type { AgeIdentity } from "../keys/age.js"
import { parseIdentities } from "../keys/identity-file.js"
import { metadataFromTree } from "../stores/metadata.js"
import { formatForPath, loadStore, type Store } from "../stores/index.js"
import { parseTemplate, templateText } from "./template.js"
import { resolveReferences } from "./template-values.js"

/** Bounds what an entry can make the deploy read into memory. */
const MAX_SOURCE_BYTES = 64 * 1024 * 1024

export interface HostIdentities {
    readonly identities: readonly AgeIdentity[]
    /** E.g. `host key /etc/ssh/ssh_host_ed25519_key (not found)`, for the exit-128 error. */
    readonly lookedIn: readonly string[]
}

/**
 * The host's identities: the `--identity` files (each must be readable: it was
 * asked for), else the default host key if it exists.
 */
export async function loadHostIdentities(root: string, files: readonly string[]): Promise<HostIdentities> {
    const identities: AgeIdentity[] = []
    const lookedIn: string[] = []
    if (files.length === 0) {
        const path = resolve(root, "etc/ssh/ssh_host_ed25519_key")
        let text: string | undefined
        try {
            text = await readFile(path, "utf8")
        } catch (e) {
            lookedIn.push(`host key ${path} (${(e as { code?: string }).code === "ENOENT" ? "not found" : `unreadable: ${(e as { code?: string }).code ?? "error"}`})`)
        }
        if (text !== undefined) {
            try {
                identities.push(...parseIdentities(text, path))
                lookedIn.push(`host key ${path}`)
            } catch (e) {
                // As a missing key: an error only if nothing else opens the file (then named in its hints).
                if (!(e instanceof SecretsError)) throw e
                lookedIn.push(`host key ${path} (unusable: ${e.detail})`)
            }
        }
        return { identities, lookedIn }
    }
    for (const path of files) {
        let text: string
        try {
            text = await readFile(path, "utf8")
        } catch (e) {
            throw new SecretsError(ExitCode.CouldNotRetrieveKey, `cannot read the identity ${quote(path)}: ${(e as { code?: string }).code ?? "error"}`, [
                "--identity names an age key file or an SSH private key (ed25519 or RSA)",
            ])
        }
        identities.push(...parseIdentities(text, path))
        lookedIn.push(`--identity ${path}`)
    }
    return { identities, lookedIn }
}


/** Reads and decrypts sources for one deploy, each file once. */
export class SourceReader {
    private readonly files = new Map<string, Promise<OpenedFile>>()
    /** One client for the whole deploy: it reads each op:// reference once. */
    private op: OpClient | undefined

    private readonly io: Io
    private readonly manifest: DeployManifest
    private readonly host: HostIdentities

    constructor(io: Io, manifest: DeployManifest, host: HostIdentities) {
        this.io = io
        this.manifest = manifest
        this.host = host
    }

    /** The bytes `entry` deploys. `where` names the entry in errors. */
    async contentOf(entry: DeployEntry, where: string): Promise<Uint8Array> {
        const s = entry.source
        try {
            if (s.kind === "file") {
                const { store, opened } = await this.open(s.file)
                // As `decrypt --extract`: a string raw, a mapping in the file's format.
                if (s.key !== undefined) return store.emitValue(this.valueAt(opened, s.key.path, s.file, s.key.text))
                const out = s.format === undefined || s.format === store.format ? store : await loadStore(s.format)
                return out.emitPlain(opened.branches)
            }
            const text = s.kind === "template" ? templateText(await this.readConfined(s.template, "template"), s.template) : s.content
            const parsed = parseTemplate(text, s.kind === "template" ? s.template : `${where}.content`)
            if (this.op === undefined && parsed.references.some((r) => r.kind === "op")) this.op = (await import("../integrations/op.js")).opClientFromEnv(this.io.env)
            // template-values.ts checks where placeholders point and what a value may be;
            // the files are opened here, with the host key and the cache of file entries.
            const values = await resolveReferences(this.io, parsed.references, {
                baseDir: this.manifest.baseDir,
                openFile: (name, input, store) => this.openInput(name, input, store),
                ...(this.op !== undefined ? { op: this.op } : {}),
            })
            return Buffer.from(parsed.render(values), "utf8")
        } catch (e) {
            if (e instanceof SecretsError) throw new SecretsError(e.code, `${where}: ${e.message}`, e.hints)
            throw e
        }
    }

    private valueAt(opened: OpenedFile, path: readonly PathStep[], file: string, text: string) {
        const first = opened.branches[0]
        const node = first === undefined ? undefined : getAt(first, path)
        if (node === undefined) throw new SecretsError(ExitCode.Generic, `${quote(file)} has no value at ${text}`)
        return node
    }

    private async open(file: string): Promise<{ store: Store; opened: OpenedFile }> {
        const input = await this.readConfined(file, "encrypted file")
        const store = await loadStore(formatForPath(file))
        return { store, opened: await this.openInput(file, input, store) }
    }

    /** Decrypt `input` (the file `name`, relative to the manifest) once per deploy. */
    private openInput(name: string, input: Uint8Array, store: Store): Promise<OpenedFile> {
        const key = `${store.format}:${resolve(this.manifest.baseDir, name)}`
        let opened = this.files.get(key)
        if (opened === undefined) {
            opened = this.decrypt(name, input, store)
            this.files.set(key, opened)
        }
        return opened
    }

    private async decrypt(file: string, input: Uint8Array, store: Store): Promise<OpenedFile> {
        let recipients: string[]
        try {
            recipients = metadataFromTree(store.parseEncrypted(input).metadata).keyGroups.flatMap((g) => g.flatMap((k) => (k.type === "age" ? [k.recipient] : [])))
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
        trace(this.io, `deploy: decrypting ${quote(file)}`)
        const advice = "give the host's key with --identity, or add the host's recipient to the file (secrets keys add-host)"
        try {
            return await withIdentities(this.io, recipients, advice, (ids) => openEncrypted(input, store, [...this.host.identities, ...ids]))
        } catch (e) {
            if (e instanceof NoIdentityError) throw new NoIdentityError(`${quote(file)}: ${e.detail}`, [`also looked in: ${this.host.lookedIn.join("; ")}`, ...e.hints])
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
    }

    /** A source's bytes; from `.sops.yaml`, only if it resolves inside the manifest's directory. */
    private async readConfined(file: string, what: string): Promise<Buffer> {
        const abs = resolve(this.manifest.baseDir, file)
        let real: string
        try {
            real = await realpath(abs)
        } catch (e) {
            const code = (e as { code?: string }).code
            throw new SecretsError(code === "ENOENT" ? ExitCode.NoFileSpecified : ExitCode.CouldNotReadInputFile, `the ${what} ${quote(file)} ${code === "ENOENT" ? "does not exist" : `cannot be read: ${code ?? "error"}`}`)
        }
        if (!this.manifest.absoluteSourcesAllowed) {
            const base = await realpath(this.manifest.baseDir)
            const rel = relative(base, real)
            if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
                throw new SecretsError(ExitCode.CouldNotReadInputFile, `the ${what} ${quote(file)} resolves outside ${quote(base)}`, [
                    "a .sops.yaml may only deploy files inside its own directory; a root-written --manifest file may name others",
                ])
            }
        }
        const data = await readFile(real).catch((e: unknown) => {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, `the ${what} ${quote(file)} cannot be read: ${(e as { code?: string }).code ?? "error"}`)
        })
        if (data.length > MAX_SOURCE_BYTES) throw new SecretsError(ExitCode.CouldNotReadInputFile, `the ${what} ${quote(file)} is larger than ${MAX_SOURCE_BYTES} bytes`)
        return data
    }
}
