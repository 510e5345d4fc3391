/**
 * What the masker of `secrets run` looks for, given the injected values (issue 13
 * point 1): each value itself, each line of a multi-line value, and the base64 of
 * the value, since a child that logs a PEM key or an HTTP Basic header prints it
 * line by line or encoded. The GitHub runner registers the same kinds of forms
 * (value, lines, base64: run-ci-git-anchors.md §2).
 *
 * A line is trimmed (as the runner trims) and kept only from {@link MIN_LINE_LENGTH}
 * characters: a PEM's or a JSON value's short lines (`}`, `--`) would otherwise
 * conceal those characters everywhere and make the log unreadable, and they tell
 * nothing about the secret. The whole value is always concealed, however short.
 */

/** Lines (and base64 forms) shorter than this are not needles of their own. */
export const MIN_LINE_LENGTH = 4

/** The distinct strings to conceal for `values` (empty values are skipped). */
export function maskNeedles(values: Iterable<string>): string[] {
    const out = new Set<string>()
    for (const value of values) {
        if (value === "") continue
        out.add(value)
        for (const line of valueLines(value)) out.add(line)
        // A YAML block scalar ends in a newline the program may well drop before
        // printing or encoding the value: the trimmed value counts too.
        const trimmed = value.trim()
        if (trimmed !== value && trimmed.length >= MIN_LINE_LENGTH) out.add(trimmed)
        for (const v of new Set([value, trimmed])) {
            const b64 = Buffer.from(v, "utf8").toString("base64").replace(/=+$/, "")
            // Unpadded, so the value is also caught inside a longer base64 text
            // (`user:password` in a Basic header); the padding itself is not secret.
            if (b64.length >= MIN_LINE_LENGTH) out.add(b64)
        }
    }
    return [...out]
}

/** The trimmed lines of a multi-line value that are long enough to conceal (none for a one-line value). */
export function valueLines(value: string): string[] {
    if (!/[\r\n]/.test(value)) return []
    return value
        .split(/\r\n|\r|\n/)
        .map((l) => l.trim())
        .filter((l) => l.length >= MIN_LINE_LENGTH)
}
