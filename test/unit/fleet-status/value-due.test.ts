/**
 * fleet/value-due.ts against a real git repository: a value's date is the newest
 * commit that changed THAT key path (not the file's last commit, not
 * `lastmodified`), and each fallback to `lastmodified` says why.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SOPS_VERSION } from "../../../src/core/metadata.js"
import { newDataKey } from "../../../src/core/datakey.js"
import { seal } from "../../../src/engine/seal.js"
import { ruleForNewFile } from "../../../src/engine/rules.js"
import { generateX25519Identity, wrapDataKey } from "../../../src/keys/age.js"
import { formatForPath, loadStore } from "../../../src/stores/index.js"
import { valuePolicies } from "../../../src/fleet/value-policy.js"
import { needsRotation, valuesDue, type ValueDue } from "../../../src/fleet/value-due.js"

const POLICIES = valuePolicies({
    values: [
        { path: '["db"]["password"]', rotate_every: "30d", category: "database" },
        { path: '["api"]["*"]', expires: "2030-02-01" },
    ],
})

let root: string
let identity: string
let recipient: string
const key = newDataKey()

beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "value-due-"))
    ;({ identity, recipient } = await generateX25519Identity())
})
afterAll(async () => {
    await rm(root, { recursive: true, force: true })
})

const env = (dir: string): Record<string, string> => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" })

function git(dir: string, args: string[], date?: string): void {
    execFileSync("git", args, { cwd: dir, env: { ...env(dir), ...(date !== undefined ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) }, stdio: "ignore" })
}

function newRepo(name: string): string {
    const dir = join(root, name)
    mkdirSync(dir)
    git(dir, ["init", "-q", "-b", "main"])
    git(dir, ["config", "user.name", "T"])
    git(dir, ["config", "user.email", "t@example.org"])
    return dir
}

/** Seal `plain` under the one data key with fresh IVs (no stash: every ENC string changes). */
async function write(abs: string, plain: string, lastModified: string): Promise<void> {
    mkdirSync(dirname(abs), { recursive: true })
    const store = await loadStore(formatForPath(abs))
    const metadata = {
        keyGroups: [[{ type: "age" as const, recipient, enc: await wrapDataKey(recipient, key) }]],
        shamirThreshold: 0,
        lastModified: "",
        mac: "",
        rule: ruleForNewFile(undefined, false),
        macOnlyEncrypted: false,
        version: SOPS_VERSION,
    }
    writeFileSync(abs, seal(store.parsePlain(Buffer.from(plain)), store, metadata, key, undefined, new Date(lastModified)))
}

const V1 = "db:\n  password: one\n  host: h\napi:\n  token: t1\n  id: i\n"
const V2 = "db:\n  password: one\n  host: h\napi:\n  token: t2\n  id: i\n"

async function due(dir: string, now: string, identities: string[] = [identity], windowDays = 14): Promise<Record<string, ValueDue>> {
    const abs = join(dir, "secrets/app.yaml")
    const got = await valuesDue({ abs, path: "secrets/app.yaml", bytes: readFileSync(abs), policies: POLICIES, now: new Date(now), windowDays, identities, env: env(dir) })
    return Object.fromEntries(got.map((v) => [v.keyPath, v]))
}

/** One repo: all values on 2030-01-01, only the token changed on 2030-03-01 (every ENC string differs). */
async function twoCommits(name: string): Promise<string> {
    const dir = newRepo(name)
    await write(join(dir, "secrets/app.yaml"), V1, "2030-01-01T00:00:00Z")
    git(dir, ["add", "-A"])
    git(dir, ["commit", "-q", "-m", "one"], "2030-01-01T00:00:00Z")
    await write(join(dir, "secrets/app.yaml"), V2, "2030-03-01T00:00:00Z")
    git(dir, ["add", "-A"])
    git(dir, ["commit", "-q", "-m", "two"], "2030-03-01T00:00:00Z")
    return dir
}

describe("valuesDue", () => {
    it("dates a value by the newest commit that changed it, expands [\"*\"] over the file's keys, and judges expiry", async () => {
        const dir = await twoCommits("a")
        const v = await due(dir, "2030-03-15T00:00:00Z")
        expect(Object.keys(v).sort()).toEqual(['["api"]["id"]', '["api"]["token"]', '["db"]["password"]'])
        const pw = v['["db"]["password"]']
        expect(pw).toMatchObject({ policyIndex: 1, category: "database", due: true, expired: false, source: "git" })
        expect(pw?.lastChanged?.toISOString()).toBe("2030-01-01T00:00:00.000Z")
        // Both api values are past `expires`; the token was replaced after that date, the id was not.
        expect(v['["api"]["token"]']).toMatchObject({ policyIndex: 2, expired: true, due: false, source: "git" })
        expect(v['["api"]["token"]']?.lastChanged?.toISOString()).toBe("2030-03-01T00:00:00.000Z")
        expect(needsRotation(v['["api"]["token"]']!)).toBe(false)
        expect(needsRotation(v['["api"]["id"]']!)).toBe(true)
        expect(needsRotation(pw!)).toBe(true)
        // 30 days after the value's commit and not later: not yet due.
        expect((await due(dir, "2030-01-30T00:00:00Z"))['["db"]["password"]']?.due).toBe(false)
        const early = await due(dir, "2030-01-20T00:00:00Z")
        expect(early['["api"]["token"]']).toMatchObject({ expired: false, expiringInDays: 12 })
        expect((await due(dir, "2030-01-20T00:00:00Z", [identity], 7))['["api"]["token"]']?.expiringInDays).toBeUndefined()
    })

    it("falls back to lastmodified and says why: no identity, uncommitted change, not in git", async () => {
        const dir = await twoCommits("b")
        const noId = (await due(dir, "2030-03-15T00:00:00Z", []))['["db"]["password"]']
        expect(noId).toMatchObject({ source: "lastmodified", fallback: "undecided in history", due: false })
        expect(noId?.lastChanged?.toISOString()).toBe("2030-03-01T00:00:00.000Z")
        await write(join(dir, "secrets/app.yaml"), V2.replace("one", "changed"), "2030-03-10T00:00:00Z")
        expect((await due(dir, "2030-03-15T00:00:00Z"))['["db"]["password"]']).toMatchObject({ source: "lastmodified", fallback: "uncommitted change" })
        const loose = join(root, "loose")
        await write(join(loose, "secrets/app.yaml"), V1, "2030-01-01T00:00:00Z")
        const out = (await due(loose, "2030-03-15T00:00:00Z"))['["db"]["password"]']
        expect(out).toMatchObject({ source: "lastmodified", fallback: "not in git", due: true })
    })
})
