/**
 * The creation-rule checks of the commands that change an existing file (set, edit,
 * rotate): find the file's creation rule, warn when the file's own encryption rule
 * has drifted from it, and refuse a value that would be written in clear only
 * because of that drift (src/fleet/rule-drift.ts says why).
 *
 * sops reads no `.sops.yaml` for these commands; we read it only to compare, so a
 * missing config or a file no rule matches changes nothing, and a config that
 * cannot be read is a warning (the command still works as sops's would).
 */
import { dirname, relative, resolve } from "node:path"
import { planForRule, type EncryptionPlan } from "../config/match.js"
import type { Metadata } from "../core/metadata.js"
import type { Branch } from "../core/tree.js"
import type { OpenedFile } from "../engine/open.js"
import type { RotateChange } from "../engine/rekey.js"
import { ConfigError, ExitCode, SecretsError, quote } from "../errors.js"
import { clearAgainstCreationRule, madeClear, ruleDrift, type RuleDrift } from "../fleet/rule-drift.js"
import { creationRuleFor, offRuleRecipients, recipientsOfRule, type RuleRecipients } from "../fleet/rule-recipients.js"
import { loadConfig } from "../files/encryption-plan.js"
import type { Io } from "../files/io.js"
import { info, warn } from "./report.js"

/** A file's creation rule, ready for the checks. */
export interface CreationRule {
    readonly plan: EncryptionPlan
    readonly recipients: RuleRecipients
    /** The `.sops.yaml` it comes from, as the user sees it. */
    readonly configShown: string
}

/**
 * The creation rule of `file` in the config that governs it (`--config` /
 * SOPS_CONFIG, else the nearest `.sops.yaml`), or undefined when there is none.
 * With `required` (rotate --strict) every reason for having none is an error;
 * otherwise a config that cannot be used is only a warning.
 */
export function creationRuleOf(io: Io, file: string, explicitConfig: string | undefined, required = false): CreationRule | undefined {
    try {
        const loaded = loadConfig(io, file, explicitConfig)
        const configShown = loaded === undefined ? "" : relative(io.cwd, loaded.path) || loaded.path
        const rule = loaded === undefined ? undefined : creationRuleFor(loaded.config, dirname(loaded.path), resolve(io.cwd, file))
        if (rule === undefined) {
            if (!required) return undefined
            throw new SecretsError(
                ExitCode.Generic,
                loaded === undefined ? `${quote(file)}: no .sops.yaml found, so it has no creation rule to apply` : `${quote(file)}: no creation rule in ${quote(configShown)} matches it`,
                ["--strict takes the recipients and the encryption rule from the file's creation rule: add one for it, or rotate without --strict"],
            )
        }
        return { plan: planForRule(rule), recipients: recipientsOfRule(rule), configShown }
    } catch (e) {
        if (required || !(e instanceof ConfigError)) throw e
        warn(io, `${quote(file)}: not checked against its creation rule: ${e.message}`)
        return undefined
    }
}

/** How the file's encryption rule differs from its creation rule's, or undefined. */
export function driftOf(metadata: Metadata, creation: CreationRule, binary: boolean): RuleDrift | undefined {
    return ruleDrift(metadata, creation.plan, binary)
}

/**
 * Warn when the file's encryption rule is not its creation rule's; returns the
 * drift (undefined when there is none).
 */
export function warnRuleDrift(io: Io, file: string, metadata: Metadata, creation: CreationRule, binary: boolean): RuleDrift | undefined {
    const drift = ruleDrift(metadata, creation.plan, binary)
    if (drift === undefined) return undefined
    warn(
        io,
        `${quote(file)}: its encryption rule (${drift.fileText}) differs from its creation rule (${drift.creationText}) in ${quote(creation.configShown)}; ` +
            `re-encrypt it to apply the rule: secrets rotate -i --strict ${file}`,
    )
    return drift
}

/** At most this many key paths in one message; the rest are counted. */
const LISTED = 5

function listPaths(paths: readonly string[]): string {
    const shown = paths.slice(0, LISTED).join(", ")
    return paths.length > LISTED ? `${shown} and ${paths.length - LISTED} more` : shown
}

