/**
 * Repo-wide re-keying (issue 4 §4): after a key change in `.sops.yaml`, give every
 * encrypted file under the config's directory the recipients of its creation rule.
 * It is `updatekeys` over a whole tree: the same data key is re-wrapped, values,
 * `mac` and `lastmodified` stay as they are (sops-format.md §8), and only files
 * whose recipients actually change are written, so the others keep their bytes and
 * mtimes and a git diff shows exactly the files a key change touched.
 *
 * A recipient the file's rule does not name is dropped like any other change, and
 * named once more after the table: a re-wrap keeps the data key, so a key that
 * could open the file before (a key someone added to the file alone, or one just
 * removed from `.sops.yaml`) may still hold it; `rotate -i --strict` gives a new one.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { dirname, relative, resolve } from "node:path"
import { parseConfig } from "../config/load.js"
import { matchRule, planForRule } from "../config/match.js"
import type { Config } from "../config/schema.js"
import type { Metadata } from "../core/metadata.js"
import { diffGroups, hasChanges, normalizeGroups, type GroupDiff } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { metadataFromTree } from "../stores/metadata.js"
import type { EncryptedDocument, Store } from "../stores/store.js"
import type { Io } from "../files/io.js"
import { IdentitySession, recoverKey, renderRekeyTable } from "../files/rekey-file.js"
import { withFileLock } from "../files/file-lock.js"
import { syncDirs, writeFileAtomic } from "../files/fs-atomic.js"
import { FILES_IN_FLIGHT, forEachBounded } from "./bounded.js"
import { progressLines } from "./progress-lines.js"
import { readForRekey, rekeyBytes } from "./rekey-yaml-fast.js"
import { repoFiles } from "./repo-files.js"
import { offRuleRecipients } from "./rule-recipients.js"
import { info, warn } from "../files/diagnostics.js"

/**
 * What a repo-wide operation gets from its caller: the Io, and how to report a file
 * that failed while the others go on. Reporting is the CLI's (`secrets: error: …`
 * with its hints, cli/report.ts), passed in because fleet sits below the CLI and
 * does not import it.
 */
export interface RepoRun {
    readonly io: Io
    readonly reportFailure: (err: unknown) => void
}

/** The config itself is never one of the files to re-key. */
const CONFIG_ONLY: ReadonlySet<string> = new Set([".sops.yaml"])
/** Encrypted files are small; anything bigger is not read (a build artefact, a database). */
const MAX_FILE_BYTES = 16 * 1024 * 1024

/** An encrypted file found under the config's directory, parsed as far as its metadata. */
export interface FoundFile {
    /** Absolute path. */
    readonly abs: string
    /** The path as shown to the user: relative to the working directory. */
    readonly shown: string
    readonly store: Store
    readonly doc: EncryptedDocument
    readonly metadata: Metadata
    /** The bytes `doc` was parsed from: a re-key that finds them unchanged under the lock need not parse again. */
    readonly bytes?: Uint8Array
    /** A canonical YAML file's values part, which a re-key keeps byte for byte (rekey-yaml-fast.ts). */
    readonly canonicalValues?: string
}

/** A file whose recipients differ from its rule's. */
export interface RekeyPlan {
    readonly file: FoundFile
    readonly groups: string[][]
    readonly threshold: number
    readonly diff: readonly GroupDiff[]
}

export interface RekeyReport {
    /** Files (as shown) whose recipients differ from their rule, in walk order. */
    readonly changed: string[]
    /** Files rewritten. Empty on a dry run or when not confirmed. */
    readonly written: string[]
    readonly upToDate: string[]
    /** Encrypted files no creation rule matches: left alone. */
    readonly unmatched: string[]
    readonly failed: { file: string; code: ExitCode }[]
    /** Recipients dropped from written files because their rule does not name them, with those files. */
    readonly offRule: { recipient: string; files: string[] }[]
}

/** A loaded `.sops.yaml` and its directory, the root of the walk. */
export interface LoadedFleetConfig {
    readonly path: string
    readonly dir: string
    readonly text: string
    readonly config: Config
}

