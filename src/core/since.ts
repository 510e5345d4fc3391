/**
 * `--since` of `audit show` and `metrics`: a span back from now (`30m`, `24h`,
 * `7d`, `2w`) or a date (`2026-12-01`, or a full ISO 8601 time). Months and years
 * are refused for the reason policy.ts gives: they have no fixed length.
 */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

/** The instant `text` names, or a sentence saying what forms are accepted. */
export function parseSince(text: string, now: Date): Date | { readonly error: string } {
    const span = /^(\d{1,6})([mhdw])$/.exec(text)
    if (span !== null) return new Date(now.getTime() - Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS])
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
        const d = new Date(`${text}T00:00:00Z`)
        if (!Number.isNaN(d.getTime()) && d.toISOString().startsWith(text)) return d
    } else if (/^\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})$/.test(text)) {
        const d = new Date(text)
        if (!Number.isNaN(d.getTime())) return d
    }
    return { error: `--since ${JSON.stringify(text)} is neither a span such as 30m, 24h, 7d or 2w nor a date such as 2026-12-01` }
}
