/**
 * The generation store on a real file system, as root (CI runs as root): real
 * owners (daemon, nobody), exact modes, the relative stable link, the manifest,
 * numbering, pruning and rollback.
 */
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import {
    activeGeneration,
    buildGeneration,
    listGenerations,
    pruneGenerations,
    readManifest,
    rollbackTarget,
    switchGeneration,
    withStoreLock,
} from "../../../src/delivery/generations.js"
import { run } from "../../helpers/tmp.js"
import { DAEMON, NOBODY, item, newStore } from "./store-fixture.js"

const sha = (s: string): string => (run("sha256sum", [], { input: s }).toString().split(" ")[0] ?? "")

describe("build and switch", () => {
    it("writes each file with its owner, group and exact mode, dirs 0751, and links secrets -> secrets.d/1", async () => {
        const store = newStore()
        const items = [
            item("db-password", "hunter2", { uid: DAEMON.uid, gid: DAEMON.gid, mode: 0o440, restartUnits: ["app.service"] }),
            item("nginx/site.conf", "server {}\n", { uid: NOBODY.uid, gid: NOBODY.gid, mode: 0o640, reloadUnits: ["nginx.service"] }),
            item("root-only", "x"),
        ]
        // A umask that would strip bits if the mode came from open(2): fchmod must not care.
        const old = process.umask(0o077)
        let n: number
        try {
            n = await buildGeneration(store, items)
        } finally {
            process.umask(old)
        }
        expect(n).toBe(1)
        // Built, not yet visible.
        expect(await activeGeneration(store)).toBeUndefined()
        await switchGeneration(store, n)

        const run_ = join(store.root, "run")
        expect(readlinkSync(join(run_, "secrets"))).toBe("secrets.d/1")
        expect(await activeGeneration(store)).toBe(1)
        const db = statSync(join(run_, "secrets/db-password"))
        expect([db.uid, db.gid, db.mode & 0o7777]).toEqual([DAEMON.uid, DAEMON.gid, 0o440])
        const site = statSync(join(run_, "secrets/nginx/site.conf"))
        expect([site.uid, site.gid, site.mode & 0o7777]).toEqual([NOBODY.uid, NOBODY.gid, 0o640])
        expect(statSync(join(run_, "secrets/root-only")).mode & 0o7777).toBe(0o400)
        for (const d of ["secrets.d", "secrets.d/1", "secrets.d/1/nginx"]) expect(statSync(join(run_, d)).mode & 0o7777).toBe(0o751)
        expect(readFileSync(join(run_, "secrets/db-password"), "utf8")).toBe("hunter2")
        // Once through a program nobody here wrote: owner and group names, octal mode.
        expect(run("stat", ["-c", "%U %G %a", join(run_, "secrets/db-password"), join(run_, "secrets/nginx/site.conf")]).toString()).toBe(
            "daemon daemon 440\nnobody nogroup 640\n".replace("nogroup", run("id", ["-gn", "nobody"]).toString().trim()),
        )

        const manifestPath = join(run_, "secrets.d/1/.manifest.json")
        const mst = statSync(manifestPath)
        expect([mst.uid, mst.mode & 0o7777]).toEqual([0, 0o400])
        const text = readFileSync(manifestPath, "utf8")
        expect(text).not.toContain("hunter2")
        const m = await readManifest(store, 1)
        expect(m?.items.map((i) => [i.name, i.sha256, i.mode, i.uid, i.gid])).toEqual([
            ["db-password", sha("hunter2"), 0o440, DAEMON.uid, DAEMON.gid],
            ["nginx/site.conf", sha("server {}\n"), 0o640, NOBODY.uid, NOBODY.gid],
            ["root-only", sha("x"), 0o400, 0, 0],
        ])
        expect(m?.items[0]?.restartUnits).toEqual(["app.service"])
        expect(m?.items[1]?.reloadUnits).toEqual(["nginx.service"])
    })

    it("keeps secrets and secrets-for-users apart", async () => {
        const store = newStore()
        const users = { ...store, base: "secrets-for-users" as const }
        await switchGeneration(store, await buildGeneration(store, [item("a", "1")]))
        await switchGeneration(users, await buildGeneration(users, [item("hash", "2")]))
        expect(readlinkSync(join(store.root, "run/secrets-for-users"))).toBe("secrets-for-users.d/1")
        expect(readFileSync(join(store.root, "run/secrets-for-users/hash"), "utf8")).toBe("2")
        expect(readFileSync(join(store.root, "run/secrets/a"), "utf8")).toBe("1")
    })
})

