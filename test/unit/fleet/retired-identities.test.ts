/**
 * The retired section of a key file (issue 10 §2): `keys rotate` moves the old
 * identity there instead of deleting it; the file stays one that Debian's age and
 * age-keygen read in full; only the removal drops retired identities, and nothing
 * else.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { generateX25519Identity, type KeyPair } from "../../../src/keys/age.js"
import { parseIdentities } from "../../../src/keys/identity-file.js"
import { holdsIdentity, listRetired, retireIdentity, withoutRetired } from "../../../src/fleet/retired-identities.js"
import { run, tempDir } from "../../helpers/tmp.js"

let a: KeyPair
let b: KeyPair
let c: KeyPair
beforeAll(async () => {
    ;[a, b, c] = await Promise.all([generateX25519Identity(), generateX25519Identity(), generateX25519Identity()])
})

const DAY = new Date("2031-06-01T12:00:00Z")
const block = (k: KeyPair) => `# created: 2030-01-01T00:00:00Z\n# public key: ${k.recipient}\n${k.identity}\n`
const marker = (anchor: string) =>
    `# retired: ${anchor} on 2031-06-01 by secrets keys rotate (still opens old revisions; remove with \`secrets keys retired --remove\`)`

describe("retireIdentity", () => {
    it("moves the identity and its age-keygen comments under a marker at the end; other lines stay in place", async () => {
        const text = `${block(a)}# my other key\n${b.identity}\n`
        const r = await retireIdentity(text, a.recipient, { anchor: "user_alice", date: DAY })
        expect(r.retired).toBe(1)
        expect(r.text).toBe(`# my other key\n${b.identity}\n\n${marker("user_alice")}\n${block(a)}`)
        // Still a key file with both identities: nothing was deleted.
        expect(parseIdentities(r.text, "keys.txt")).toEqual([b.identity, a.identity])
        expect(await holdsIdentity(r.text, a.recipient)).toBe(true)
    })

    it("is idempotent, and leaves a file without that identity unchanged", async () => {
        const text = `${block(b)}${block(a)}`
        const once = await retireIdentity(text, a.recipient, { anchor: "user_alice", date: DAY })
        const twice = await retireIdentity(once.text, a.recipient, { anchor: "user_alice", date: new Date("2032-01-01T00:00:00Z") })
        expect(twice).toEqual({ text: once.text, retired: 0 })
        expect(await retireIdentity(text, c.recipient, { anchor: "x", date: DAY })).toEqual({ text, retired: 0 })
    })

    it("a file holding only that identity becomes just the retired section", async () => {
        const r = await retireIdentity(block(a), a.recipient, { anchor: "host_web1", date: DAY })
        expect(r.text).toBe(`${marker("host_web1")}\n${block(a)}`)
    })

    it("keeps a file Debian's age-keygen and age read in full", async () => {
        const dir = tempDir()
        const file = join(dir, "keys.txt")
        const r = await retireIdentity(`${block(a)}${block(b)}`, a.recipient, { anchor: "user_alice", date: DAY })
        writeFileSync(file, r.text, { mode: 0o600 })
        expect(run("age-keygen", ["-y", file]).toString().trim().split("\n")).toEqual([b.recipient, a.recipient])
        // A file encrypted to the retired recipient still opens with this key file.
        const sealed = run("age", ["-r", a.recipient], { input: "old revision\n" })
        expect(run("age", ["-d", "-i", file], { input: sealed }).toString()).toBe("old revision\n")
    })
})

describe("listRetired and withoutRetired", () => {
    it("list by recipient, anchor and date; removal drops only retired identities and keeps every other comment", async () => {
        let text = `# my laptop\n${block(a)}# kept on purpose\n${b.identity}\n${block(c)}`
        text = (await retireIdentity(text, a.recipient, { anchor: "user_alice", date: DAY })).text
        text = (await retireIdentity(text, c.recipient, { anchor: "host_web1", date: new Date("2031-07-02T00:00:00Z") })).text
        const listed = await listRetired(text)
        expect(listed.map((r) => [r.recipient, r.date, r.anchor])).toEqual([
            [a.recipient, "2031-06-01", "user_alice"],
            [c.recipient, "2031-07-02", "host_web1"],
        ])
        const { text: kept, removed } = await withoutRetired(text)
        expect(removed).toHaveLength(2)
        expect(kept).toBe(`# my laptop\n# kept on purpose\n${b.identity}\n`)
        expect(await listRetired(kept)).toEqual([])
    })

    it("an identity with a plain comment above it is not retired, nor is one under an orphaned marker separated by a blank line", async () => {
        const text = `# retired: user_old on 2020-01-01 by hand\n\n${b.identity}\n# retired-ish: no\n${a.identity}\n`
        expect(await listRetired(text)).toEqual([])
        expect((await withoutRetired(text)).text).toBe(text)
    })
})
