/**
 * The 1Password CLI client (issue 5): the {@link OpClient} of op-types.ts over a
 * real `op` process. argv comes from op-argv.ts, failures are classified by
 * op-errors.ts; this file only runs op and checks what it printed.
 *
 * Rules from op-cli.md that shape it:
 * - stdin is the null device unless a template is sent: since op 2.6.2 any piped
 *   stdin on `item create`/`item edit` is read as a JSON template (§4).
 * - any non-zero status is a failure, and so is stderr output with status 0, as
 *   op-js decides (§7).
 * - a `(409) Conflict` is retried with the Terraform provider's backoff,
 *   100 ms + 500 ms·2^attempt·jitter with jitter in [0.5, 1) (§8); a `(429)` is not,
 *   the window is an hour.
 * - a hung op (an approval prompt nobody answers) is killed at the timeout.
 * - stdout holds values: it is returned or parsed, never put in a message.
 */
import { execa } from "execa"

import { ExitCode, SecretsError, quote } from "../errors.js"
import { describeArgv, itemCreateArgv, itemEditArgv, itemGetArgv, itemListArgv, readArgv } from "./op-argv.js"
import { OpError, classifyOpFailure } from "./op-errors.js"
import { parseOpReference } from "./op-reference.js"
import type { OpClient, OpClientOptions, OpItem, OpItemSummary, OpItemTemplate } from "./op-types.js"

export { OpError } from "./op-errors.js"
export { formatOpReference, isOpReference, parseOpReference } from "./op-reference.js"

/** Default per-call timeout: a desktop-app approval prompt can take a while. */
export const DEFAULT_OP_TIMEOUT_MS = 30_000
/** Default extra tries after a 409, as the Terraform provider does. */
export const DEFAULT_CONFLICT_RETRIES = 3

/** How one op process ended. */
export interface OpRun {
    /** undefined when it could not start or a signal ended it. */
    readonly exitCode?: number
    readonly stdout: string
    readonly stderr: string
    readonly timedOut: boolean
    /** The program was not found (ENOENT). */
    readonly notFound: boolean
    readonly signal?: string
    /** Another reason it could not start (EACCES, …). */
    readonly spawnError?: string
}

/** Runs op once; {@link execaExecutor} in production, a fake in unit tests. */
export type OpExecutor = (
    bin: string,
    argv: readonly string[],
    opts: {
        readonly env: Readonly<Record<string, string>>
        readonly input?: string
        readonly timeoutMs: number
        /** Kill op when aborted (op sync --watch stopping on a signal); the call then fails. */
        readonly cancelSignal?: AbortSignal
    },
) => Promise<OpRun>

/** Seams for tests; production uses the defaults. */
export interface OpClientInternals {
    readonly exec?: OpExecutor
    readonly sleep?: (ms: number) => Promise<void>
    /** A number in [0, 1), for the backoff jitter. */
    readonly random?: () => number
}

/** Grace between SIGTERM and SIGKILL for a timed-out op. */
const KILL_GRACE_MS = 2_000
/** How long to wait for op's pipes to close once a timed-out op is gone. */
const PIPE_GRACE_MS = 200
/** Item JSON is small; a whole vault list of summaries stays far below this. */
const MAX_BUFFER = 64 * 1024 * 1024

