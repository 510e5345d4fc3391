/**
 * `secrets status [--json] [--check]`: every file under the config's directory
 * (issue 4 §6): encrypted or not, recipients in step with its creation rule or not,
 * the data key's age (from git history of the file's `enc` blocks, else
 * `lastmodified`: src/fleet/key-age.ts) and whether the rotation policy
 * (`secrets: {rotation: {max_age: 90d}}`) says it is due. Nothing is decrypted,
 * unless the config has value policies (`secrets.values`) or `secrets.expiry`, or
 * `--cert-window` is given (issue 16 §5): then the values due, expired or expiring
 * (src/fleet/value-status.ts), the certificates stored as values in the files the
 * caller opens without a prompt (src/fleet/cert-scan.ts), and each file's categories.
 * `--check` is for CI: it exits 1 when anything is wrong. When the config declares
 * profiles, a second table says which keys open each (src/fleet/profile-readers.ts).
 */
import { Command, Option } from "commander"
import type { Io } from "../../files/io.js"
import type { InventoryEntry } from "../../fleet/inventory.js"
import type { KeyAgeSource } from "../../fleet/key-age.js"
import type { RotationPolicy } from "../../fleet/policy.js"
import type { LoadedFleetConfig } from "../../fleet/rekey-repo.js"
import type { ProfileStatus } from "../../fleet/profile-readers.js"
import type { ProgressLine } from "../progress.js"
import type { CertificateScan } from "../../fleet/cert-scan.js"
import type { ValueStatus } from "../../fleet/value-status.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface StatusFlags {
    json?: boolean
    check?: boolean
    certWindow?: string
}

/** One file's status: the `--json` shape of each `files` item. */
export interface FileStatus {
    /** Relative to the config's directory, with `/`. */
    readonly path: string
    readonly encrypted: boolean
    /** True when a creation rule matches the file. */
    readonly rule: boolean
    readonly inStep: boolean
    /** When the data key was made (RFC 3339), null when unknown or not encrypted. */
    readonly keyDate: string | null
    readonly keyAgeDays: number | null
    readonly keySource: KeyAgeSource | null
    readonly due: boolean
    /** The categories of its values (value policies' `category:`); only when the config gives categories. */
    readonly categories?: string[]
    /** What is wrong with the file, in words; empty when nothing is. */
    readonly problems: string[]
}

/** The whole `--json` document. */
export interface StatusReport {
    readonly policy: { maxAge: string; maxAgeDays: number } | null
    readonly now: string
    readonly files: FileStatus[]
    /** Interrupted `keys rotate` runs (their state is outside the repository), with the command that resumes each. */
    readonly interruptedRotations?: string[]
    /** Which keys open each profile; only when the config declares profiles. */
    readonly profiles?: ProfileStatus[]
    /** Certificates stored as values; only when the config has `secrets.expiry` or `secrets.values`, or with --cert-window. */
    readonly certificates?: CertificateScan
    /** Every value a `secrets.values` policy names, judged; only when the config has value policies. */
    readonly values?: ValueStatus[]
    readonly ok: boolean
}

export function registerStatus(program: Command, ctx: CommandContext): void {
    program
        .command("status")
        .description("show every file under the config: encrypted, recipients in step, data-key age, due for rotation")
        .addOption(new Option("--json", "print the status as JSON"))
        .addOption(new Option("--check", "exit 1 when a file is unencrypted, out of step or due, or a value or certificate expires (for CI)"))
        .addOption(new Option("--cert-window <days>", "report certificates stored as values that expire within this many days (d) or weeks (w); default secrets.expiry.certificate_window, else 30d"))
        .action(async (_opts: StatusFlags, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<StatusFlags & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("status", [], opts, () => runStatus(ctx, opts))
        })
}

