/**
 * Forwarding audit records to syslog or journald through util-linux `logger`
 * (issue 16 §1), for hosts whose logs are collected centrally: a copy the local
 * user cannot rewrite afterwards, which the hash chain alone cannot give.
 *
 * Opt-in, by the user's environment only (never `.sops.yaml`):
 * `SECRETS_AUDIT_SYSLOG=1` writes to the local syslog socket (/dev/log, which
 * journald also reads); `SECRETS_AUDIT_SYSLOG=udp://HOST:PORT` sends RFC 5424 over
 * UDP to a collector. The record goes on logger's stdin, one line, never in argv;
 * the priority is authpriv.info (where sudo and sshd log), the tag `secrets`.
 */
import { execa } from "execa"

export type SyslogTarget = { readonly kind: "local" } | { readonly kind: "udp"; readonly host: string; readonly port: number }

/** The target a setting names, undefined when off, or a sentence saying what is wrong. */
export function syslogTarget(setting: string | undefined): SyslogTarget | undefined | { readonly error: string } {
    if (setting === undefined || setting === "" || setting === "0" || setting === "off") return undefined
    if (setting === "1" || setting === "local") return { kind: "local" }
    const m = /^udp:\/\/([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:]{2,39}\]):(\d{1,5})$/.exec(setting)
    const port = m === null ? NaN : Number(m[2])
    if (m === null || !(port >= 1 && port <= 65535)) return { error: "SECRETS_AUDIT_SYSLOG must be 1 (the local syslog) or udp://HOST:PORT" }
    return { kind: "udp", host: m[1]!.replace(/^\[|\]$/g, ""), port }
}

/** Send one record; rejects with logger's status when it fails (the caller warns). */
export async function sendToSyslog(target: SyslogTarget, line: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
    const where = target.kind === "udp" ? ["--udp", "--server", target.host, "--port", String(target.port)] : []
    const r = await execa("logger", ["--tag", "secrets", "--priority", "authpriv.info", ...where], {
        input: line.endsWith("\n") ? line : `${line}\n`,
        env: { PATH: env.PATH ?? "/usr/bin:/bin" },
        extendEnv: false,
        reject: false,
        timeout: 5_000,
        stdout: "ignore",
        stderr: "pipe",
    })
    if (r.exitCode !== 0) throw new Error(`logger exited ${r.exitCode ?? r.signal ?? "abnormally"}`)
}
