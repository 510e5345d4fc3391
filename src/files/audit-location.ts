/**
 * Where the audit log is (issue 16 §1), decided by the user's environment only:
 *
 * - `SECRETS_AUDIT_LOG=off` turns it off; `SECRETS_AUDIT_LOG=/abs/path.jsonl` moves it.
 * - `deploy` on a host writes `/var/log/secrets/audit.jsonl`, where a host's other
 *   logs are (and where the user running it, root, can write).
 * - Otherwise `$XDG_STATE_HOME/secrets/audit.jsonl`, default
 *   `~/.local/state/secrets/audit.jsonl` (the XDG spec's place for logs and history).
 *
 * Never from `.sops.yaml`: a repository is someone else's input, and one that could
 * switch the log off or point it elsewhere would let whoever wrote it act unrecorded.
 */
import { existsSync } from "node:fs"
import { isAbsolute, posix } from "node:path"
import { auditTargetAt, type AuditTarget } from "./audit-log.js"

/** The host-wide log of `deploy`. */
export const HOST_AUDIT_LOG = "/var/log/secrets/audit.jsonl"

export type AuditPlace = { readonly target: AuditTarget } | { readonly off: true } | { readonly problem: string }

export function auditPlace(env: Readonly<Record<string, string | undefined>>, home: string, command: string): AuditPlace {
    const setting = env.SECRETS_AUDIT_LOG
    if (setting !== undefined && setting !== "") {
        if (setting === "off" || setting === "0") return { off: true }
        if (!isAbsolute(setting)) return { problem: "SECRETS_AUDIT_LOG must be an absolute path, or off" }
        return { target: auditTargetAt(setting) }
    }
    if (command === "deploy" || command.startsWith("deploy ")) return { target: auditTargetAt(HOST_AUDIT_LOG) }
    // The XDG spec says a relative $XDG_STATE_HOME is invalid and must be ignored.
    const xdg = env.XDG_STATE_HOME ?? ""
    if (xdg.startsWith("/")) return { target: auditTargetAt(posix.join(xdg, "secrets", "audit.jsonl")) }
    if (home === "") return { problem: "the home directory is unknown: set XDG_STATE_HOME or SECRETS_AUDIT_LOG" }
    // The state directories below HOME are made as needed, HOME itself never: a
    // service account's HOME=/nonexistent must not appear (as root, it would).
    if (!existsSync(home)) return { problem: `the home directory ${home} does not exist: set XDG_STATE_HOME or SECRETS_AUDIT_LOG` }
    return { target: auditTargetAt(posix.join(home, ".local", "state", "secrets", "audit.jsonl")) }
}
