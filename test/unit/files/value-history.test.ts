/**
 * valueHistory (src/files/value-history.ts) on a real git repository: one file
 * through nine commits sealed in-process with the engine the commands use (a value
 * added, changed, removed; a re-wrap that adds a recipient; a data-key rotation;
 * a re-encryption under the same key with fresh IVs, as a writer without sops' IV
 * stash makes; an identity rotation), each commit's entry checked exactly.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Branch } from "../../../src/core/tree.js"
import { entry, list, map, str } from "../../../src/core/tree.js"
import { setAt, unsetAt } from "../../../src/core/tree-path.js"
import { openEncrypted, type OpenedFile } from "../../../src/engine/open.js"
import { rewrapGroups, rotateDataKey } from "../../../src/engine/rekey.js"
import { encryptNew, seal } from "../../../src/engine/seal.js"
import { valueHistory, type ValueHistoryEntry } from "../../../src/files/value-history.js"
import { retireIdentity } from "../../../src/fleet/retired-identities.js"
import { generateX25519Identity, type KeyPair } from "../../../src/keys/age.js"
import { parseIdentities } from "../../../src/keys/identity-file.js"
import { loadStore } from "../../../src/stores/index.js"
import { tempDir } from "../../helpers/tmp.js"

const FILE = "secrets/app.yaml"

interface Built {
    dir: string
    env: Record<string, string>
    commits: string[]
    aliceOld: KeyPair
    aliceNew: KeyPair
    /** Alice's key file after `keys rotate`: the new identity, the old one retired. */
    aliceKeyFile: string
}

const dates = Array.from({ length: 9 }, (_, i) => `2031-0${1 + Math.floor(i / 3)}-1${i % 3}T10:00:00+00:00`)

async function build(dir: string): Promise<Built> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" }
    const git = (args: string[], extra: Record<string, string> = {}) =>
        execFileSync("git", args, { cwd: dir, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] }).toString().trim()
    git(["init", "-q", "-b", "main"])
    const store = await loadStore("yaml")
    const aliceOld = await generateX25519Identity()
    const aliceNew = await generateX25519Identity()
    const bob = await generateX25519Identity()
    mkdirSync(join(dir, "secrets"))
    const commits: string[] = []
    const commit = (bytes: Uint8Array, who: string) => {
        writeFileSync(join(dir, FILE), bytes)
        const date = dates[commits.length] ?? ""
        git(["add", FILE])
        git(["commit", "-q", "-m", `change ${commits.length}`], {
            GIT_AUTHOR_NAME: who,
            GIT_AUTHOR_EMAIL: `${who.toLowerCase()}@example.org`,
            GIT_COMMITTER_NAME: "CI",
            GIT_COMMITTER_EMAIL: "ci@example.org",
            GIT_AUTHOR_DATE: date,
            GIT_COMMITTER_DATE: "2032-01-01T00:00:00+00:00",
        })
        commits.push(git(["rev-parse", "HEAD"]))
    }
    const now = new Date("2031-01-01T00:00:00Z")
    let bytes: Uint8Array
    let opened: OpenedFile
    const reopen = (ids: string[]) => openEncrypted(bytes, store, ids)
    // As `set`/`edit` write: the IV stash keeps every unchanged value's ciphertext.
    const edit = (f: (b: Branch) => Branch): Uint8Array => seal([f(opened.branches[0] as Branch)], store, opened.metadata, opened.dataKey, opened.stash, now)

    // 0: the file is created.
    bytes = await encryptNew([map(entry("db", map(entry("user", str("admin")), entry("password", str("pw-1")))))], store, { groups: [[aliceOld.recipient]] }, now)
    commit(bytes, "Alice")
    // 1: a value is added.
    opened = await reopen([aliceOld.identity])
    commit((bytes = edit((b) => setAt(b, ["api_token"], str("tok-1")))), "Alice")
    // 2: one value changes.
    opened = await reopen([aliceOld.identity])
    commit((bytes = edit((b) => setAt(b, ["db", "password"], str("pw-2")))), "Bob")
    // 3: updatekeys adds bob: new wrapped keys, same data key, no value changes (no entry).
    opened = await reopen([aliceOld.identity])
    const rewrapped = await rewrapGroups(opened.metadata, opened.dataKey, [[aliceOld.recipient, bob.recipient]], 0)
    commit((bytes = seal(opened.branches, store, rewrapped.metadata, opened.dataKey, opened.stash, now)), "Alice")
    // 4: a value is removed.
    opened = await reopen([aliceOld.identity])
    commit((bytes = edit((b) => unsetAt(b, ["api_token"]) ?? b)), "Alice")
    // 5: the data key is rotated: every ENC string changes, no value does (no entry).
    opened = await reopen([aliceOld.identity])
    commit((bytes = (await rotateDataKey(opened, store, now)).output), "Alice")
    // 6: a value changes and a list is added, under the rotated key.
    opened = await reopen([aliceOld.identity])
    commit((bytes = edit((b) => setAt(setAt(b, ["db", "user"], str("root")), ["hosts"], list(str("a"), str("b"))))), "Carol")
    // 7: re-encrypted under the same key with fresh IVs (no stash), no value changed (no entry).
    opened = await reopen([aliceOld.identity])
    commit((bytes = seal(opened.branches, store, opened.metadata, opened.dataKey, undefined, now)), "Dave")
    // 8: alice's identity is rotated (old recipient out, new in, new data key) and a value changes.
    opened = await reopen([aliceOld.identity])
    const changed: OpenedFile = { ...opened, branches: [setAt(opened.branches[0] as Branch, ["db", "password"], str("pw-3"))] }
    commit((bytes = (await rotateDataKey(changed, store, now, { add: [aliceNew.recipient], remove: [aliceOld.recipient] })).output), "Alice")

    // `keys rotate` leaves the old identity in the key file, retired.
    const keyText = `# created: 2031-01-01T00:00:00Z\n# public key: ${aliceOld.recipient}\n${aliceOld.identity}\n${aliceNew.identity}\n`
    const aliceKeyFile = (await retireIdentity(keyText, aliceOld.recipient, { anchor: "user_alice", date: new Date("2031-03-12T00:00:00Z") })).text
    return { dir, env, commits, aliceOld, aliceNew, aliceKeyFile }
}