export async function loadFleetConfig(io: Io, configPath: string): Promise<LoadedFleetConfig> {
    const path = resolve(io.cwd, configPath)
    let text: string
    try {
        text = await readFile(path, "utf8")
    } catch (e) {
        throw new ConfigError(`cannot read config ${quote(configPath)}: ${(e as { code?: string }).code ?? "error"}`, [
            "run `secrets init` first, or pass --config",
        ])
    }
    const config = parseConfig(text, configPath)
    for (const w of config.warnings) warn(io, w)
    return { path, dir: dirname(path), text, config }
}

/**
 * Every file under `root` that carries sops metadata with a version and a MAC (the
 * `filestatus` test), in sorted walk order. Symbolic links are not followed.
 */
export async function findEncryptedFiles(io: Io, root: string): Promise<FoundFile[]> {
    const paths: string[] = []
    for await (const abs of repoFiles(root, CONFIG_ONLY)) paths.push(abs)
    // Read a few at a time (bounded.ts): each read waits on the thread pool.
    const found = await forEachBounded(paths, FILES_IN_FLIGHT, (abs) => parseIfEncrypted(io, abs))
    return found.filter((f): f is FoundFile => f !== undefined)
}

async function parseIfEncrypted(io: Io, abs: string): Promise<FoundFile | undefined> {
    const bytes = readSmallFile(abs)
    // Not a sops file (or not one we can parse): it is not ours to re-key.
    return bytes === undefined ? undefined : parseBytes(io, abs, bytes)
}

/**
 * A file's bytes, or undefined when it cannot be read or is over MAX_FILE_BYTES.
 * Synchronous on purpose: an encrypted file is a few KiB, and a read through the
 * thread pool costs more in round trips than the read itself, a thousand times over
 * in a fleet command (issue 14). One descriptor for the checks and the read, so
 * all see the same file.
 */
function readSmallFile(abs: string): Uint8Array | undefined {
    let fd: number | undefined
    try {
        // O_NONBLOCK: a FIFO that appeared under a walked name must not hang the command.
        fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK)
        const st = fstatSync(fd)
        if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined
        return readFileSync(fd)
    } catch {
        return undefined
    } finally {
        if (fd !== undefined) closeSync(fd)
    }
}

async function parseBytes(io: Io, abs: string, bytes: Uint8Array): Promise<FoundFile | undefined> {
    try {
        const store = await loadStore(formatForPath(abs))
        const { doc, canonicalValues } = readForRekey(store, bytes)
        const metadata = metadataFromTree(doc.metadata)
        if (metadata.version === "" || metadata.mac === "") return undefined
        const found = { abs, shown: relative(io.cwd, abs) || abs, store, doc, metadata, bytes }
        return canonicalValues === undefined ? found : { ...found, canonicalValues }
    } catch {
        return undefined
    }
}

/** The age recipients per group the file's creation rule asks for, or undefined when no rule matches. */
export function ruleGroupsFor(io: Io, loaded: LoadedFleetConfig, abs: string): string[][] | undefined {
    let rule
    try {
        rule = matchRule(loaded.config, loaded.dir, abs)
    } catch (e) {
        if (e instanceof ConfigError) return undefined
        throw e
    }
    if (rule === undefined) return undefined
    const plan = planForRule(rule)
    if (plan.unsupported.length > 0) {
        warn(io, `${quote(relative(io.cwd, abs))}: its creation rule also names ${plan.unsupported.join(", ")} keys; only age recipients are synced`)
    }
    return normalizeGroups(plan.groups)
}

/** Plan every encrypted file under the config: nothing is decrypted. */
export async function planRepo(io: Io, loaded: LoadedFleetConfig): Promise<{ plans: RekeyPlan[]; upToDate: string[]; unmatched: string[] }> {
    const plans: RekeyPlan[] = []
    const upToDate: string[] = []
    const unmatched: string[] = []
    for (const file of await findEncryptedFiles(io, loaded.dir)) {
        const groups = ruleGroupsFor(io, loaded, file.abs)
        if (groups === undefined) {
            unmatched.push(file.shown)
            continue
        }
        const diff = diffGroups(file.metadata.keyGroups, groups)
        if (!hasChanges(diff)) {
            upToDate.push(file.shown)
            continue
        }
        plans.push({ file, groups, threshold: Math.min(file.metadata.shamirThreshold, groups.length), diff })
    }
    return { plans, upToDate, unmatched }
}

