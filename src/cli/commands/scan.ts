/**
 * `secrets scan [PATHS…] [--staged] [--json]` (issue 15 §5): hard-coded
 * credentials, plaintext under encrypted paths and the tool's own lock/state files
 * (src/files/scan.ts). Exit codes as secretlint's: 0 clean, 1 findings, 2 a fatal
 * error (a bad `.secretsignore`, `--staged` outside a repository).
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError } from "../../errors.js"
import type { ScanResult } from "../../files/scan.js"
import type { Io } from "../../files/io.js"
import type { CommandContext } from "../context.js"
import type * as o from "../options.js"

interface ScanOptions {
    staged?: boolean
    json?: boolean
}

export function registerScan(program: Command, ctx: CommandContext): void {
    program
        .command("scan")
        .description("find hard-coded credentials, plaintext under encrypted paths and lock files (the work tree, PATHS, or --staged)")
        .argument("[paths...]", "files or directories to scan (default: the work tree's files that git does not ignore)")
        .addOption(new Option("--staged", "scan what the next commit holds (git's index), not the work tree"))
        .addOption(new Option("--json", "print the findings as JSON (masked, as always)"))
        .action(async (paths: string[], _opts: ScanOptions, cmd: Command) => {
            const opts = cmd.optsWithGlobals<ScanOptions & o.GlobalOpts>()
            await ctx.dispatch("scan", [paths], opts, () => runScan(ctx, paths, opts))
        })
}

async function runScan(ctx: CommandContext, paths: readonly string[], opts: ScanOptions & o.GlobalOpts): Promise<void> {
    const { scanFiles } = await import("../../files/scan.js")
    let result: ScanResult
    try {
        result = await scanFiles(ctx.io, { paths, staged: opts.staged === true })
    } catch (e) {
        // Anything that stops the scan is secretlint's "fatal": 2, never 1, which means findings.
        if (e instanceof SecretsError && e.code !== ExitCode.CouldNotReadInputFile) throw new SecretsError(ExitCode.CouldNotReadInputFile, e.message, e.hints)
        throw e
    }
    if (opts.json === true) printJson(ctx.io, result)
    else printText(ctx.io, result, opts.verbose === true)
    if (result.findings.length > 0) ctx.state.exitCode = ExitCode.Generic
}

function printJson(io: Io, r: ScanResult): void {
    const out = {
        findings: r.findings,
        ignored: r.ignored,
        scanned: r.scanned,
        skipped: r.skipped,
    }
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
}

function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`
}

function printText(io: Io, r: ScanResult, verbose: boolean): void {
    for (const f of r.findings) io.stdout.write(`${f.file}:${f.line}:${f.column}  ${f.ruleId}  ${f.excerpt === "" ? f.message : f.excerpt}\n`)
    if (verbose) for (const s of r.skipped) io.stderr.write(`secrets: skipped ${s.file} (${s.reason})\n`)
    const files = new Set(r.findings.map((f) => f.file)).size
    const found = r.findings.length === 0 ? "no findings" : `${plural(r.findings.length, "finding")} in ${plural(files, "file")}`
    const ignored = r.ignored === 0 ? "" : `, ${r.ignored} ignored by .secretsignore`
    const skipped = r.skipped.length === 0 ? "" : `, ${r.skipped.length} skipped${verbose ? "" : " (--verbose lists them)"}`
    io.stderr.write(`secrets: ${found}${ignored} (${plural(r.scanned, "file")} scanned${skipped})\n`)
    if (r.findings.length > 0) io.stderr.write("secrets: hint: move credentials into an encrypted file (secrets set FILE KEY VALUE), or accept one in .secretsignore with a reason\n")
}
