/**
 * `path:` links: made after the switch, through the stable link; moved when the
 * path changes; removed when dropped, only while they point into our tree; a
 * planted link at the path is replaced, never written through; a real file
 * there is refused before anything is built.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { activeGeneration, buildGeneration, switchGeneration, type DeployItem, type GenerationStore } from "../../../src/delivery/generations.js"
import { DAEMON, item, newStore, snapshot } from "./store-fixture.js"

async function deploy(store: GenerationStore, items: DeployItem[]): Promise<number> {
    const n = await buildGeneration(store, items)
    await switchGeneration(store, n)
    return n
}

describe("path links", () => {
    it("points at <root>/run/secrets/<name>, owned by the item's owner, and follows a rollback without being touched", async () => {
        const store = newStore()
        await deploy(store, [item("db", "v1", { link: "/etc/app/db-password", uid: DAEMON.uid, gid: DAEMON.gid })])
        const at = join(store.root, "etc/app/db-password")
        expect(readlinkSync(at)).toBe(join(store.root, "run/secrets/db"))
        expect(readFileSync(at, "utf8")).toBe("v1")
        const st = lstatSync(at)
        expect([st.uid, st.gid]).toEqual([DAEMON.uid, DAEMON.gid])
        const ino = st.ino

        await deploy(store, [item("db", "v2", { link: "/etc/app/db-password", uid: DAEMON.uid, gid: DAEMON.gid })])
        expect(readFileSync(at, "utf8")).toBe("v2")
        await switchGeneration(store, 1)
        expect(readFileSync(at, "utf8")).toBe("v1")
        // The same link all along: correct links are left alone.
        expect(lstatSync(at).ino).toBe(ino)
    })

    it("moves a link whose path changed and removes a dropped one", async () => {
        const store = newStore()
        await deploy(store, [item("a", "1", { link: "/etc/a-old" }), item("b", "2", { link: "/etc/b" })])
        await deploy(store, [item("a", "1", { link: "/etc/a-new" }), item("b", "2")])
        expect(existsSync(join(store.root, "etc/a-old"))).toBe(false)
        expect(existsSync(join(store.root, "etc/b"))).toBe(false)
        expect(readFileSync(join(store.root, "etc/a-new"), "utf8")).toBe("1")
        // Rolling back brings them back.
        await switchGeneration(store, 1)
        expect(readFileSync(join(store.root, "etc/a-old"), "utf8")).toBe("1")
        expect(readFileSync(join(store.root, "etc/b"), "utf8")).toBe("2")
        expect(existsSync(join(store.root, "etc/a-new"))).toBe(false)
    })

    it("leaves a dropped path alone once it no longer points into our tree", async () => {
        const store = newStore()
        await deploy(store, [item("a", "1", { link: "/etc/a" })])
        const at = join(store.root, "etc/a")
        const mine = join(store.root, "etc/my-own")
        writeFileSync(mine, "user's")
        // The admin repointed it at their own file meanwhile.
        const tmp = `${at}.new`
        symlinkSync(mine, tmp)
        renameSync(tmp, at)
        await deploy(store, [item("a", "1")])
        expect(readlinkSync(at)).toBe(mine)
    })

    it("replaces a link planted at the path without writing through it", async () => {
        const store = newStore()
        const victim = join(store.root, "etc/shadow")
        mkdirSync(join(store.root, "etc/app"), { recursive: true })
        writeFileSync(victim, "root:*:1::::::\n")
        symlinkSync(victim, join(store.root, "etc/app/token"))
        const before = snapshot(join(store.root, "etc"))
        await deploy(store, [item("token", "t0ken", { link: "/etc/app/token" })])
        expect(readFileSync(victim, "utf8")).toBe("root:*:1::::::\n")
        expect(readlinkSync(join(store.root, "etc/app/token"))).toBe(join(store.root, "run/secrets/token"))
        expect(snapshot(join(store.root, "etc")).filter((l) => !l.startsWith("./app/token "))).toEqual(before.filter((l) => !l.startsWith("./app/token ")))
    })

    it("refuses a real file at the path before building anything", async () => {
        const store = newStore()
        await deploy(store, [item("a", "1")])
        mkdirSync(join(store.root, "etc"), { recursive: true })
        writeFileSync(join(store.root, "etc/app.conf"), "hand-written")
        await expect(buildGeneration(store, [item("a", "2", { link: "/etc/app.conf" })])).rejects.toThrow(
            `"a": refusing to replace "${join(store.root, "etc/app.conf")}" with a link: it is a file, not a symbolic link`,
        )
        await expect(buildGeneration(store, [item("a", "2", { link: "/etc/app.conf/inside" })])).rejects.toThrow(
            `"a": cannot make a link at "${join(store.root, "etc/app.conf/inside")}": a directory on its path is a file`,
        )
        expect(readFileSync(join(store.root, "etc/app.conf"), "utf8")).toBe("hand-written")
        expect(existsSync(join(store.root, "run/secrets.d/2"))).toBe(false)
        expect(await activeGeneration(store)).toBe(1)
    })
})