/**
 * Refuse (or, with `allowClear`, warn about) values in `after` that are new or
 * changed since `before` and that the file's rule leaves in clear while its
 * creation rule would encrypt them. Names key paths only, never values. `command`
 * is for the hint: the legacy `--set` form has no `--allow-clear` (sops has none).
 */
export function checkClearValues(
    io: Io,
    command: "set" | "edit" | "import" | "restore" | "rotate-value",
    file: string,
    before: readonly Branch[],
    after: readonly Branch[],
    drift: RuleDrift | undefined,
    allowClear: boolean,
): void {
    if (drift === undefined) return
    const paths = clearAgainstCreationRule(before, after, drift.file, drift.creation)
    if (paths.length === 0) return
    const them = paths.length === 1 ? "it" : "them"
    if (allowClear) {
        warn(io, `${quote(file)}: ${listPaths(paths)} written in clear (--allow-clear), although its creation rule would encrypt ${them}`)
        return
    }
    // about(): the edit loop names the file itself, and one name reads better than two.
    throw new SecretsError(
        ExitCode.Generic,
        `${listPaths(paths)} would be written in clear: the file's encryption rule (${drift.fileText}) leaves ${them} unencrypted, ` +
            `its creation rule (${drift.creationText}) encrypts ${them}`,
        // A generated secret is never written in clear: rotate-value has no --allow-clear.
        [
            command === "rotate-value"
                ? `apply the creation rule first with \`secrets rotate -i --strict ${file}\``
                : `apply the creation rule first with \`secrets rotate -i --strict ${file}\`, or write ${them} in clear anyway with \`secrets ${command} --allow-clear\``,
        ],
    ).about(quote(file))
}

// ---- rotate ---------------------------------------------------------------------------

/**
 * `rotate --strict`: the file as its creation rule would make it. Returns the opened
 * file with the rule's encryption rule in its metadata (so every value is sealed
 * under it), the change that gives the rule's key groups and threshold, and the
 * recipients that go because the rule does not name them. Values that the new rule
 * leaves in clear are named: the user asked for the rule, but must see what it does.
 */
export function applyCreationRule(
    io: Io,
    file: string,
    opened: OpenedFile,
    creation: CreationRule,
    binary: boolean,
): { opened: OpenedFile; change: RotateChange; offRule: ReadonlySet<string> } {
    const { groups, threshold, unsupported } = creation.recipients
    if (unsupported.length > 0) {
        warn(io, `${quote(file)}: its creation rule also names ${unsupported.join(", ")} keys, which secrets cannot use; only the age recipients are used`)
    }
    const offRule = new Set(offRuleRecipients(opened.metadata.keyGroups, groups))
    const drift = ruleDrift(opened.metadata, creation.plan, binary)
    let target = opened
    if (drift !== undefined) {
        info(io, `${quote(file)}: encryption rule ${drift.creationText} from its creation rule, was ${drift.fileText}`)
        const cleared = madeClear(opened.branches, drift.file, drift.creation)
        if (cleared.length > 0) warn(io, `${quote(file)}: ${listPaths(cleared)} now in clear: its creation rule leaves ${cleared.length === 1 ? "it" : "them"} unencrypted`)
        target = { ...opened, metadata: { ...opened.metadata, rule: drift.creation.rule, macOnlyEncrypted: drift.creation.macOnlyEncrypted } }
    }
    return { opened: target, change: { groups, threshold }, offRule }
}

/**
 * Plain `rotate`: the file keeps its recipients and rule, as with sops, but the
 * user is told what does not match the creation rule: a drifted encryption rule,
 * and each recipient (in the rotated file) that the rule does not name.
 */
export function warnAgainstCreationRule(io: Io, file: string, opened: OpenedFile, rotated: Metadata, creation: CreationRule, binary: boolean): void {
    warnRuleDrift(io, file, opened.metadata, creation, binary)
    for (const r of offRuleRecipients(rotated.keyGroups, creation.recipients.groups)) {
        warn(io, `${quote(file)}: ${r} is not in its creation rule in ${quote(creation.configShown)}: kept, as sops keeps it; rotate with --strict to drop it`)
    }
}