/**
 * Re-key every encrypted file under `opts.configPath`'s directory to its rule:
 * print the table, then (unless a dry run, and once confirmed) re-wrap the files that
 * change. A file that fails is reported and the others still go through; the call
 * throws at the end when any failed.
 */
export async function rekeyRepo(run: RepoRun, opts: { configPath: string; dryRun: boolean; yes: boolean }): Promise<RekeyReport> {
    const { io } = run
    const loaded = await loadFleetConfig(io, opts.configPath)
    const { plans, upToDate, unmatched } = await planRepo(io, loaded)
    for (const f of unmatched) warn(io, `${quote(f)}: no creation rule matches it; left as it is`)
    const report: RekeyReport = { changed: plans.map((p) => p.file.shown), written: [], upToDate, unmatched, failed: [], offRule: [] }
    if (plans.length === 0) {
        info(io, upToDateMessage(upToDate.length, unmatched.length))
        return report
    }
    io.stdout.write(renderRekeyTable(plans.map((p) => ({ file: p.file.shown, diff: p.diff }))))
    if (opts.dryRun) {
        info(io, `dry run: ${plans.length} file${plans.length === 1 ? "" : "s"} would be re-keyed, nothing written`)
        return report
    }
    await confirmOrRefuse(io, opts.yes, "re-key these files?")

    // The first file alone finds the identities (and may ask for a passphrase); the
    // rest reuse them, several files at a time, reported in order (bounded.ts).
    const session = new IdentitySession()
    // The directories files were renamed into, fsynced once each after the batch
    // (writeFileAtomic's syncDir: false): a thousand files in ten directories cost
    // ten directory fsyncs instead of a thousand. Each file's data is fsynced
    // before its rename, so a power cut before the directory's fsync can only undo
    // whole renames: such a file is left at its old version, still a complete,
    // valid sops file that its old recipients open, and running the command again
    // re-keys it. Order: every file is written, its line printed as it settles,
    // then the directories are fsynced, and only then the summary ("re-keyed N of
    // M") is printed and the command exits 0: success is never reported for files
    // whose new version is not yet durable.
    const renamedIn = new Set<string>()
    const attempt = async (p: RekeyPlan): Promise<unknown> => {
        try {
            await applyRekey(io, p, session, renamedIn)
            return undefined
        } catch (e) {
            return e ?? new Error("re-key failed")
        }
    }
    const lines = progressLines(io)
    const settle = (failure: unknown, i: number): void => {
        const p = plans[i] as RekeyPlan
        progress(lines.io, "re-keying", i, plans.length, p.file.shown)
        if (failure === undefined) {
            report.written.push(p.file.shown)
            return
        }
        lines.flush()
        run.reportFailure(failure instanceof SecretsError ? failure.about(quote(p.file.shown)) : failure)
        report.failed.push({ file: p.file.shown, code: failure instanceof SecretsError ? failure.code : ExitCode.Generic })
    }
    const [first, ...rest] = plans
    if (first !== undefined) settle(await attempt(first), 0)
    try {
        await forEachBounded(rest, FILES_IN_FLIGHT, attempt, (failure, i) => settle(failure, i + 1))
    } finally {
        lines.flush()
        // Also when the loop ends early: the files written so far are made durable.
        await syncDirs(renamedIn)
    }
    info(io, `re-keyed ${report.written.length} of ${plans.length} file${plans.length === 1 ? "" : "s"}`)
    reportOffRule(io, plans, report)
    if (report.failed.length > 0) {
        throw new SecretsError(report.failed[0]?.code ?? ExitCode.Generic, `${report.failed.length} file${report.failed.length === 1 ? "" : "s"} could not be re-keyed`, [
            "the other files were written; fix the cause and run the command again: done files are skipped",
        ])
    }
    return report
}

