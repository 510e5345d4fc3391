/**
 * How a new file is encrypted: the creation rule of the nearest `.sops.yaml`, with
 * command-line recipients and rule flags on top (sops-format.md §8).
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { ConfigError, quote } from "../errors.js"
import { findConfig, parseConfig } from "../config/load.js"
import { matchRule, planForRule, type EncryptionPlan, type PlanOverrides } from "../config/match.js"
import type { Config, Rule } from "../config/schema.js"
import type { Io } from "./io.js"
import { warn } from "./diagnostics.js"
import { recipientNamer } from "./recipient-names.js"
import { trace, traceOn } from "./trace.js"

export interface LoadedConfig {
    readonly config: Config
    readonly path: string
}

/** The config that governs `file` (or the cwd), or undefined when there is none. */
export function loadConfig(io: Io, file: string | undefined, explicit: string | undefined): LoadedConfig | undefined {
    const path = findConfig({
        ...(file !== undefined ? { filePath: file } : {}),
        cwd: io.cwd,
        ...(explicit !== undefined ? { explicit } : {}),
        exists: existsSync,
        warn: (m) => warn(io, m),
    })
    if (path === undefined) {
        trace(io, `config: no .sops.yaml found${explicit === undefined ? ` from ${file === undefined ? "the working directory" : quote(file)} upwards` : ""}`)
        return undefined
    }
    const abs = resolve(io.cwd, path)
    trace(io, `config: ${abs}${explicit !== undefined ? " (given by --config or SOPS_CONFIG)" : ""}`)
    let text: string
    try {
        text = readFileSync(abs, "utf8")
    } catch (e) {
        throw new ConfigError(`cannot read config ${quote(path)}: ${(e as { code?: string }).code ?? "error"}`, [
            "check --config / SOPS_CONFIG",
        ])
    }
    const config = parseConfig(text, path)
    for (const w of config.warnings) warn(io, w)
    return { config, path: abs }
}

/** The plan for encrypting `file` (its path as the rules should see it). */
export function planFor(io: Io, file: string | undefined, explicit: string | undefined, overrides: PlanOverrides): EncryptionPlan {
    const loaded = loadConfig(io, file, explicit)
    const keysOnCommandLine = (overrides.recipients?.length ?? 0) > 0
    const rule =
        loaded === undefined || file === undefined
            ? undefined
            : matchRule(loaded.config, dirname(loaded.path), resolve(io.cwd, file), { keysOnCommandLine })
    const plan = planForRule(rule, overrides)
    if (traceOn(io)) traceRule(io, loaded, rule, file, keysOnCommandLine, plan)
    if (plan.unsupported.length > 0) {
        warn(io, `the creation rule also names ${plan.unsupported.join(", ")} keys, which secrets cannot use; only the age recipients are used`)
    }
    return plan
}

/** Recipients given with `--age` or SOPS_AGE_RECIPIENTS (commander merges the two). */
export function recipientsFromFlag(value: unknown): string[] {
    if (typeof value !== "string") return []
    return value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
}

/** `--verbose`: which rule decided, and the recipients it gives, by name. */
function traceRule(io: Io, loaded: LoadedConfig | undefined, rule: Rule | undefined, file: string | undefined, keysOnCommandLine: boolean, plan: EncryptionPlan): void {
    if (rule !== undefined && loaded !== undefined) {
        const index = loaded.config.creation_rules?.indexOf(rule) ?? -1
        const regex = rule.path_regex === undefined || rule.path_regex === "" ? "no path_regex: matches every file" : `path_regex ${quote(rule.path_regex)}`
        trace(io, `rule: creation_rules[${index}] (${regex}) matches ${quote(file ?? "")}`)
    } else if (loaded !== undefined && file !== undefined) {
        trace(io, `rule: no creation rule matches ${quote(file)}`)
    }
    if (keysOnCommandLine) trace(io, "recipients: from --age or SOPS_AGE_RECIPIENTS, in place of the rule's")
    const name = recipientNamer(loaded?.path)
    for (const [i, group] of plan.groups.entries()) {
        const who = group.length === 0 ? "none" : group.map(name).join(", ")
        trace(io, `recipients${plan.groups.length > 1 ? ` (key group ${i + 1})` : ""}: ${who}`)
    }
}
