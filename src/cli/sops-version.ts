/**
 * The `version` bump of `edit` (sops-format.md §10.2 step 5, §13): sops writes its
 * own version into a file it edits when the file's is older, comparing with
 * blang/semver's strict parser (version.AIsNewerThanB). A version that does not
 * parse is exit 202 (FailedToCompareVersions), so that a file sops would refuse is
 * not silently "repaired" here either.
 */
import { SOPS_VERSION } from "../core/metadata.js"
import { ExitCode, SecretsError } from "../errors.js"

interface SemVer {
    readonly major: bigint
    readonly minor: bigint
    readonly patch: bigint
    readonly pre: readonly (bigint | string)[]
}

const NUM = "(0|[1-9][0-9]*)"
const IDENT = "[0-9A-Za-z-]+"
const SEMVER = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+(${IDENT}(?:\\.${IDENT})*))?$`)

/** Parse strict semver as blang/semver's Make does; undefined when it does not parse. */
export function parseSemver(s: string): SemVer | undefined {
    const m = SEMVER.exec(s)
    if (m === null) return undefined
    const pre: (bigint | string)[] = []
    for (const id of m[4]?.split(".") ?? []) {
        if (/^[0-9]+$/.test(id)) {
            // A numeric pre-release identifier must not have leading zeros.
            if (id.length > 1 && id.startsWith("0")) return undefined
            pre.push(BigInt(id))
        } else {
            pre.push(id)
        }
    }
    return { major: BigInt(m[1] ?? "0"), minor: BigInt(m[2] ?? "0"), patch: BigInt(m[3] ?? "0"), pre }
}

/** Semver precedence: negative, zero or positive as `a` is older, equal or newer than `b`. */
export function compareSemver(a: SemVer, b: SemVer): number {
    for (const k of ["major", "minor", "patch"] as const) {
        if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1
    }
    // A release is newer than any of its pre-releases.
    if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length
    for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
        const x = a.pre[i]
        const y = b.pre[i]
        if (x === y || x === undefined || y === undefined) continue
        if (typeof x === "bigint" && typeof y === "bigint") return x < y ? -1 : 1
        // Numeric identifiers sort before alphanumeric ones.
        if (typeof x === "bigint") return -1
        if (typeof y === "bigint") return 1
        return x < y ? -1 : 1
    }
    return a.pre.length - b.pre.length
}

/**
 * True when `current` (this tool's sops version) is newer than the file's
 * `version`, i.e. the file should be stamped with `current`. Throws SecretsError
 * 202 when either does not parse.
 */
export function needsVersionBump(fileVersion: string, current: string = SOPS_VERSION): boolean {
    // python-sops wrote "1.x" versions that are not semver; sops treats them as old.
    if (fileVersion.startsWith("1.")) return true
    // sops ≥ 3.10 trims a leading "v" before parsing.
    const a = parseSemver(current.replace(/^v/, ""))
    const b = parseSemver(fileVersion.replace(/^v/, ""))
    if (a === undefined || b === undefined) {
        throw new SecretsError(
            ExitCode.FailedToCompareVersions,
            `cannot compare the file's sops version ${JSON.stringify(fileVersion)} with ${current}: it is not a semantic version`,
            ["set the `version` field of the file's sops block to a version like 3.13.2 (with -s / --show-master-keys)"],
        )
    }
    return compareSemver(a, b) > 0
}
