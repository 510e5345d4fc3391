/**
 * The encryption settings that travel with a file: which values are encrypted and
 * what the MAC covers (sops-format.md §5). They live in the file's metadata, so a
 * later change to `.sops.yaml` never changes how an existing file is read.
 */
import type { EncryptionRule, Metadata } from "../core/metadata.js"
import type { CryptOptions } from "../core/walk.js"

/** sops writes this suffix rule into every file that names no rule (not binary files, ≥ 3.11). */
export const DEFAULT_RULE: EncryptionRule = { unencryptedSuffix: "_unencrypted" }

export function cryptOptions(metadata: Pick<Metadata, "rule" | "macOnlyEncrypted">, binary: boolean): CryptOptions {
    return {
        // Binary files hold one value, `data`, and sops forces every rule off for them.
        rule: binary ? {} : metadata.rule,
        macOnlyEncrypted: metadata.macOnlyEncrypted,
    }
}

/** The rule a new file gets: the one given, else the default suffix (none for binary). */
export function ruleForNewFile(rule: EncryptionRule | undefined, binary: boolean): EncryptionRule {
    if (binary) return {}
    if (rule !== undefined && Object.values(rule).some((v) => v !== undefined && v !== "")) return rule
    return DEFAULT_RULE
}