export async function runStatus(ctx: CommandContext, opts: StatusFlags & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const collected = await collectStatusWithProgress(io, opts.config)
    // An interrupted `keys rotate` (its state is outside the repository): reported
    // always, and a failed check, since half the files are on a key being replaced.
    const { interruptedRotations } = await import("../../fleet/rotation-state.js")
    const rotations = await interruptedRotations(io, collected.loaded)
    const { profileStatuses, renderProfileStatuses } = await import("../../fleet/profile-readers.js")
    const profiles = await profileStatuses(io, collected.loaded, collected.entries)
    const expiry = await collectExpiry(io, collected, opts.certWindow)
    const { certificateProblems, describeExpiry } = await import("../../fleet/cert-scan.js")
    const now = io.now()
    const { valueProblems } = await import("../../fleet/value-status.js")
    const expiryProblems = [
        ...(expiry.values === undefined ? [] : valueProblems(expiry.values)),
        ...(expiry.certificates === undefined ? [] : certificateProblems(expiry.certificates, now)),
    ]
    const report: StatusReport = {
        ...collected.report,
        files: expiry.files,
        interruptedRotations: rotations,
        ...(profiles.length > 0 ? { profiles } : {}),
        ...(expiry.certificates !== undefined ? { certificates: expiry.certificates } : {}),
        ...(expiry.values !== undefined ? { values: expiry.values } : {}),
        ok: collected.report.ok && rotations.length === 0 && expiryProblems.length === 0,
    }
    if (opts.json === true) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else io.stdout.write(renderStatus(report) + renderProfileStatuses(profiles) + renderValues(report.values, report.certificates?.window.text) + renderCertificates(report.certificates, now, describeExpiry))
    const { info, warn } = await import("../report.js")
    if (opts.json !== true) {
        info(io, report.policy === null ? "no rotation policy: set secrets.rotation.max_age (e.g. 90d) in .sops.yaml" : `rotation policy: max_age ${report.policy.maxAge}`)
    }
    for (const r of rotations) warn(io, r)
    const problems = [...report.files.flatMap((f) => f.problems.map((p) => `${f.path}: ${p}`)), ...expiryProblems]
    if (opts.check !== true) return
    for (const p of problems) warn(io, p)
    if (problems.length === 0 && rotations.length > 0) {
        const { ExitCode, SecretsError } = await import("../../errors.js")
        throw new SecretsError(ExitCode.Generic, `status check failed: ${rotations.length} interrupted key rotation${rotations.length === 1 ? "" : "s"}`, [])
    }
    if (problems.length > 0) {
        const { ExitCode, SecretsError } = await import("../../errors.js")
        const files = new Set([
            ...report.files.filter((f) => f.problems.length > 0).map((f) => f.path),
            ...(report.certificates?.certificates ?? []).filter((c) => c.state !== "ok").map((c) => c.file),
            ...(report.values ?? []).filter((v) => v.state !== "ok").map((v) => v.file),
        ]).size
        const also = rotations.length === 0 ? "" : ` and ${rotations.length} interrupted key rotation${rotations.length === 1 ? "" : "s"}`
        throw new SecretsError(ExitCode.Generic, `status check failed: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}${also}`, hintsFor(report))
    }
}

function hintsFor(report: StatusReport): string[] {
    const hints: string[] = []
    if (report.files.some((f) => !f.encrypted)) hints.push("encrypt plaintext files with `secrets encrypt -i FILE`, or move them out of secrets/")
    if (report.files.some((f) => f.encrypted && !f.inStep && f.rule)) hints.push("bring recipients in step with `secrets updatekeys -y FILE...`")
    if (report.files.some((f) => f.encrypted && !f.rule)) hints.push("add a creation rule for files no rule matches, or move them")
    if (report.files.some((f) => f.due)) hints.push("rotate the due data keys with `secrets rotate --due`")
    if ((report.certificates?.certificates ?? []).some((c) => c.state === "expired" || c.state === "expiring")) {
        hints.push("renew the certificates and store them with `secrets set FILE KEYPATH`")
    }
    if ((report.values ?? []).some((v) => v.state !== "ok")) {
        hints.push("rotate values with `secrets rotate-value FILE KEYPATH`, or move a policy's expires date once the credential is renewed")
    }
    if (report.files.some((f) => f.problems.some((p) => p.startsWith("its encryption rule")))) {
        hints.push("apply the creation rule's encryption rule with `secrets rotate -i --strict FILE`")
    }
    return hints
}