/** The one place op is started: no shell, null stdin unless `input`, killed at the timeout. */
export const execaExecutor: OpExecutor = async (bin, argv, opts) => {
    const sub = execa(bin, [...argv], {
        env: opts.env,
        extendEnv: false,
        shell: false,
        ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
        stdout: "pipe",
        stderr: "pipe",
        timeout: opts.timeoutMs,
        killSignal: "SIGTERM",
        forceKillAfterDelay: KILL_GRACE_MS,
        reject: false,
        stripFinalNewline: false,
        encoding: "utf8",
        maxBuffer: MAX_BUFFER,
        ...(opts.cancelSignal !== undefined ? { cancelSignal: opts.cancelSignal } : {}),
    })
    // execa's timeout kills op itself, but its result waits for op's pipes to close,
    // and a child op left behind (a wrapper script's `sleep`, a helper) keeps them
    // open. So once the deadline has passed and op is gone, we stop listening. The
    // output is then treated as a timeout, never returned: it may be cut short.
    let gaveUp = false
    const giveUp = (): void => {
        gaveUp = true
        sub.stdout?.destroy()
        sub.stderr?.destroy()
    }
    let grace: NodeJS.Timeout | undefined
    const deadline = setTimeout(() => {
        const later = (): void => {
            grace = setTimeout(giveUp, PIPE_GRACE_MS)
        }
        if (sub.exitCode !== null || sub.signalCode !== null) later()
        else sub.once("exit", later)
    }, opts.timeoutMs)
    const result = await sub
    clearTimeout(deadline)
    if (grace !== undefined) clearTimeout(grace)
    const code = (result as { code?: unknown }).code
    const timedOut = result.timedOut || gaveUp
    const started = result.exitCode !== undefined || result.signal !== undefined || timedOut
    return {
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        stdout: typeof result.stdout === "string" ? result.stdout : "",
        stderr: typeof result.stderr === "string" ? result.stderr : "",
        timedOut,
        notFound: code === "ENOENT",
        ...(result.signal !== undefined ? { signal: result.signal } : {}),
        ...(!started && code !== "ENOENT" ? { spawnError: typeof code === "string" ? code : "unknown error" } : {}),
    }
}

/** The Terraform provider's wait before retry `attempt` (0-based) after a 409; `jitter` in [0.5, 1). */
export function conflictBackoffMs(attempt: number, jitter: number): number {
    return Math.round(100 + 500 * 2 ** attempt * jitter)
}

/** An {@link OpClient} that runs op as `opts` says. */
export function createOpClient(opts: OpClientOptions, internals: OpClientInternals = {}): OpClient {
    const bin = opts.bin ?? "op"
    const timeoutMs = opts.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS
    const retries = opts.conflictRetries ?? DEFAULT_CONFLICT_RETRIES
    const exec = internals.exec ?? execaExecutor
    const sleep = internals.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
    const random = internals.random ?? Math.random
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v
    const reads = new Map<string, Promise<string>>()

    async function call(argv: string[], what: string, template?: OpItemTemplate): Promise<string> {
        const input = template !== undefined ? `${JSON.stringify(template)}\n` : undefined
        const command = describeArgv(argv)
        for (let attempt = 0; ; attempt++) {
            const run = await exec(bin, argv, { env, timeoutMs, ...(input !== undefined ? { input } : {}) })
            if (!run.notFound && !run.timedOut && run.spawnError === undefined && run.exitCode === 0 && run.stderr.trim() === "") {
                return run.stdout
            }
            const error = classifyOpFailure({
                ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
                stderr: run.stderr,
                timedOut: run.timedOut,
                notFound: run.notFound,
                ...(run.signal !== undefined ? { signal: run.signal } : {}),
                ...(run.spawnError !== undefined ? { spawnError: run.spawnError } : {}),
                what,
                command,
                bin,
                timeoutMs,
                secrets: template !== undefined ? templateValues(template) : [],
            })
            if (error.kind !== "conflict") throw error
            if (attempt >= retries) {
                throw new OpError("conflict", error.message, [...error.hints, `secrets tried ${attempt + 1} times`])
            }
            await sleep(conflictBackoffMs(attempt, 0.5 + random() / 2))
        }
    }

    return {
        read(reference) {
            const cached = reads.get(reference)
            if (cached !== undefined) return cached
            let pending: Promise<string>
            try {
                const ref = parseOpReference(reference)
                pending = call(readArgv(ref.text), quote(ref.text))
            } catch (e) {
                return Promise.reject(e as Error)
            }
            reads.set(reference, pending)
            // A failure is not cached: a later read (after `op signin`) may work.
            pending.catch(() => reads.delete(reference))
            return pending
        },
        async getItem(vault, item) {
            const what = itemWhat(vault, item)
            const argv = itemGetArgv(vault, item)
            return parseItem(await call(argv, what), describeArgv(argv), what)
        },
        async listItems(vault, filter) {
            const what = `the items of vault ${quote(vault)}`
            const argv = itemListArgv(vault, filter)
            const out = parseJson(await call(argv, what), describeArgv(argv), what)
            if (!Array.isArray(out) || !out.every(isSummary)) throw badOutput(describeArgv(argv), what)
            return out
        },
        async createItem(vault, template) {
            const what = `new item ${quote(template.title)} in vault ${quote(vault)}`
            const argv = itemCreateArgv(vault)
            return parseItem(await call(argv, what, template), describeArgv(argv), what)
        },
        async editItem(vault, item, template) {
            const what = itemWhat(vault, item)
            const argv = itemEditArgv(vault, item)
            return parseItem(await call(argv, what, template), describeArgv(argv), what)
        },
    }
}

