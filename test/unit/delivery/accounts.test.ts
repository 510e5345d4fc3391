/**
 * Owner and group names from the target tree's etc/passwd and etc/group, else
 * the host's; numeric ids as is; an unknown name is an error naming the entry.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { loadAccounts, parseIdFile, resolveGroup, resolveUser } from "../../../src/delivery/accounts.js"
import { tempDir } from "../../helpers/tmp.js"
import { DAEMON } from "./store-fixture.js"

const where = `.sops.yaml: secrets.deploy.web1[0] ("db").owner`

describe("accounts", () => {
    it("reads <root>/etc/passwd and <root>/etc/group when the tree has them", async () => {
        const root = tempDir()
        mkdirSync(join(root, "etc"))
        writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n# comment\n+nis\napp:x:1234:4321::/:/bin/false\napp:x:999:999::/:/bin/false\nbroken:x:abc:1::/:\n")
        writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:4321:\nwheel:x:10:app\n")
        const db = await loadAccounts(root)
        expect(resolveUser(db, "app", where)).toBe(1234)
        expect(resolveGroup(db, "wheel", where)).toBe(10)
        expect(resolveGroup(db, { kind: "name", name: "app" }, where)).toBe(4321)
        expect(() => resolveUser(db, "broken", where)).toThrow(`${where}: no user "broken" in "${join(root, "etc/passwd")}"`)
        // The build machine's daemon is not the image's.
        expect(() => resolveUser(db, "daemon", where)).toThrow(`no user "daemon"`)
    })

    it("falls back to the host's files, separately for passwd and group", async () => {
        const root = tempDir()
        mkdirSync(join(root, "etc"))
        writeFileSync(join(root, "etc/group"), "svc:x:777:\n")
        const db = await loadAccounts(root)
        expect(db.passwdFile).toBe("/etc/passwd")
        expect(resolveUser(db, "daemon", where)).toBe(DAEMON.uid)
        expect(resolveGroup(db, "svc", where)).toBe(777)
        expect(() => resolveGroup(db, "daemon", where)).toThrow(`no group "daemon" in "${join(root, "etc/group")}"`)
    })

    it("takes numeric ids as they are, and refuses ids chown cannot take", async () => {
        const db = await loadAccounts(tempDir())
        expect(resolveUser(db, 4242, where)).toBe(4242)
        expect(resolveUser(db, "4242", where)).toBe(4242)
        expect(resolveGroup(db, { kind: "id", id: 0 }, where)).toBe(0)
        expect(resolveUser(db, "root", where)).toBe(0)
        expect(() => resolveUser(db, 4294967295, where)).toThrow(`${where}: 4294967295 is not a valid numeric uid`)
        const err = (() => {
            try {
                resolveUser(db, "no-such-user-here", where)
            } catch (e) {
                return e as { hints: string[] }
            }
        })()
        expect(err?.hints).toEqual(["create the user first (useradd), or give a numeric uid; users known only to LDAP/SSSD/NSS are not looked up"])
    })

    it("keeps the first line of a name, as glibc's files backend does", () => {
        expect([...parseIdFile("a:x:1:1\na:x:2:2\n-b\nc:x:99999999999:1\n", 2)]).toEqual([["a", 1]])
    })
})
