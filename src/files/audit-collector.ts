/**
 * What a command touched, gathered while it runs for its audit record (issue 16
 * §1): the files read or written, the key paths named, the recipients whose key
 * entries the caller's identities opened (public keys: `audit show` names them
 * from `.sops.yaml` when it prints, so the log keeps the exact key and a later
 * config edit cannot relabel who it was). The file services note as they go (read-input.ts notes every file it
 * reads), so a fleet command's record lists every file it re-keyed without each
 * command keeping its own list.
 *
 * Carried on the Io (a symbol property, as identity-options.ts carries its
 * options): commands derive their Io with Object.create, so a note made through a
 * derived Io lands in the one collector of the run. Never a value: only names.
 */
import { resolve } from "node:path"

const COLLECTOR = Symbol("audit collector")

export interface AuditCollector {
    readonly files: Set<string>
    readonly keyPaths: Set<string>
    readonly recipients: Set<string>
}

/** A new collector on `io` (the run's Io, before any command derives from it). */
export function attachAuditCollector(io: object): AuditCollector {
    const collector: AuditCollector = { files: new Set(), keyPaths: new Set(), recipients: new Set() }
    Object.defineProperty(io, COLLECTOR, { value: collector })
    return collector
}

function collectorOf(io: object): AuditCollector | undefined {
    return (io as { [COLLECTOR]?: AuditCollector })[COLLECTOR]
}

/** A file the command read or wrote (absolute, so a log read elsewhere still says which). */
export function noteFile(io: { readonly cwd: string }, file: string): void {
    if (file === "-") return
    collectorOf(io)?.files.add(resolve(io.cwd, file))
}

/** A key path the command read or changed, in index syntax. */
export function noteKeyPath(io: object, keyPath: string): void {
    collectorOf(io)?.keyPaths.add(keyPath)
}

/** The recipient whose key entry the caller's identity opened (engine OpenOptions.onRecipient). */
export function noteRecipient(io: object, recipient: string): void {
    collectorOf(io)?.recipients.add(recipient.trim())
}
