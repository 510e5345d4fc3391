/**
 * `secrets git pre-commit`, the body of the pre-commit hook (issue 15 §5): the
 * commit is refused when what is STAGED holds
 *
 * - a scan finding (files/scan.ts over the index): a credential, a plaintext file
 *   under an encrypted path, one of the tool's lock or state files;
 * - a sops file that is not well-formed, or whose MAC does not verify (changed by
 *   someone without the key, or edited by hand: sops and every reader would refuse
 *   it after the commit).
 *
 * The MAC needs the data key: where the committer's identities cannot open a file
 * (a host's secrets, another team's), it is only checked to parse as a sops file,
 * and the hook says "MAC not checked (no identity)" without failing: refusing
 * would stop everyone who commits files they cannot read. Nothing prompts (a hook
 * may run from a GUI with no terminal): a key that only a passphrase opens is
 * skipped, as diff-text does.
 *
 * Each refusal names the file and the fix. The staged blobs are what is checked,
 * never the work-tree copies.
 */
import { IntegrityError, NoIdentityError, SecretsError, quote } from "../errors.js"
import { PLAINTEXT_RULE, TOOL_STATE_RULE } from "../core/scan-rules.js"
import type { Format } from "../stores/store.js"
import type { Io } from "./io.js"
import type { ScannedSource, ScanFinding } from "./scan.js"

export interface Refusal {
    readonly file: string
    /** What is wrong, one line, never a value. */
    readonly problem: string
    /** The command or step that fixes it. */
    readonly fix: string
}

export interface PreCommitReport {
    readonly refusals: Refusal[]
    /** Files whose MAC could not be checked, said but not refused. */
    readonly unchecked: string[]
}

/** The shell word of a path in a fix line: as is when plain, else single-quoted. */
function shellWord(path: string): string {
    return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`
}

function refusalOfFinding(f: ScanFinding): Refusal {
    const file = shellWord(f.file)
    if (f.ruleId === PLAINTEXT_RULE) {
        return { file: f.file, problem: f.message, fix: `encrypt it: secrets encrypt -i ${file} && git add ${file} (or keep it out of git: git rm --cached ${file})` }
    }
    if (f.ruleId === TOOL_STATE_RULE) {
        return { file: f.file, problem: f.message, fix: `unstage it: git rm --cached ${file}` }
    }
    return {
        file: f.file,
        problem: `line ${f.line}, column ${f.column}: ${f.ruleId}: ${f.excerpt}`,
        fix: "remove the credential (keep it in an encrypted file: secrets set FILE KEY VALUE); `secrets scan --staged` lists every finding, and a known false alarm goes in .secretsignore with a reason",
    }
}

/** Check what is staged in the repository around io.cwd. */
export async function preCommitCheck(io: Io): Promise<PreCommitReport> {
    const { scanFiles } = await import("./scan.js")
    const result = await scanFiles(io, { staged: true })
    const refusals: Refusal[] = result.findings.map(refusalOfFinding)
    const unchecked: string[] = []
    for (const s of result.sources) {
        if (s.sops.kind === "broken") {
            refusals.push({
                file: s.file,
                problem: `not a well-formed sops file: ${s.sops.problem}`,
                fix: `restore a good version (git restore --staged --worktree --source=HEAD ${shellWord(s.file)}), or encrypt its plaintext again: secrets encrypt -i ${shellWord(s.file)}`,
            })
        } else if (s.sops.kind === "sops") {
            const problem = await macProblem(io, s, s.sops.format)
            if (problem === "no identity") unchecked.push(s.file)
            else if (problem !== undefined) {
                refusals.push({
                    file: s.file,
                    problem,
                    fix: `restore a version that verifies (git restore --staged --worktree --source=HEAD ${shellWord(s.file)}) and change values with secrets edit or secrets set, never in the encrypted text`,
                })
            }
        }
    }
    return { refusals, unchecked }
}

/** Why the staged sops file does not open, "no identity" when no identity here can try, undefined when it verifies. */
async function macProblem(io: Io, s: ScannedSource, format: Format): Promise<string | undefined> {
    const { loadStore } = await import("../stores/index.js")
    const { openInput } = await import("./open-file.js")
    const store = await loadStore(format, {})
    try {
        await openInput(noPromptIo(io), s.file, s.bytes, store, {})
        return undefined
    } catch (e) {
        if (e instanceof NoIdentityError) return "no identity"
        if (e instanceof IntegrityError) return `its MAC does not verify: it was changed without the key (${e.detail})`
        if (e instanceof SecretsError) return `it does not open: ${e.detail}`
        throw e
    }
}

/** The Io with a stdin that is never a terminal, so no passphrase prompt can block the commit. */
function noPromptIo(io: Io): Io {
    const quiet = Object.create(io) as Io
    Object.defineProperty(quiet, "stdin", { value: { isTTY: false } })
    return quiet
}

/** The report as the hook prints it on stderr: each refusal with its fix, the unchecked files as notes. */
export function printPreCommitReport(io: Io, report: PreCommitReport): void {
    for (const f of report.unchecked) io.stderr.write(`secrets: ${quote(f)}: MAC not checked (no identity); it parses as a sops file\n`)
    if (report.refusals.length === 0) return
    for (const r of report.refusals) {
        io.stderr.write(`secrets: error: ${r.file}: ${r.problem}\n`)
        io.stderr.write(`secrets: hint: ${r.fix}\n`)
    }
    const n = report.refusals.length
    io.stderr.write(`secrets: commit refused: ${n} problem${n === 1 ? "" : "s"} in the staged files\n`)
}
