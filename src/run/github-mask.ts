/**
 * GitHub Actions masking (issue 13 point 2): `::add-mask::VALUE` lines on stdout
 * make the runner replace VALUE with `***` in the job log from then on
 * (run-ci-git-anchors.md §2). They must come before the value is printed or
 * handed to anything that may print it, so `run` and `exec-env` write them before
 * the command starts.
 *
 * Format, as the toolkit's command.ts escapes command data: `%` → `%25` first,
 * then CR → `%0D`, LF → `%0A`. A raw newline would end the command and leave the
 * rest of a multi-line value in clear; escaped, the runner masks the whole value
 * and (since actions/runner#1521) each of its lines. For older runners, and for
 * a log that prints the lines apart, each line also gets a line of its own.
 *
 * The runner masks any non-blank value, even one character, which turns every
 * `e` in the log into `***`; values shorter than {@link MIN_MASK_LENGTH} are left
 * out and the caller warns (by name, never the value).
 */
import { valueLines } from "./needles.js"

export const MIN_MASK_LENGTH = 4

/** A value to mask and the name it is known by (for the warning). */
export interface NamedValue {
    readonly name: string
    readonly value: string
}

export interface AddMaskLines {
    /** Each line ends in "\n". */
    readonly lines: string[]
    /** Names of values too short to mask. */
    readonly tooShort: string[]
}

/** Escape command data as actions/toolkit's escapeData does. */
export function escapeCommandData(s: string): string {
    return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")
}

export function addMaskLines(values: readonly NamedValue[]): AddMaskLines {
    const seen = new Set<string>()
    const lines: string[] = []
    const tooShort: string[] = []
    const add = (s: string): void => {
        if (seen.has(s)) return
        seen.add(s)
        lines.push(`::add-mask::${escapeCommandData(s)}\n`)
    }
    for (const { name, value } of values) {
        if (value.trim().length < MIN_MASK_LENGTH) {
            if (value.trim() !== "" && !tooShort.includes(name)) tooShort.push(name)
            continue
        }
        add(value)
        for (const line of valueLines(value)) add(line)
    }
    return { lines, tooShort }
}

/** Whether we run as a GitHub Actions step. */
export function underGithubActions(env: Readonly<Record<string, string | undefined>>): boolean {
    return env.GITHUB_ACTIONS === "true"
}