/** Name the recipients dropped for not being in their files' rules, one line per recipient. */
function reportOffRule(io: Io, plans: readonly RekeyPlan[], report: RekeyReport): void {
    const written = new Set(report.written)
    for (const p of plans) {
        if (!written.has(p.file.shown)) continue
        for (const r of offRuleRecipients(p.file.metadata.keyGroups, p.groups)) {
            const known = report.offRule.find((o) => o.recipient === r)
            if (known === undefined) report.offRule.push({ recipient: r, files: [p.file.shown] })
            else known.files.push(p.file.shown)
        }
    }
    for (const { recipient, files } of report.offRule) {
        const one = files.length === 1
        info(
            io,
            `removed ${recipient} from ${files.map(quote).join(", ")}: not in ${one ? "its creation rule" : "their creation rules"}; ` +
                `the data key stays the same: if that key may have been copied, give ${one ? "the file a new one" : "them new ones"} with \`secrets rotate -i --strict FILE\``,
        )
    }
}

/** Under the file's lock: re-read it, check it still needs the planned change, re-wrap, write. */
async function applyRekey(io: Io, p: RekeyPlan, session: IdentitySession, renamedIn: Set<string>): Promise<void> {
    await withFileLock(p.file.abs, async () => {
        const fresh = await reread(io, p.file)
        if (fresh === undefined) throw new SecretsError(ExitCode.Generic, "the file is no longer encrypted")
        if (JSON.stringify(diffGroups(fresh.metadata.keyGroups, p.groups)) !== JSON.stringify(p.diff)) {
            throw new SecretsError(ExitCode.Generic, "the file's recipients changed while re-keying", ["run the command again"])
        }
        const output = await rekeyBytes(fresh.store, fresh, fresh.metadata, p.groups, p.threshold, (md) => recoverKey(io, p.file.shown, md, undefined, session))
        // Added before the write: a rename that happened and then failed (its
        // directory's fsync is not done here) must still be made durable.
        renamedIn.add(dirname(p.file.abs))
        await writeFileAtomic(p.file.abs, output, { syncDir: false })
    })
}

/**
 * The file as it is now, under its lock: the planned parse when its bytes are
 * those that were planned with (the common case: parsing again would give the
 * same tree), else a fresh parse.
 */
async function reread(io: Io, planned: FoundFile): Promise<FoundFile | undefined> {
    const bytes = readSmallFile(planned.abs)
    if (bytes === undefined) return undefined
    return planned.bytes !== undefined && Buffer.from(bytes).equals(planned.bytes) ? planned : parseBytes(io, planned.abs, bytes)
}

/**
 * That nothing needs re-keying, in words that read right for 0 and 1 files too;
 * `unmatched` files (no rule: warned about already) are not called missing.
 */
export function upToDateMessage(count: number, unmatched = 0): string {
    if (count === 0) return unmatched === 0 ? "no encrypted files yet: nothing to re-key" : "no encrypted file has a creation rule: nothing to re-key"
    if (count === 1) return "the one encrypted file is up to date"
    return `all ${count} encrypted files are up to date`
}

/**
 * Progress on stderr, only when there are enough files for it to matter (or a
 * terminal to watch): `secrets: re-keying 3/40 secrets/shared/db.yaml`.
 */
export function progress(io: Pick<Io, "stderr">, verb: string, index: number, total: number, shown: string): void {
    if (total >= 5 || io.stderr.isTTY === true) info(io, `${verb} ${index + 1}/${total} ${shown}`)
}

/**
 * Go on with `--yes`, or after a yes at a terminal. Without a terminal and without
 * `--yes` nothing is written: a pipeline must say so explicitly.
 */
export async function confirmOrRefuse(
    io: Io,
    yes: boolean,
    question: string,
    refusalHints: readonly string[] = ["pass --yes to apply the changes without a terminal, or --dry-run to only print them"],
): Promise<void> {
    if (yes) return
    if (io.stdin.isTTY !== true) {
        throw new SecretsError(ExitCode.Generic, "not changing files without confirmation", refusalHints)
    }
    const { confirm } = await import("@inquirer/prompts")
    let ok = false
    try {
        ok = await confirm({ message: question, default: false }, { input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream })
    } catch {
        // Ctrl-C at the prompt (ExitPromptError) means no.
        ok = false
    }
    if (!ok) throw new SecretsError(ExitCode.Generic, "nothing written", [])
}