/** Fewer files than this finish before a progress line could be read. */
export const PROGRESS_MIN_FILES = 10

/** --config / SOPS_CONFIG, else the nearest .sops.yaml from the working directory up; absolute. */
export async function fleetConfigPath(io: Io, explicit: string | undefined): Promise<string> {
    const { existsSync } = await import("node:fs")
    const { resolve } = await import("node:path")
    const { findConfig } = await import("../../config/load.js")
    const { ConfigError, quote } = await import("../../errors.js")
    const found = findConfig({ cwd: io.cwd, ...(explicit !== undefined ? { explicit } : {}), exists: existsSync })
    if (found === undefined || !existsSync(resolve(io.cwd, found))) {
        throw new ConfigError(found === undefined ? "no .sops.yaml found in this directory or above" : `config ${quote(found)} not found`, [
            "run `secrets init` first, or pass --config",
        ])
    }
    return resolve(io.cwd, found)
}

/** {@link collectStatus} with a progress line at a terminal: a large repository shows how far the walk and the git history are. */
export async function collectStatusWithProgress(io: Io, explicitConfig: string | undefined): ReturnType<typeof collectStatus> {
    const { progressLine } = await import("../progress.js")
    const progress = progressLine(io, { minTotal: PROGRESS_MIN_FILES })
    try {
        return await collectStatus(progress.io, explicitConfig, progress)
    } finally {
        // Also on an error: its line must not land on the end of the progress text.
        progress.clear()
    }
}

