/**
 * Where the audit log goes (src/files/audit-location.ts): the user's environment
 * decides, deploy writes the host's log, and a HOME that does not exist is never
 * created (a service account's HOME=/nonexistent would appear as root).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { auditPlace, HOST_AUDIT_LOG } from "../../../src/files/audit-location.js"

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

describe("auditPlace", () => {
    it("takes SECRETS_AUDIT_LOG first, then deploy's host log, then XDG_STATE_HOME, then HOME", () => {
        const home = mkdtempSync(join(tmpdir(), "audit-home-"))
        dirs.push(home)
        expect(auditPlace({ SECRETS_AUDIT_LOG: "/var/tmp/a.jsonl" }, home, "deploy")).toEqual({ target: { log: "/var/tmp/a.jsonl", anchor: "/var/tmp/a.jsonl.anchor" } })
        expect(auditPlace({ SECRETS_AUDIT_LOG: "off" }, home, "decrypt")).toEqual({ off: true })
        expect(auditPlace({ SECRETS_AUDIT_LOG: "rel.jsonl" }, home, "decrypt")).toEqual({ problem: "SECRETS_AUDIT_LOG must be an absolute path, or off" })
        expect(auditPlace({}, home, "deploy")).toEqual({ target: { log: HOST_AUDIT_LOG, anchor: `${HOST_AUDIT_LOG}.anchor` } })
        expect(auditPlace({ XDG_STATE_HOME: "/st" }, home, "decrypt")).toEqual({ target: { log: "/st/secrets/audit.jsonl", anchor: "/st/secrets/audit.jsonl.anchor" } })
        // A relative XDG_STATE_HOME is invalid by the XDG spec, and ignored.
        expect(auditPlace({ XDG_STATE_HOME: "st" }, home, "decrypt")).toEqual({ target: { log: join(home, ".local/state/secrets/audit.jsonl"), anchor: join(home, ".local/state/secrets/audit.jsonl.anchor") } })
    })

    it("says so instead of creating a HOME that does not exist", () => {
        const missing = join(tmpdir(), `no-such-home-${process.pid}`)
        expect(auditPlace({}, missing, "decrypt")).toEqual({ problem: `the home directory ${missing} does not exist: set XDG_STATE_HOME or SECRETS_AUDIT_LOG` })
        expect(existsSync(missing)).toBe(false)
        expect(auditPlace({}, "", "decrypt")).toHaveProperty("problem")
    })
})