/**
 * A client configured from the environment: `SECRETS_OP_BIN` (default `op`) and
 * `SECRETS_OP_TIMEOUT` in milliseconds (default 30000). op gets the environment
 * without our own `SOPS_*` and `SECRETS_*` variables: `SOPS_AGE_KEY` and
 * `SECRETS_AGE_KEY` are private keys, and op has no use for any of them.
 */
export function opClientFromEnv(env: Readonly<Record<string, string | undefined>>, internals: OpClientInternals = {}): OpClient {
    const bin = env.SECRETS_OP_BIN !== undefined && env.SECRETS_OP_BIN !== "" ? env.SECRETS_OP_BIN : "op"
    let timeoutMs = DEFAULT_OP_TIMEOUT_MS
    const raw = env.SECRETS_OP_TIMEOUT
    if (raw !== undefined && raw !== "") {
        if (!/^\d+$/.test(raw.trim()) || Number(raw) <= 0) {
            throw new SecretsError(ExitCode.Generic, "SECRETS_OP_TIMEOUT must be a positive whole number of milliseconds", [
                "for example SECRETS_OP_TIMEOUT=60000 for one minute",
            ])
        }
        timeoutMs = Number(raw)
    }
    const opEnv: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(env)) if (!/^(SOPS|SECRETS)_/.test(k)) opEnv[k] = v
    return createOpClient({ env: opEnv, bin, timeoutMs }, internals)
}

function itemWhat(vault: string, item: string): string {
    return `item ${quote(item)} in vault ${quote(vault)}`
}

function templateValues(t: OpItemTemplate): string[] {
    return t.fields.flatMap((f) => (f.value !== undefined && f.value !== "" ? [f.value] : []))
}

function parseJson(stdout: string, command: string, what: string): unknown {
    try {
        return JSON.parse(stdout) as unknown
    } catch {
        // JSON.parse's message quotes the text around the error, and stdout holds values.
        throw badOutput(command, what)
    }
}

function parseItem(stdout: string, command: string, what: string): OpItem {
    const out = parseJson(stdout, command, what)
    if (!isItem(out)) throw badOutput(command, what)
    return out
}

function badOutput(command: string, what: string): OpError {
    return new OpError("failed", `${command} printed output that is not the JSON secrets expects (needed for ${what})`, [
        "secrets needs op 2.23 or later: check `op --version`",
    ])
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}

function isSummary(v: unknown): v is OpItemSummary {
    if (!isRecord(v)) return false
    const vault = v.vault
    return (
        typeof v.id === "string" &&
        typeof v.title === "string" &&
        typeof v.version === "number" &&
        typeof v.category === "string" &&
        isRecord(vault) &&
        typeof vault.id === "string" &&
        typeof vault.name === "string" &&
        (v.tags === undefined || (Array.isArray(v.tags) && v.tags.every((t) => typeof t === "string")))
    )
}

function isItem(v: unknown): v is OpItem {
    if (!isSummary(v)) return false
    const { fields, sections } = v as { fields?: unknown; sections?: unknown }
    const fieldsOk = fields === undefined || (Array.isArray(fields) && fields.every(isField))
    const sectionsOk = sections === undefined || (Array.isArray(sections) && sections.every((s) => isRecord(s) && typeof s.id === "string"))
    return fieldsOk && sectionsOk
}

function isField(v: unknown): boolean {
    if (!isRecord(v)) return false
    const section = v.section
    return (
        typeof v.id === "string" &&
        typeof v.type === "string" &&
        (v.value === undefined || typeof v.value === "string") &&
        (v.label === undefined || typeof v.label === "string") &&
        (section === undefined || (isRecord(section) && typeof section.id === "string"))
    )
}