/** The config, its inventory and every file's status, at `io.now()`. */
export async function collectStatus(
    io: Io,
    explicitConfig: string | undefined,
    progress?: ProgressLine,
): Promise<{ loaded: LoadedFleetConfig; entries: InventoryEntry[]; policy: RotationPolicy | undefined; report: StatusReport }> {
    const { relative } = await import("node:path")
    const { loadFleetConfig } = await import("../../fleet/rekey-repo.js")
    const { takeInventory } = await import("../../fleet/inventory.js")
    const { ageInDays, isDue, rotationPolicy } = await import("../../fleet/policy.js")
    const { lastModifiedDate, workTreeOf } = await import("../../fleet/key-age.js")
    const { keyDates } = await import("../../fleet/key-dates.js")
    const { creationRuleFor } = await import("../../fleet/rule-recipients.js")
    const { planForRule } = await import("../../config/match.js")
    const { ruleDrift } = await import("../../fleet/rule-drift.js")
    // The file's own encryption rule against its creation rule's (src/fleet/rule-drift.ts).
    const ruleDriftOf = (l: LoadedFleetConfig, e: InventoryEntry) => {
        const rule = e.metadata === undefined ? undefined : creationRuleFor(l.config, l.dir, e.abs)
        return rule === undefined || e.metadata === undefined ? undefined : ruleDrift(e.metadata, planForRule(rule), e.format === "binary")
    }
    const path = await fleetConfigPath(io, explicitConfig)
    const loaded = await loadFleetConfig(io, path)
    const policy = rotationPolicy(loaded.config.secrets, relative(io.cwd, path) || path)
    const entries = await takeInventory(io, loaded, (done, total) => progress?.count("reading files", done, total))
    const top = entries.some((e) => e.encrypted) ? await workTreeOf(loaded.dir, io.env) : undefined
    // One pass over git history for all files (src/fleet/key-dates.ts), not git per file.
    const encrypted = entries.flatMap((e) => (e.metadata === undefined ? [] : [{ abs: e.abs, metadata: e.metadata, ...(e.digest !== undefined ? { digest: e.digest } : {}) }]))
    const plain = entries.length - encrypted.length
    progress?.count("reading git history", plain, entries.length)
    const dates = await keyDates(encrypted, io.env, top, (done) => progress?.count("reading git history", plain + done, entries.length))
    const now = io.now()
    const files: FileStatus[] = []
    for (const [i, e] of entries.entries()) {
        progress?.count("reading key history", i, entries.length)
        if (e.metadata === undefined) {
            files.push({ path: e.path, encrypted: false, rule: false, inStep: false, keyDate: null, keyAgeDays: null, keySource: null, due: false, problems: ["not encrypted"] })
            continue
        }
        const kd = dates.get(e.abs) ?? { date: lastModifiedDate(e.metadata), source: "lastmodified" }
        const due = kd.date !== undefined && isDue(kd.date, now, policy)
        const ageDays = kd.date === undefined ? null : ageInDays(kd.date, now)
        const problems: string[] = []
        if (e.expected === undefined) problems.push("no creation rule matches it")
        else if (!e.inStep) problems.push("recipients differ from its creation rule")
        const drift = e.expected === undefined ? undefined : ruleDriftOf(loaded, e)
        if (drift !== undefined) problems.push(`its encryption rule (${drift.fileText}) differs from its creation rule (${drift.creationText})`)
        if (due && policy !== undefined) problems.push(`data key is ${ageDays ?? "?"} days old, more than max_age ${policy.maxAge}`)
        files.push({
            path: e.path,
            encrypted: true,
            rule: e.expected !== undefined,
            inStep: e.inStep,
            keyDate: kd.date === undefined ? null : kd.date.toISOString(),
            keyAgeDays: ageDays,
            keySource: kd.date === undefined ? null : kd.source,
            due,
            problems,
        })
    }
    progress?.clear()
    const report: StatusReport = {
        policy: policy === undefined ? null : { maxAge: policy.maxAge, maxAgeDays: policy.maxAgeDays },
        now: now.toISOString(),
        files,
        ok: files.every((f) => f.problems.length === 0),
    }
    return { loaded, entries, policy, report }
}

/** The table: FILE | ENCRYPTED | RECIPIENTS | KEY AGE | SOURCE | DUE [| CATEGORIES, when the config gives categories]. */
export function renderStatus(report: StatusReport): string {
    if (report.files.length === 0) return "no files under the config's directory\n"
    const withCategories = report.files.some((f) => f.categories !== undefined)
    const categories = (f: FileStatus) => (withCategories ? [f.categories === undefined || f.categories.length === 0 ? "-" : f.categories.join(",")] : [])
    const rows: string[][] = [["FILE", "ENCRYPTED", "RECIPIENTS", "KEY AGE", "SOURCE", "DUE", ...(withCategories ? ["CATEGORIES"] : [])]]
    for (const f of report.files) {
        if (!f.encrypted) {
            rows.push([f.path, "NO", "-", "-", "-", "-", ...categories(f)])
            continue
        }
        rows.push([
            f.path,
            "yes",
            !f.rule ? "NO RULE" : f.inStep ? "in step" : "OUT OF STEP",
            f.keyAgeDays === null ? "unknown" : `${f.keyAgeDays}d`,
            f.keySource ?? "-",
            report.policy === null ? "-" : f.due ? "DUE" : "no",
            ...categories(f),
        ])
    }
    return table(rows)
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(rows: readonly (readonly string[])[]): string {
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? []
    return rows.map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell)).join("  ").trimEnd() + "\n").join("")
}

/**
 * The value-level part of status (issue 16 §5): each file's categories, and the
 * certificates stored as values. Only when the config asks for it (`secrets.values`
 * or `secrets.expiry`) or `--cert-window` is given: certificates mean decrypting
 * every file the caller can open, which a plain `status` never did (it stays fast on
 * 1,000 files, and runs no key command in a CI job that has no key).
 */
