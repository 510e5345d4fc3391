/**
 * The audit log the tests give the binary (issue 16 §1), outside every test's
 * working directory: with HOME pointed at the cwd, the default
 * `~/.local/state/secrets/audit.jsonl` would otherwise appear inside the
 * repositories and directories the tests list and compare. One log for the whole
 * run, in a directory test/global-setup.ts makes and removes afterwards; every
 * command of the run appends to it, which exercises concurrent appends too. Tests
 * of the log itself pass their own SECRETS_AUDIT_LOG.
 */
import { tmpdir } from "node:os"
import { join } from "node:path"

export function testAuditLog(): string {
    return join(process.env.SECRETS_TEST_STATE_HOME ?? join(tmpdir(), "secrets-test-state"), "audit.jsonl")
}
