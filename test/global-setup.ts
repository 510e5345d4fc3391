import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * End-to-end tests run the built binary, so build it once, fresh, before any test:
 * the same two steps as `npm run build` (tsc, then the bundle that bin/secrets.cjs
 * runs), so the tests exercise exactly what ships.
 */
export default function setup(): () => void {
    // Where test/helpers/state-home.ts puts the audit log the tests give the binary.
    const state = mkdtempSync(join(tmpdir(), "secrets-test-state-"))
    process.env.SECRETS_TEST_STATE_HOME = state
    // Inherited by every process a test starts with the worker's environment (the
    // deploy crash campaign's script): none writes to /var/log/secrets or ~/.local/state.
    process.env.SECRETS_AUDIT_LOG = join(state, "audit.jsonl")
    const root = join(import.meta.dirname, "..")
    const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" })
    node([join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")])
    node([join(root, "scripts/bundle.mjs")])
    return () => rmSync(state, { recursive: true, force: true })
}
