/** Types for scripts/gen-command-docs.mjs, so that the test importing it type-checks. */

/** The folder the pages are written to (absolute). */
export const REFERENCE_DIR: string

/** Render docs/reference/ in memory: file name (relative to docs/reference/) to content. */
export function renderReference(): Promise<Map<string, string>>
