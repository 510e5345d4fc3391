/**
 * Per-value policies (issue 16 §4): `secrets: {values: [...]}` in `.sops.yaml`,
 * which real sops ignores like the rest of `secrets:`.
 *
 *     secrets:
 *       values:
 *         - path: '["db"]["password"]'   # index syntax; ["*"] is any key at that level
 *           files: ^secrets/hosts/        # optional, a Go regex on the file's path, like path_regex
 *           generate: password:32         # core/value-generators.ts
 *           rotate_every: 90d             # days or weeks, as secrets.rotation.max_age
 *           expires: 2027-03-01
 *           hook: ./scripts/set-db-password.sh
 *           category: database
 *
 * The first policy that matches a (file, key path) applies, as with creation rules.
 * Every field is checked here, with the policy's position in the message: a typo
 * must fail loudly rather than switch a rotation or an expiry check off.
 */
import { parseGenerator, type GeneratorSpec } from "../core/value-generators.js"
import { parseTreePath, type PathStep } from "../core/tree-path.js"
import type { GoRegex } from "../core/go-regex.js"
import { pathRegex, pathRegexProblem } from "../config/path-regex.js"
import { ConfigError, SecretsError } from "../errors.js"
import { parseMaxAge } from "./policy.js"

export interface ValuePolicy {
    /** 1-based position in `secrets.values`, for messages. */
    readonly index: number
    readonly path: readonly PathStep[]
    readonly pathText: string
    readonly files?: GoRegex
    readonly generate?: GeneratorSpec
    readonly rotateEveryDays?: number
    /** Midnight UTC of the `expires` date. */
    readonly expires?: Date
    /** As written: run from the config's directory by rotate-value. */
    readonly hook?: string
    readonly category?: string
}

const FIELDS = new Set(["path", "files", "generate", "rotate_every", "expires", "hook", "category"])
const CATEGORY = /^[a-z0-9][a-z0-9_-]{0,39}$/
/** More policies than this is a mistake or a hostile config (each is matched per value). */
const MAX_POLICIES = 1000

/** The policies of a config's `secrets:` mapping; none when it has no `values`. */
export function valuePolicies(secrets: Readonly<Record<string, unknown>> | undefined, where = ".sops.yaml"): ValuePolicy[] {
    const raw = secrets?.values
    if (raw === undefined || raw === null) return []
    if (!Array.isArray(raw)) throw new ConfigError(`${where}: secrets.values must be a list of policies`, ["write `values:` followed by `- path: '[\"db\"][\"password\"]'` items"])
    if (raw.length > MAX_POLICIES) throw new ConfigError(`${where}: secrets.values has ${raw.length} policies, more than ${MAX_POLICIES}`)
    return raw.map((item, i) => onePolicy(item, i + 1, where))
}

function onePolicy(item: unknown, index: number, where: string): ValuePolicy {
    const at = `${where}: secrets.values[${index}]`
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new ConfigError(`${at} must be a mapping with at least a path`)
    const r = item as Record<string, unknown>
    const unknown = Object.keys(r).filter((k) => !FIELDS.has(k))
    if (unknown.length > 0) throw new ConfigError(`${at} has unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`, [`the fields are ${[...FIELDS].join(", ")}`])
    if (typeof r.path !== "string") throw new ConfigError(`${at}.path must be a string such as '["db"]["password"]'`)
    let path: PathStep[]
    try {
        path = parseTreePath(r.path)
    } catch (e) {
        if (e instanceof SecretsError) throw new ConfigError(`${at}.path: ${e.message}`, e.hints)
        throw e
    }
    const policy: { -readonly [K in keyof ValuePolicy]: ValuePolicy[K] } = { index, path, pathText: r.path }
    if (r.files !== undefined) {
        if (typeof r.files !== "string") throw new ConfigError(`${at}.files must be a regular expression string`)
        const problem = pathRegexProblem(r.files)
        if (problem !== undefined) throw new ConfigError(`${at}.files is not a valid regular expression: ${problem}`)
        policy.files = pathRegex(r.files, `secrets.values[${index}].files`)
    }
    if (r.generate !== undefined) {
        const spec = parseGenerator(String(r.generate))
        if ("error" in spec) throw new ConfigError(`${at}.${spec.error}`)
        policy.generate = spec
    }
    if (r.rotate_every !== undefined) {
        try {
            policy.rotateEveryDays = parseMaxAge(r.rotate_every, where)
        } catch (e) {
            if (e instanceof ConfigError) throw new ConfigError(`${at}.rotate_every is not a number of days (d) or weeks (w)`, ["e.g. 90d or 12w"])
            throw e
        }
    }
    if (r.expires !== undefined) policy.expires = expiryDate(r.expires, at)
    if (r.hook !== undefined) {
        if (typeof r.hook !== "string" || r.hook.trim() === "") throw new ConfigError(`${at}.hook must be a command such as ./scripts/set-db-password.sh`)
        policy.hook = r.hook
    }
    if (r.category !== undefined) {
        if (typeof r.category !== "string" || !CATEGORY.test(r.category)) throw new ConfigError(`${at}.category must be a short lower-case word such as database, api or certificate`)
        policy.category = r.category
    }
    return policy
}

/** `2027-03-01` (a YAML 1.1 reader may already have made it a Date). */
function expiryDate(value: unknown, at: string): Date {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value
    const m = typeof value === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null
    const d = m === null ? undefined : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
    if (d === undefined || d.toISOString().slice(0, 10) !== value) throw new ConfigError(`${at}.expires must be a date written YYYY-MM-DD`)
    return d
}

/** Whether a policy's path names `keyPath`: equal length, each step equal or `"*"`. */
export function pathMatches(pattern: readonly PathStep[], keyPath: readonly PathStep[]): boolean {
    return pattern.length === keyPath.length && pattern.every((step, i) => step === "*" || step === keyPath[i])
}

/** The first policy for this value of this file (path relative to the config's directory, `/`-separated). */
export function policyFor(policies: readonly ValuePolicy[], file: string, keyPath: readonly PathStep[]): ValuePolicy | undefined {
    return policies.find((p) => pathMatches(p.path, keyPath) && (p.files === undefined || p.files.test(file)))
}