/** An entry as the test states it: commit number, author, date index and the three lists. */
function expected(b: Built, n: number, author: string, changes: Partial<ValueHistoryEntry["changes"]>): ValueHistoryEntry {
    return {
        commit: b.commits[n] ?? "",
        date: new Date(dates[n] ?? ""),
        author: `${author} <${author.toLowerCase()}@example.org>`,
        changes: { added: [], changed: [], removed: [], ...changes },
        undecided: [],
    }
}

describe("valueHistory", () => {
    let b: Built
    beforeAll(async () => {
        // One repository for the file (tempDir's cleanup is per test).
        const dir = mkdtempSync(join(tmpdir(), "secrets-test-"))
        try {
            b = await build(dir)
        } catch (e) {
            rmSync(dir, { recursive: true, force: true })
            throw e
        }
    }, 120_000)
    afterAll(() => {
        if (b !== undefined) rmSync(b.dir, { recursive: true, force: true })
    })

    it("lists every commit that changed a value, newest first, with exactly its key paths", async () => {
        const ids = parseIdentities(b.aliceKeyFile, "alice's key file")
        const got = await valueHistory(join(b.dir, FILE), { identities: ids, env: b.env })
        expect(got).toEqual([
            expected(b, 8, "Alice", { changed: ['["db"]["password"]'] }),
            expected(b, 6, "Carol", { changed: ['["db"]["user"]'], added: ['["hosts"][0]', '["hosts"][1]'] }),
            expected(b, 4, "Alice", { removed: ['["api_token"]'] }),
            expected(b, 2, "Bob", { changed: ['["db"]["password"]'] }),
            expected(b, 1, "Alice", { added: ['["api_token"]'] }),
            expected(b, 0, "Alice", { added: ['["db"]["user"]', '["db"]["password"]'] }),
        ])
        // Never a value: the entries hold key paths only.
        expect(JSON.stringify(got)).not.toMatch(/pw-|tok-1|admin|root/)
    }, 60_000)

    it("keeps to one key path (or the values under a mapping) when asked", async () => {
        const ids = parseIdentities(b.aliceKeyFile, "alice's key file")
        const one = await valueHistory(join(b.dir, FILE), { identities: ids, env: b.env, keyPath: "['db']['password']" })
        expect(one).toEqual([
            expected(b, 8, "Alice", { changed: ['["db"]["password"]'] }),
            expected(b, 2, "Bob", { changed: ['["db"]["password"]'] }),
            expected(b, 0, "Alice", { added: ['["db"]["password"]'] }),
        ])
        const hosts = await valueHistory(join(b.dir, FILE), { identities: ids, env: b.env, keyPath: '["hosts"]' })
        expect(hosts).toEqual([expected(b, 6, "Carol", { added: ['["hosts"][0]', '["hosts"][1]'] })])
    }, 60_000)

    it("opens revisions encrypted to a since-retired identity with the retired one", async () => {
        // Without the retired identity, the old revisions do not open: the commits whose
        // ENC strings cannot decide are reported undecided, not dropped and not a crash.
        const onlyNew = await valueHistory(join(b.dir, FILE), { identities: [b.aliceNew.identity], env: b.env })
        const byCommit = new Map(onlyNew.map((e) => [e.commit, e]))
        expect(byCommit.get(b.commits[2] ?? "")).toMatchObject({
            changes: { added: [], changed: [], removed: [] },
            undecided: ['["db"]["password"]'],
            unreadable: "no identity opens this revision or the one before",
        })
        // What needs no key is still exact: additions and removals.
        expect(byCommit.get(b.commits[4] ?? "")).toMatchObject({ changes: { removed: ['["api_token"]'] }, undecided: [] })
        // The rotation (5) and the fresh IVs (7) cannot be told from changes without the old key.
        expect(byCommit.get(b.commits[5] ?? "")?.undecided).toEqual(['["db"]["user"]', '["db"]["password"]'])
        expect(byCommit.get(b.commits[7] ?? "")?.undecided).toEqual(['["db"]["user"]', '["db"]["password"]', '["hosts"][0]', '["hosts"][1]'])

        // With the key file as `keys rotate` leaves it (old identity retired), every
        // revision opens: the same history as the first test's, exactly.
        const withRetired = await valueHistory(join(b.dir, FILE), { identities: parseIdentities(b.aliceKeyFile, "key file"), env: b.env })
        expect(withRetired.every((e) => e.unreadable === undefined && e.undecided.length === 0)).toBe(true)
        expect(withRetired.map((e) => e.commit)).toEqual([8, 6, 4, 2, 1, 0].map((n) => b.commits[n]))
    }, 60_000)

    it("reports a plaintext revision as no sops file, and a deletion as every path removed", async () => {
        const dir = tempDir()
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" }
        const git = (args: string[]) =>
            execFileSync("git", args, {
                cwd: dir,
                env: { ...env, GIT_AUTHOR_NAME: "Eve", GIT_AUTHOR_EMAIL: "eve@example.org", GIT_COMMITTER_NAME: "Eve", GIT_COMMITTER_EMAIL: "eve@example.org" },
                stdio: ["ignore", "pipe", "pipe"],
            })
                .toString()
                .trim()
        git(["init", "-q", "-b", "main"])
        const store = await loadStore("yaml")
        const alice = await generateX25519Identity()
        const file = join(dir, "app.yaml")
        const commits: string[] = []
        const step = (write: () => void, message: string) => {
            write()
            git(["add", "-A"])
            git(["commit", "-q", "-m", message])
            commits.push(git(["rev-parse", "HEAD"]))
        }
        step(() => writeFileSync(file, "password: hunter2\n"), "oops, plaintext")
        const enc = await encryptNew([map(entry("password", str("hunter2")))], store, { groups: [[alice.recipient]] }, new Date())
        step(() => writeFileSync(file, enc), "encrypted")
        step(() => rmSync(file), "deleted")
        step(() => writeFileSync(file, enc), "back")
        const got = await valueHistory(file, { identities: [alice.identity], env })
        const none = { added: [], changed: [], removed: [] }
        expect(got.map((e) => ({ commit: e.commit, author: e.author, changes: e.changes, undecided: e.undecided, unreadable: e.unreadable }))).toEqual([
            { commit: commits[3], author: "Eve <eve@example.org>", changes: { ...none, added: ['["password"]'] }, undecided: [], unreadable: undefined },
            { commit: commits[2], author: "Eve <eve@example.org>", changes: { ...none, removed: ['["password"]'] }, undecided: [], unreadable: undefined },
            { commit: commits[1], author: "Eve <eve@example.org>", changes: { ...none, added: ['["password"]'] }, undecided: [], unreadable: undefined },
            { commit: commits[0], author: "Eve <eve@example.org>", changes: none, undecided: [], unreadable: "not a sops file" },
        ])
        // The plaintext revision's value is never in the history.
        expect(JSON.stringify(got)).not.toContain("hunter2")
    }, 60_000)

    it("refuses a file outside any git work tree with one clear line", async () => {
        const dir = tempDir()
        await expect(valueHistory(join(dir, "x.yaml"), { identities: [], env: { PATH: process.env.PATH ?? "", HOME: dir, GIT_CEILING_DIRECTORIES: dir } })).rejects.toThrow(
            /is not in a git work tree/,
        )
    })
})
