import { readFileSync } from "node:fs"
import { join } from "node:path"
import { runProcess } from "../helpers/process.js"
import { tempDir } from "../helpers/tmp.js"

const SCRIPT = join(import.meta.dirname, "../../scripts/soak.mjs")

/** What scripts/soak.mjs --json writes (the parts the tests read). */
export interface SoakReport {
    seed: number
    figures: Record<string, Record<string, unknown>>
}

/**
 * Run a small soak campaign (scripts/soak.mjs) against the build the test setup
 * made, and return its exit code, its JSON figures and its stderr (progress and
 * any violation, one line each).
 */
export async function runSoak(args: string[]): Promise<{ code: number | null; report: SoakReport; stderr: string; table: string }> {
    const out = join(tempDir(), "soak.json")
    const r = await runProcess(process.execPath, [SCRIPT, "--json", out, ...args], {
        cwd: join(import.meta.dirname, "../.."),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir() },
    })
    let report: SoakReport = { seed: -1, figures: {} }
    try {
        report = JSON.parse(readFileSync(out, "utf8")) as SoakReport
    } catch {
        // No report: the run failed before the end; the caller shows stderr.
    }
    return { code: r.status, report, stderr: r.stderr, table: r.stdout }
}