export async function collectExpiry(
    io: Io,
    collected: Awaited<ReturnType<typeof collectStatus>>,
    certWindowFlag: string | undefined,
): Promise<{ files: FileStatus[]; certificates?: CertificateScan; values?: ValueStatus[] }> {
    const { relative } = await import("node:path")
    const { valuePolicies } = await import("../../fleet/value-policy.js")
    const { configuredWindow, parseWindow, scanCertificates, DEFAULT_CERT_WINDOW } = await import("../../fleet/cert-scan.js")
    const { fileCategories, hasCategories } = await import("../../fleet/value-categories.js")
    const where = relative(io.cwd, collected.loaded.path) || collected.loaded.path
    const secrets = collected.loaded.config.secrets
    // Checked first: a bad flag or config costs no decrypt.
    const fromFlag = certWindowFlag === undefined ? undefined : parseWindow(certWindowFlag, "--cert-window")
    const fromConfig = configuredWindow(secrets, where)
    const policies = valuePolicies(secrets, where)
    let files = collected.report.files
    if (hasCategories(policies)) {
        const byPath = new Map(collected.entries.map((e) => [e.path, e]))
        files = await Promise.all(
            files.map(async (f) => {
                const entry = byPath.get(f.path)
                return { ...f, categories: entry === undefined ? [] : await fileCategories(policies, entry) }
            }),
        )
    }
    if (fromFlag === undefined && fromConfig === undefined && policies.length === 0) return { files }
    const window = fromFlag ?? fromConfig ?? parseWindow(DEFAULT_CERT_WINDOW, "the default window")
    const certificates = await scanCertificates(io, collected.entries, io.now(), window)
    if (policies.length === 0) return { files, certificates }
    const { valueStatuses } = await import("../../fleet/value-status.js")
    // The same window for a policy's `expires` as for certificates: one "expiring soon".
    const judged = await valueStatuses(io, collected.entries, policies, io.now(), window.days)
    const { warn } = await import("../report.js")
    for (const u of judged.unreadable) warn(io, `${u.file}: its values were not checked: ${u.reason}`)
    return { files, certificates, values: judged.values }
}

/** The values under policies that are expired, due or expiring, per file; one line when none is. */
export function renderValues(values: readonly ValueStatus[] | undefined, window: string | undefined): string {
    if (values === undefined) return ""
    const flagged = values.filter((v) => v.state !== "ok")
    const head = `\nvalues under secrets.values (${values.length}, window ${window ?? "?"}):`
    if (flagged.length === 0) return `${head} none expired, expiring or due\n`
    const rows: string[][] = [["FILE", "KEY", "CATEGORY", "STATE", "WHY"]]
    for (const v of flagged) rows.push([v.file, v.keyPath, v.category ?? "-", v.state.toUpperCase(), v.why])
    return `${head}\n${table(rows)}`
}

/** The certificates found in values, and the files that could not be opened to look. */
export function renderCertificates(scan: CertificateScan | undefined, now: Date, describeExpiry: (at: Date, now: Date) => string): string {
    if (scan === undefined) return ""
    const head = `\ncertificates stored as values (window ${scan.window.text}):`
    if (scan.certificates.length === 0 && scan.notChecked.length === 0) return `${head} none\n`
    const rows: string[][] = [["FILE", "KEY", "SUBJECT", "STATE"]]
    for (const c of scan.certificates) {
        if (c.state === "unreadable") {
            rows.push([c.file, c.keyPath, "-", `UNREADABLE: ${c.error}`])
            continue
        }
        const when = describeExpiry(new Date(c.notAfter), now)
        rows.push([c.file, c.keyPath, c.subject, c.state === "ok" ? when : `${c.state.toUpperCase()}: ${when}`])
    }
    for (const n of scan.notChecked) rows.push([n.file, "-", "-", `not checked: ${n.reason}`])
    return `${head}\n${table(rows)}`
}