describe("numbering, pruning, rollback", () => {
    it("keeps the newest `keep` generations and never touches names that are not numbers", async () => {
        const store = newStore(2)
        mkdirSync(join(store.root, "run/secrets.d"), { recursive: true, mode: 0o751 })
        writeFileSync(join(store.root, "run/secrets.d/age-keys.txt"), "not ours")
        mkdirSync(join(store.root, "run/secrets.d/007"))
        for (const v of ["one", "two", "three"]) {
            const n = await buildGeneration(store, [item("v", v)])
            await switchGeneration(store, n)
            await pruneGenerations(store)
        }
        expect(await listGenerations(store)).toEqual([
            { n: 2, active: false, complete: true },
            { n: 3, active: true, complete: true },
        ])
        expect(readFileSync(join(store.root, "run/secrets.d/age-keys.txt"), "utf8")).toBe("not ours")
        expect(lstatSync(join(store.root, "run/secrets.d/007")).isDirectory()).toBe(true)
    })

    it("never prunes the active generation, nor the newer ones after a rollback", async () => {
        const store = newStore(2)
        for (const v of ["1", "2", "3", "4"]) await buildGeneration(store, [item("v", v)])
        await switchGeneration(store, 2)
        expect(await pruneGenerations(store)).toEqual([])
        await switchGeneration(store, 4)
        expect(await pruneGenerations(store)).toEqual([1, 2])
        expect((await listGenerations(store)).map((g) => g.n)).toEqual([3, 4])
    })

    it("rolls back to the previous complete generation, byte for byte, skipping an incomplete one", async () => {
        const store = newStore(5)
        await switchGeneration(store, await buildGeneration(store, [item("v", "first", { mode: 0o440, uid: DAEMON.uid })]))
        await switchGeneration(store, await buildGeneration(store, [item("v", "second")]))
        // A build that died after writing a file: a directory without a manifest.
        mkdirSync(join(store.root, "run/secrets.d/3"))
        writeFileSync(join(store.root, "run/secrets.d/3/v"), "half")
        await switchGeneration(store, await buildGeneration(store, [item("v", "third")]))
        // The dead build's number is reused: its directory removed and made again.
        expect(await activeGeneration(store)).toBe(3)
        expect(readFileSync(join(store.root, "run/secrets/v"), "utf8")).toBe("third")

        expect(await rollbackTarget(store)).toBe(2)
        await switchGeneration(store, 2)
        expect(readFileSync(join(store.root, "run/secrets/v"), "utf8")).toBe("second")
        expect(await rollbackTarget(store)).toBe(1)
        await switchGeneration(store, 1)
        const v = statSync(join(store.root, "run/secrets/v"))
        expect([readFileSync(join(store.root, "run/secrets/v"), "utf8"), v.mode & 0o777, v.uid]).toEqual(["first", 0o440, DAEMON.uid])
        await expect(rollbackTarget(store)).rejects.toThrow("no earlier generation to roll back to than the active 1")
    })

    it("never switches to an incomplete generation, and says so", async () => {
        const store = newStore()
        await switchGeneration(store, await buildGeneration(store, [item("v", "1")]))
        mkdirSync(join(store.root, "run/secrets.d/2"))
        await expect(switchGeneration(store, 2)).rejects.toThrow(/generation 2 .* is missing or incomplete/)
        await expect(rollbackTarget(store, 2)).rejects.toThrow("cannot roll back to generation 2: it is incomplete")
        await expect(rollbackTarget(store, 9)).rejects.toThrow("cannot roll back to generation 9: it is not there")
        expect(readlinkSync(join(store.root, "run/secrets"))).toBe("secrets.d/1")
        expect(await listGenerations(store)).toEqual([
            { n: 1, active: true, complete: true },
            { n: 2, active: false, complete: false },
        ])
    })

    it("reads a sops-nix style absolute link on / as the active generation", async () => {
        const store = newStore()
        await buildGeneration(store, [item("v", "1")])
        const link = join(store.root, "run/secrets")
        run("ln", ["-s", join(store.root, "run/secrets.d/1"), link])
        expect(await activeGeneration(store)).toBe(1)
    })
})

describe("withStoreLock", () => {
    it("lets two deploys at once each build and switch their own generation", async () => {
        const store = newStore(5)
        const deploy = (v: string) =>
            withStoreLock(store, async () => {
                const n = await buildGeneration(store, [...Array(20).keys()].map((i) => item(`f${i}`, `${v}-${i}`)))
                await switchGeneration(store, n)
                return n
            })
        const numbers = await Promise.all([deploy("a"), deploy("b")])
        expect(numbers.sort()).toEqual([1, 2])
        expect(await listGenerations(store)).toEqual([
            { n: 1, active: false, complete: true },
            { n: 2, active: true, complete: true },
        ])
    })
})
