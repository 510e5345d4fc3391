/**
 * Restarting and reloading the services whose secrets changed (issue 12), through
 * the `systemctl` found on PATH, as sops-nix does when
 * SOPS_RESTART_UNITS_VIA_SYSTEMCTL is set (deploy-anchors.md §1.7):
 * `try-restart` and `try-reload-or-restart`, so a stopped unit stays stopped.
 *
 * One call per unit, not one for all: a unit that fails (misspelt, or failing to
 * start again) is named in the report, and the others are still restarted
 * (sops-nix #343: misspelt units failed silently). The argv is built by a pure
 * function (style.md §4, ni's pattern), run by execa without a shell; the unit
 * names were checked by config/deploy-manifest.ts, so none starts with "-".
 * systemctl gets no secret: not in argv, not on stdin, and without our identity
 * variables in its environment.
 */
import { execa } from "execa"

export type UnitVerb = "try-restart" | "try-reload-or-restart"

export interface UnitAction {
    readonly verb: UnitVerb
    readonly unit: string
}

export interface UnitOutcome extends UnitAction {
    readonly ok: boolean
    /** Why it failed: systemctl's first line of stderr, or how it could not be run. */
    readonly detail?: string
}

export interface SystemctlOptions {
    /**
     * `--no-block`: queue the job and return. Needed when deploy runs inside a unit
     * that the restarted services are ordered after (sops-nix PR #936), where a
     * blocking restart would wait for the deploy itself; then a restart that fails
     * later is not seen here.
     */
    readonly noBlock?: boolean
}

/** The argv after `systemctl` for one action. */
export function systemctlArgv(action: UnitAction, opts: SystemctlOptions = {}): string[] {
    return [...(opts.noBlock === true ? ["--no-block"] : []), action.verb, action.unit]
}

/** The identity variables of files/identity-sources.ts: systemctl needs none of them. */
const DROPPED = /^(SOPS_AGE_|SECRETS_AGE_KEY_OP$)/

/** Run each action in order; never throws for a failing unit, returns one outcome per action. */
export async function runUnitActions(actions: readonly UnitAction[], env: Readonly<Record<string, string | undefined>>, opts: SystemctlOptions = {}): Promise<UnitOutcome[]> {
    const childEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) if (v !== undefined && !DROPPED.test(k)) childEnv[k] = v
    const out: UnitOutcome[] = []
    for (const action of actions) {
        try {
            const r = await execa("systemctl", systemctlArgv(action, opts), { env: childEnv, extendEnv: false, reject: false, stdin: "ignore", stdout: "ignore" })
            if (r.exitCode === 0) out.push({ ...action, ok: true })
            else if (r.exitCode === undefined) out.push({ ...action, ok: false, detail: notRun(r.code) })
            else out.push({ ...action, ok: false, detail: firstLine(String(r.stderr)) ?? `exit status ${r.exitCode ?? r.signal ?? "unknown"}` })
        } catch (e) {
            out.push({ ...action, ok: false, detail: notRun((e as { code?: string }).code) })
        }
    }
    return out
}

function notRun(code: string | undefined): string {
    return code === "ENOENT" ? "systemctl was not found on PATH" : `systemctl could not be run (${code ?? "error"})`
}

function firstLine(s: string): string | undefined {
    const line = s.split("\n").find((l) => l.trim() !== "")
    return line === undefined ? undefined : line.trim().slice(0, 300)
}
